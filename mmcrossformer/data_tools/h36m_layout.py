# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""MMPose's preprocessed Human3.6M layout: file names and the writer.

:func:`write_mmpose_h36m` writes the files that
``tools/dataset_converters/preprocess_h36m.py`` of MMPose produces and that
``mmpose.datasets.Human36mDataset`` reads::

    OUT_DIR/annotation_body3d/cameras.pkl
    OUT_DIR/annotation_body3d/fps50/h36m_{train,test}.npz
    OUT_DIR/annotation_body3d/fps50/joint{2,3}d{,_rel}_stats.pkl
    OUT_DIR/joint_2d_det_files/cpn_ft_h36m_dbb_{train,test}.npy

Used by the real-data converter (:mod:`.videopose3d`), the synthetic
generator (:mod:`.synthetic.h36m`) and the baselines of
:mod:`mmcrossformer.evaluation.baselines` (the path helpers).

``cameras.pkl`` stores MMPose's ``SimpleCamera`` convention (``R``
camera-to-world, ``T`` the camera centre); :func:`make_camera_param` and
:func:`camera_extrinsics` convert from and to the one convention of
:mod:`.camera` (``R`` world-to-camera).
"""
import os
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..datasets.h36m_skeleton import H36M_KEYPOINTS
from .files import save_npz, save_pickle

H36M_CAMERA_IDS = ('54138969', '55011271', '58860488', '60457274')
# (width, height) in pixels, per camera id.
H36M_IMAGE_SIZES: Dict[str, Tuple[int, int]] = {
    '54138969': (1000, 1002),
    '55011271': (1000, 1000),
    '58860488': (1000, 1000),
    '60457274': (1000, 1002),
}
TRAIN_SUBJECTS: Tuple[str, ...] = ('S1', 'S5', 'S6', 'S7', 'S8')
TEST_SUBJECTS: Tuple[str, ...] = ('S9', 'S11')
ALL_SUBJECTS: Tuple[str, ...] = TRAIN_SUBJECTS + TEST_SUBJECTS
NUM_JOINTS = len(H36M_KEYPOINTS)

ANN_DIR = 'annotation_body3d'
FPS_DIR = 'fps50'
DET_DIR = 'joint_2d_det_files'
CAMERA_FILE = f'{ANN_DIR}/cameras.pkl'
BBOX_SCALE_FACTOR = 1.2  # preprocess_h36m.py: scale = 1.2 * max(w, h) / 200


STATS_NAMES = ('joint3d_stats', 'joint2d_stats', 'joint3d_rel_stats',
               'joint2d_rel_stats')


def ann_file(split: str) -> str:
    """Relative path of the annotation npz of ``split`` ('train'/'test')."""
    return f'{ANN_DIR}/{FPS_DIR}/h36m_{split}.npz'


def ann_path(data_root: str, split: str) -> str:
    """Path of the annotation npz of ``split`` under ``data_root``."""
    return os.path.join(data_root, ann_file(split))


def stats_file(name: str) -> str:
    """Relative path of the statistics pickle ``name`` (of
    :data:`STATS_NAMES`)."""
    return f'{ANN_DIR}/{FPS_DIR}/{name}.pkl'


def det_file(split: str) -> str:
    """Relative path of the CPN-style 2D detection file of ``split``."""
    return f'{DET_DIR}/cpn_ft_h36m_dbb_{split}.npy'


def subject_split(subject: str) -> str:
    """'train' for S1/S5/S6/S7/S8, 'test' for S9/S11."""
    if subject in TRAIN_SUBJECTS:
        return 'train'
    if subject in TEST_SUBJECTS:
        return 'test'
    raise ValueError(f'subject {subject!r} is in neither the Human3.6M train '
                     f'split {TRAIN_SUBJECTS} nor the test split '
                     f'{TEST_SUBJECTS}')


def h36m_imgname(subject: str, action: str, camera_id: str, frame: int) -> str:
    """Image name of 0-based ``frame`` as written by preprocess_h36m.py.

    ``action`` is the Human3.6M sequence name, e.g. 'Walking 1' or
    'SittingDown'; spaces become underscores and frames are numbered from 1:
    ``S1/S1_Walking_1.54138969/S1_Walking_1.54138969_000001.jpg``.
    """
    seq = f'{subject}_{action.replace(" ", "_")}.{camera_id}'
    return f'{subject}/{seq}/{seq}_{frame + 1:06d}.jpg'


def bbox_center_scale(kpts_2d: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Box of the 2D keypoints (N, K, 2) -> center (N, 2), scale (N,)."""
    lo, hi = kpts_2d.min(axis=1), kpts_2d.max(axis=1)
    return (lo + hi) / 2, BBOX_SCALE_FACTOR * (hi - lo).max(axis=1) / 200


def _column(values: Sequence[float], n: int) -> np.ndarray:
    """(n,) values -> float64 column vector (n, 1)."""
    return np.asarray(values, np.float64).reshape(n, 1)


def make_camera_param(R: np.ndarray,
                      C: np.ndarray,
                      f: np.ndarray,
                      c: np.ndarray,
                      camera_id: str,
                      k: Optional[np.ndarray] = None,
                      p: Optional[np.ndarray] = None) -> dict:
    """One cameras.pkl entry, in the conventions of MMPose's SimpleCamera.

    Args:
        R: (3, 3) world-to-camera rotation (convention of :mod:`.camera`).
        C: (3,) camera centre in world coordinates, metres.
        f, c: (2,) focal length and principal point, pixels.
        camera_id: one of :data:`H36M_CAMERA_IDS`.
        k, p: (3,) radial and (2,) tangential distortion in MMPose order
            (zeros when omitted).

    The entry holds ``R`` = the camera-to-world rotation (``R.T``) and
    ``T`` = ``C``, so that ``X_cam = R_entry.T @ (X_world - T_entry)``.
    Arrays are float64, column vectors (T, f, c: (3|2, 1)) as in the real
    file.
    """
    w, h = H36M_IMAGE_SIZES[camera_id]
    return {
        'R': np.ascontiguousarray(np.asarray(R, np.float64).reshape(3, 3).T),
        'T': _column(C, 3),
        'c': _column(c, 2),
        'f': _column(f, 2),
        'k': _column(np.zeros(3) if k is None else k, 3),
        'p': _column(np.zeros(2) if p is None else p, 2),
        'w': w,
        'h': h,
        'name': f'camera{H36M_CAMERA_IDS.index(camera_id) + 1}',
        'id': camera_id,
    }


def camera_extrinsics(param: Mapping) -> Tuple[np.ndarray, np.ndarray]:
    """World-to-camera rotation (3, 3) and centre (3,) of a cameras.pkl
    entry, for :func:`.camera.world_to_camera_at`."""
    return param['R'].T, param['T'].reshape(3)


@dataclass
class CameraSequence:
    """One (subject, action, camera) video of the MMPose layout.

    Attributes:
        subject: 'S1' ... 'S11'.
        action: Human3.6M sequence name with subaction, e.g. 'Walking 1'.
        camera_id: one of :data:`H36M_CAMERA_IDS`.
        keypoints_3d: (T, 17, 3) camera coordinates, metres.
        keypoints_2d: (T, 17, 2) ground-truth pixels (becomes ``part``).
        detections: (T, 17, 3) detected x, y (pixels) and confidence, or None.
    """
    subject: str
    action: str
    camera_id: str
    keypoints_3d: np.ndarray
    keypoints_2d: np.ndarray
    detections: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        T = len(self.keypoints_3d)
        shapes = {
            'keypoints_3d': (self.keypoints_3d.shape, (T, NUM_JOINTS, 3)),
            'keypoints_2d': (self.keypoints_2d.shape, (T, NUM_JOINTS, 2)),
        }
        if self.detections is not None:
            shapes['detections'] = (self.detections.shape, (T, NUM_JOINTS, 3))
        for name, (got, want) in shapes.items():
            if got != want:
                raise ValueError(
                    f'{self.subject} {self.action} camera {self.camera_id}: '
                    f'{name} has shape {got}, expected {want}')


def _pose_stats(kpts: np.ndarray) -> dict:
    """Per-joint mean and std over samples: (N, K, D) -> 2 x (K, D)."""
    return {'mean': kpts.mean(axis=0), 'std': kpts.std(axis=0)}


def write_mmpose_h36m(
        out_dir: str, sequences: Sequence[CameraSequence],
        cameras: Mapping[Tuple[str, str], dict]) -> Dict[str, int]:
    """Write ``sequences`` and ``cameras`` in MMPose's Human3.6M layout.

    Each split (by subject) that has sequences gets ``h36m_{split}.npz`` with
    imgname (N,) str, center (N, 2), scale (N,), part (N, 17, 3) = GT 2D +
    1.0, S (N, 17, 4) = camera coordinates (metres) + 1.0, all float64, in
    the order of ``sequences``. If the split's sequences have detections,
    ``cpn_ft_h36m_dbb_{split}.npy`` (N, 17, 3) float32 is written sample-by-
    sample aligned with the npz. The train split also gets the four
    ``joint*_stats.pkl`` files of preprocess_h36m.py.

    Returns:
        Number of samples (frames x cameras) per written split.
    """
    by_split: Dict[str, List[CameraSequence]] = {'train': [], 'test': []}
    for seq in sequences:
        if (seq.subject, seq.camera_id) not in cameras:
            raise KeyError(f'no camera parameters for ({seq.subject!r}, '
                           f'{seq.camera_id!r})')
        by_split[subject_split(seq.subject)].append(seq)

    os.makedirs(os.path.join(out_dir, ANN_DIR, FPS_DIR), exist_ok=True)
    save_pickle(dict(cameras), os.path.join(out_dir, CAMERA_FILE))
    counts = {}
    for split, seqs in by_split.items():
        if not seqs:
            continue
        imgname = np.array([
            h36m_imgname(s.subject, s.action, s.camera_id, i) for s in seqs
            for i in range(len(s.keypoints_3d))
        ])
        kpts_2d = np.concatenate([s.keypoints_2d
                                  for s in seqs]).astype(np.float64)
        kpts_3d = np.concatenate([s.keypoints_3d
                                  for s in seqs]).astype(np.float64)
        ones = np.ones((len(imgname), NUM_JOINTS, 1))
        center, scale = bbox_center_scale(kpts_2d)
        save_npz(
            os.path.join(out_dir, ann_file(split)),
            dict(
                imgname=imgname,
                center=center,
                scale=scale,
                part=np.concatenate([kpts_2d, ones], axis=-1),
                S=np.concatenate([kpts_3d, ones], axis=-1)))
        counts[split] = len(imgname)

        with_det = [s.detections is not None for s in seqs]
        if all(with_det):
            os.makedirs(os.path.join(out_dir, DET_DIR), exist_ok=True)
            np.save(
                os.path.join(out_dir, det_file(split)),
                np.concatenate([s.detections
                                for s in seqs]).astype(np.float32))
        elif any(with_det):
            missing = next(s for s in seqs if s.detections is None)
            raise ValueError(
                f'{split} split: some sequences have 2D detections and some '
                f'do not (e.g. {missing.subject} {missing.action} camera '
                f'{missing.camera_id}); the detection file must cover every '
                'sample')

        if split == 'train':
            stats = {
                'joint3d_stats': _pose_stats(kpts_3d),
                'joint2d_stats': _pose_stats(kpts_2d),
                'joint3d_rel_stats':
                _pose_stats(kpts_3d[:, 1:] - kpts_3d[:, :1]),
                'joint2d_rel_stats':
                _pose_stats(kpts_2d[:, 1:] - kpts_2d[:, :1]),
            }
            for name, stat in stats.items():
                save_pickle(stat, os.path.join(out_dir, stats_file(name)))
    return counts
