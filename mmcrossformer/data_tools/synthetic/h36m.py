"""Synthetic Human3.6M in MMPose's preprocessed layout.

The module has two parts:

* **Layout** (also used by :mod:`.videopose3d_converter`): writes the files
  that ``tools/dataset_converters/preprocess_h36m.py`` of MMPose produces and
  that ``mmpose.datasets.Human36mDataset`` reads::

      OUT_DIR/annotation_body3d/cameras.pkl
      OUT_DIR/annotation_body3d/fps50/h36m_{train,test}.npz
      OUT_DIR/annotation_body3d/fps50/joint{2,3}d{,_rel}_stats.pkl
      OUT_DIR/joint_2d_det_files/cpn_ft_h36m_dbb_{train,test}.npy

* **Generator**: a seeded kinematic human (Human3.6M 17-joint skeleton,
  per-subject bone lengths) performing Walking, SittingDown, Purchases,
  Directions and Greeting, seen by 4 calibrated pinhole cameras, with
  detector-like 2D keypoints (joint-dependent noise, left/right swaps and
  jumps with low confidence).

World frame: metres, z up, floor at z = 0 (as in Human3.6M). Camera frame:
x right, y down, z forward.
"""
import json
import os
import pickle
import time
import zipfile
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d

# --------------------------------------------------------------------------
# MMPose Human3.6M layout
# --------------------------------------------------------------------------

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
NUM_JOINTS = 17
# Parent of each of the 17 Human3.6M joints (MMPose / VideoPose3D order).
H36M_PARENTS: Tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12,
                                 8, 14, 15)

ANN_DIR = 'annotation_body3d'
FPS_DIR = 'fps50'
DET_DIR = 'joint_2d_det_files'
CAMERA_FILE = f'{ANN_DIR}/cameras.pkl'
BBOX_SCALE_FACTOR = 1.2  # preprocess_h36m.py: scale = 1.2 * max(w, h) / 200


def ann_file(split: str) -> str:
    """Relative path of the annotation npz of ``split`` ('train'/'test')."""
    return f'{ANN_DIR}/{FPS_DIR}/h36m_{split}.npz'


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
                      T: np.ndarray,
                      f: np.ndarray,
                      c: np.ndarray,
                      camera_id: str,
                      k: Optional[np.ndarray] = None,
                      p: Optional[np.ndarray] = None) -> dict:
    """One cameras.pkl entry, in the conventions of MMPose's SimpleCamera.

    Args:
        R: (3, 3) camera-to-world rotation (columns = camera axes in world).
        T: (3,) camera centre in world coordinates, metres.
        f, c: (2,) focal length and principal point, pixels.
        camera_id: one of :data:`H36M_CAMERA_IDS`.
        k, p: (3,) radial and (2,) tangential distortion in MMPose order
            (zeros when omitted).

    So ``X_cam = R.T @ (X_world - T)``. Arrays are float64 column vectors
    (T, f, c: (3|2, 1)) as in the real file.
    """
    w, h = H36M_IMAGE_SIZES[camera_id]
    return {
        'R': np.asarray(R, np.float64).reshape(3, 3),
        'T': _column(T, 3),
        'c': _column(c, 2),
        'f': _column(f, 2),
        'k': _column(np.zeros(3) if k is None else k, 3),
        'p': _column(np.zeros(2) if p is None else p, 2),
        'w': w,
        'h': h,
        'name': f'camera{H36M_CAMERA_IDS.index(camera_id) + 1}',
        'id': camera_id,
    }


def world_to_camera(X: np.ndarray, param: Mapping) -> np.ndarray:
    """World points (..., 3) -> camera coordinates (..., 3) (metres)."""
    return (X - param['T'].reshape(3)) @ param['R']


def camera_to_world(X: np.ndarray, param: Mapping) -> np.ndarray:
    """Camera points (..., 3) -> world coordinates (..., 3) (metres)."""
    return X @ param['R'].T + param['T'].reshape(3)


def project_pinhole(X: np.ndarray, param: Mapping) -> np.ndarray:
    """Camera points (..., 3) -> pixels (..., 2), without distortion."""
    return (X[..., :2] / X[..., 2:]) * param['f'].reshape(2) + \
        param['c'].reshape(2)


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


def save_npz_deterministic(path: str, **arrays: np.ndarray) -> None:
    """``np.savez`` with fixed zip timestamps (same arrays -> same bytes)."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(
                f'{name}.npy', date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, 'w', force_zip64=True) as f:
                np.lib.format.write_array(
                    f, np.asanyarray(arr), allow_pickle=False)


def _pose_stats(kpts: np.ndarray) -> dict:
    """Per-joint mean and std over samples: (N, K, D) -> 2 x (K, D)."""
    return {'mean': kpts.mean(axis=0), 'std': kpts.std(axis=0)}


def _dump_pickle(obj: object, path: str) -> None:
    with open(path, 'wb') as f:
        pickle.dump(obj, f)


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
    _dump_pickle(dict(cameras), os.path.join(out_dir, CAMERA_FILE))
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
        save_npz_deterministic(
            os.path.join(out_dir, ann_file(split)),
            imgname=imgname,
            center=center,
            scale=scale,
            part=np.concatenate([kpts_2d, ones], axis=-1),
            S=np.concatenate([kpts_3d, ones], axis=-1))
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
            stats_dir = os.path.join(out_dir, ANN_DIR, FPS_DIR)
            stats = {
                'joint3d_stats': _pose_stats(kpts_3d),
                'joint2d_stats': _pose_stats(kpts_2d),
                'joint3d_rel_stats':
                _pose_stats(kpts_3d[:, 1:] - kpts_3d[:, :1]),
                'joint2d_rel_stats':
                _pose_stats(kpts_2d[:, 1:] - kpts_2d[:, :1]),
            }
            for name, stat in stats.items():
                _dump_pickle(stat, os.path.join(stats_dir, f'{name}.pkl'))
    return counts


# --------------------------------------------------------------------------
# Kinematic body model
# --------------------------------------------------------------------------

# Mean bone lengths in metres (roughly those of the Human3.6M subjects).
BONE_LENGTHS: Dict[str, float] = {
    'hip': 0.132,  # pelvis -> hip
    'thigh': 0.445,
    'shin': 0.445,
    'spine': 0.235,  # pelvis -> spine
    'chest': 0.250,  # spine -> thorax
    'neck': 0.115,  # thorax -> neck
    'head': 0.115,  # neck -> head
    'shoulder': 0.150,  # thorax -> shoulder
    'upper_arm': 0.280,
    'forearm': 0.250,
}
# Rest directions in the right-handed body frame (x = subject's right,
# y = forward, z = up) of the bones that are not simply 'down' in their
# segment frame; x is mirrored for the left side.
_REST_DIRS: Dict[str, Tuple[float, float, float]] = {
    'hip': (1.0, 0.0, -0.05),
    'spine': (0.0, -0.06, 1.0),
    'chest': (0.0, 0.08, 1.0),
    'neck': (0.0, 0.30, 1.0),
    'head': (0.0, -0.15, 1.0),
    'shoulder': (1.0, 0.0, -0.12),
}
_DOWN = np.array([0.0, 0.0, -1.0])
ANKLE_HEIGHT = 0.09  # metres above the floor (joint 'foot' is the ankle)

# Joint-angle tracks (degrees in key poses, radians after interpolation).
# Sides: _l / _r. Flexion moves a hanging limb forward; knee/elbow >= 0.
STAND_POSE: Dict[str, float] = {
    'yaw': 0.0, 'pelvis_rot': 0.0, 'roll': 0.0, 'lean': 3.0, 'bend': 0.0,
    'twist': 0.0, 'head_pitch': 5.0, 'head_yaw': 0.0,
    'hip_flex_l': 2.0, 'hip_flex_r': 2.0, 'hip_abd_l': 4.0, 'hip_abd_r': 4.0,
    'knee_l': 4.0, 'knee_r': 4.0,
    'sh_flex_l': 5.0, 'sh_flex_r': 5.0, 'sh_abd_l': 8.0, 'sh_abd_r': 8.0,
    'elbow_l': 12.0, 'elbow_r': 12.0,
}  # yapf: disable
TRACKS: Tuple[str, ...] = tuple(STAND_POSE)
_STAND_KEEP_YAW = {k: v for k, v in STAND_POSE.items() if k != 'yaw'}
Angles = Dict[str, np.ndarray]  # track name -> (T,) radians


@dataclass
class Body:
    """Subject-specific skeleton: bone name -> length (metres)."""
    bones: Dict[str, float]

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'Body':
        """Global stature factor U(0.92, 1.08) times per-bone N(1, 0.04)."""
        stature = rng.uniform(0.92, 1.08)
        return cls({
            name: length * stature * rng.normal(1.0, 0.04)
            for name, length in BONE_LENGTHS.items()
        })

    def offset(self, bone: str, side: float = 1.0) -> np.ndarray:
        """Rest bone vector (3,) of ``bone``; side=-1 mirrors to the left."""
        d = np.array(_REST_DIRS[bone]) * (side, 1.0, 1.0)
        return self.bones[bone] * d / np.linalg.norm(d)


def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) by ``angle`` (T,) radians about axis 0/1/2."""
    c, s = np.cos(angle), np.sin(angle)
    R = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1.0
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def forward_kinematics(body: Body, ang: Angles) -> np.ndarray:
    """Joint angles (radians, (T,) per track) -> joints (T, 17, 3).

    The pelvis is at the origin; axes are world-aligned after the ``yaw``
    heading (z up). Every bone is a rotated copy of a fixed-length vector, so
    bone lengths are exactly constant over time.
    """
    T = len(ang['yaw'])
    J = np.zeros((T, NUM_JOINTS, 3))
    R_hips = _rot(2, ang['yaw']) @ _rot(2, ang['pelvis_rot']) @ _rot(
        1, ang['roll'])
    R_spine = R_hips @ _rot(0, -ang['lean']) @ _rot(2, ang['twist'] / 2)
    R_chest = R_spine @ _rot(0, -ang['bend']) @ _rot(2, ang['twist'] / 2)
    R_head = R_chest @ _rot(0, -ang['head_pitch']) @ _rot(2, ang['head_yaw'])
    b = body.bones

    J[:, 7] = R_spine @ body.offset('spine')
    J[:, 8] = J[:, 7] + R_chest @ body.offset('chest')
    J[:, 9] = J[:, 8] + R_chest @ body.offset('neck')
    J[:, 10] = J[:, 9] + R_head @ body.offset('head')
    # (side sign, suffix, hip/knee/foot, shoulder/elbow/wrist)
    for sign, s, leg, arm in ((-1.0, 'l', (4, 5, 6), (11, 12, 13)),
                              (1.0, 'r', (1, 2, 3), (14, 15, 16))):
        R_thigh = R_hips @ _rot(0, ang[f'hip_flex_{s}']) @ _rot(
            1, -sign * ang[f'hip_abd_{s}'])
        R_shin = R_thigh @ _rot(0, -ang[f'knee_{s}'])
        J[:, leg[0]] = R_hips @ body.offset('hip', sign)
        J[:, leg[1]] = J[:, leg[0]] + R_thigh @ (b['thigh'] * _DOWN)
        J[:, leg[2]] = J[:, leg[1]] + R_shin @ (b['shin'] * _DOWN)

        R_upper = R_chest @ _rot(0, ang[f'sh_flex_{s}']) @ _rot(
            1, -sign * ang[f'sh_abd_{s}'])
        R_fore = R_upper @ _rot(0, ang[f'elbow_{s}'])
        J[:, arm[0]] = J[:, 8] + R_chest @ body.offset('shoulder', sign)
        J[:, arm[1]] = J[:, arm[0]] + R_upper @ (b['upper_arm'] * _DOWN)
        J[:, arm[2]] = J[:, arm[1]] + R_fore @ (b['forearm'] * _DOWN)
    return J


# --------------------------------------------------------------------------
# Motions
# --------------------------------------------------------------------------

FPS = 50


class _Timeline:
    """Key poses (time in s, full pose in degrees) built step by step."""

    def __init__(self, start: Mapping[str, float]):
        self.times: List[float] = [0.0]
        self.poses: List[Dict[str, float]] = [dict(start)]

    @property
    def end(self) -> float:
        return self.times[-1]

    @property
    def pose(self) -> Dict[str, float]:
        return self.poses[-1]

    def to(self, dt: float, **changes: float) -> None:
        """Reach the current pose updated with ``changes`` after ``dt`` s."""
        unknown = set(changes) - set(TRACKS)
        if unknown:
            raise KeyError(f'unknown joint-angle tracks {sorted(unknown)}')
        self.times.append(self.end + dt)
        self.poses.append({**self.pose, **changes})

    def tracks(self, t: np.ndarray) -> Angles:
        """Shape-preserving cubic interpolation at t (T,) seconds."""
        keys = np.array([[pose[name] for name in TRACKS]
                         for pose in self.poses])  # (K, tracks)
        curves = PchipInterpolator(self.times, np.deg2rad(keys))(
            np.clip(t, 0.0, self.end))
        return {name: curves[:, i] for i, name in enumerate(TRACKS)}


@dataclass
class Motion:
    """Joint-angle tracks (T,) in radians; root_xy (T, 2) world path of a
    locomotion, or None when the feet stay anchored on the spot."""
    angles: Angles
    root_xy: Optional[np.ndarray] = None


def _side(rng: np.random.Generator) -> str:
    return 'l' if rng.random() < 0.5 else 'r'


def _both(name: str, value: float) -> Dict[str, float]:
    return {f'{name}_l': value, f'{name}_r': value}


def _arm(side: str, flex: float, abd: float, elbow: float) -> Dict[str, float]:
    """Shoulder flexion/abduction and elbow flexion of one arm (degrees)."""
    return {
        f'sh_flex_{side}': flex,
        f'sh_abd_{side}': abd,
        f'elbow_{side}': elbow
    }


def _rest_arm(side: str) -> Dict[str, float]:
    """The arm of ``side`` as in :data:`STAND_POSE`."""
    return {k: STAND_POSE[k] for k in _arm(side, 0, 0, 0)}


def _smooth_noise(rng: np.random.Generator, shape: Tuple[int, ...],
                  sigma_frames: float) -> np.ndarray:
    """Unit-std noise (T, ...) low-pass filtered along axis 0."""
    x = gaussian_filter1d(rng.standard_normal(shape), sigma_frames, axis=0)
    return x / max(x.std(), 1e-12)


def _periodic_bump(phase: np.ndarray, center: float,
                   width: float) -> np.ndarray:
    """Gaussian bump of a cyclic phase (in cycles) around ``center``."""
    d = (phase - center + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width)**2)


def _walking(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Gait cycle while walking round an ellipse (1.0-1.4 m semi-major
    axis) at 1.0-1.4 m/s."""
    a, b = rng.uniform(1.0, 1.4), rng.uniform(0.7, 1.0)
    rot, direction = rng.uniform(0, 2 * np.pi), rng.choice([-1.0, 1.0])
    u = np.linspace(0, 2 * np.pi, 2049)
    pts = np.stack([a * np.cos(u), direction * b * np.sin(u)], -1)
    pts = pts @ np.array([[np.cos(rot), np.sin(rot)],
                          [-np.sin(rot), np.cos(rot)]])
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])  # arc length at u
    speed = rng.uniform(1.0,
                        1.4) * (1 + 0.08 * _smooth_noise(rng, t.shape, FPS))
    dist = rng.uniform(0, arc[-1]) + np.cumsum(speed) / FPS
    s = dist % arc[-1]
    root_xy = np.stack([np.interp(s, arc, pts[:, i]) for i in (0, 1)], -1)
    tangent = np.stack(
        [np.interp(s, arc, np.gradient(pts[:, i])) for i in (0, 1)], -1)
    heading = np.unwrap(np.arctan2(-tangent[:, 0], tangent[:, 1]))

    phase = dist / rng.uniform(1.25, 1.5) + rng.random()  # stride cycles
    hip_amp, arm_amp = rng.uniform(18, 24), rng.uniform(12, 22)
    knee_load, knee_swing = rng.uniform(10, 16), rng.uniform(50, 62)
    deg = {name: np.full(t.shape, v) for name, v in STAND_POSE.items()}
    for s_, ph in (('r', phase), ('l', phase + 0.5)):
        cyc = np.cos(2 * np.pi * ph)
        deg[f'hip_flex_{s_}'] = 6 + hip_amp * cyc
        deg[f'knee_{s_}'] = 4 + knee_load * _periodic_bump(
            ph, 0.13, 0.06) + knee_swing * _periodic_bump(ph, 0.72, 0.1)
        deg[f'hip_abd_{s_}'] = 3 + 2 * np.sin(2 * np.pi * ph)
        deg[f'sh_flex_{s_}'] = 4 - arm_amp * cyc
        deg[f'elbow_{s_}'] = 18 + 10 * (1 - cyc) / 2
    deg['pelvis_rot'] = 5 * np.cos(2 * np.pi * phase)
    deg['twist'] = -4 * np.cos(2 * np.pi * phase)
    deg['roll'] = 2 * np.sin(4 * np.pi * phase)
    deg['lean'] = np.full(t.shape, rng.uniform(3, 8))
    angles = {name: np.deg2rad(v) for name, v in deg.items()}
    angles['yaw'] = heading
    return Motion(angles, root_xy)


def _sitting_down(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Stand -> sit down on a chair -> sit -> stand up, repeated."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.4, 1.0))
        hip, knee = rng.uniform(80, 95), rng.uniform(85, 100)
        down = rng.uniform(1.2, 1.8)
        tl.to(
            down / 2,
            lean=rng.uniform(30, 40),
            **_both('hip_flex', hip / 2),
            **_both('knee', knee / 2),
            **_both('sh_flex', rng.uniform(15, 35)),
            **_both('elbow', rng.uniform(20, 40)))
        tl.to(
            down / 2,
            lean=rng.uniform(5, 15),
            **_both('hip_flex', hip),
            **_both('knee', knee),
            **_both('sh_flex', rng.uniform(25, 35)),
            **_both('elbow', rng.uniform(40, 60)))
        tl.to(
            rng.uniform(1.0, 2.0),
            lean=rng.uniform(0, 20),
            head_pitch=rng.uniform(-5, 20),
            head_yaw=rng.uniform(-20, 20))
        up = rng.uniform(1.2, 1.8)
        tl.to(
            up / 2,
            lean=rng.uniform(35, 45),
            **_both('hip_flex', hip * 0.6),
            **_both('knee', knee * 0.6),
            **_both('sh_flex', rng.uniform(20, 40)),
            head_yaw=0.0)
        tl.to(up / 2, **_STAND_KEEP_YAW)
    return Motion(tl.tracks(t))


def _purchases(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Turn to a shelf, reach forward/down with one arm, carry the item."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.3, 1.0))
        if rng.random() < 0.5:
            tl.to(
                rng.uniform(0.6, 1.0),
                yaw=tl.pose['yaw'] + rng.uniform(-40, 40))
        s = _side(rng)
        knee = rng.uniform(0, 25)
        tl.to(
            rng.uniform(0.7, 1.2),
            lean=rng.uniform(5, 35),
            twist=rng.uniform(5, 15) * (1 if s == 'r' else -1),
            head_pitch=rng.uniform(10, 35),
            **_both('knee', knee),
            **_both('hip_flex', 0.6 * knee),
            **_arm(s, rng.uniform(50, 110), rng.uniform(0, 30),
                   rng.uniform(5, 25)))
        tl.to(rng.uniform(0.2, 0.6))
        tl.to(
            rng.uniform(0.7, 1.2),
            lean=STAND_POSE['lean'],
            twist=0.0,
            head_pitch=STAND_POSE['head_pitch'],
            **_both('knee', 4.0),
            **_both('hip_flex', 2.0),
            **_arm(s, rng.uniform(15, 30), 10.0, rng.uniform(70, 95)))
    return Motion(tl.tracks(t))


def _directions(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Turn in place with small steps, then point with one arm."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.5, 1.2))
        turn = rng.uniform(60, 180) * rng.choice([-1.0, 1.0])
        tl.to(rng.uniform(1.2, 2.4), yaw=tl.pose['yaw'] + turn)
        s = _side(rng)
        tl.to(
            rng.uniform(0.6, 1.0),
            head_yaw=rng.uniform(-15, 15),
            **_arm(s, rng.uniform(60, 95), rng.uniform(0, 45),
                   rng.uniform(5, 20)))
        tl.to(rng.uniform(0.5, 1.5))
        tl.to(rng.uniform(0.6, 1.0), head_yaw=0.0, **_rest_arm(s))
    angles = tl.tracks(t)
    # One step per 45 degrees turned, feet alternating.
    turned = np.abs(np.diff(angles['yaw'], prepend=angles['yaw'][0]))
    steps = np.cumsum(turned) / np.deg2rad(45)
    lift = np.sin(np.pi * (steps % 1.0))**2
    left = np.floor(steps) % 2 == 0
    for s_, on in (('l', left), ('r', ~left)):
        angles[f'knee_{s_}'] += np.deg2rad(30) * lift * on
        angles[f'hip_flex_{s_}'] += np.deg2rad(15) * lift * on
    return Motion(angles)


def _greeting(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Waves, handshakes and bows."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.5, 1.5))
        s = _side(rng)
        kind = rng.integers(3)
        if kind == 0:  # wave: raised arm, oscillating elbow at ~2 Hz
            tl.to(
                rng.uniform(0.6, 0.9),
                **_arm(s, rng.uniform(10, 40), rng.uniform(70, 110), 50.0))
            for i in range(int(rng.integers(4, 9))):
                tl.to(
                    rng.uniform(0.2, 0.3),
                    **{f'elbow_{s}': 25.0 if i % 2 else 75.0})
        elif kind == 1:  # handshake: arm forward, pumping
            tl.to(
                rng.uniform(0.6, 0.9),
                lean=rng.uniform(5, 15),
                **{
                    f'sh_flex_{s}': 45.0,
                    f'elbow_{s}': rng.uniform(30, 45)
                })
            for i in range(int(rng.integers(3, 7))):
                tl.to(
                    rng.uniform(0.15, 0.25),
                    **{f'sh_flex_{s}': 38.0 if i % 2 else 52.0})
        else:  # bow
            tl.to(
                rng.uniform(0.6, 1.0),
                lean=rng.uniform(20, 40),
                head_pitch=rng.uniform(20, 30))
            tl.to(rng.uniform(0.5, 1.0))
        tl.to(rng.uniform(0.6, 1.0), **_STAND_KEEP_YAW)
    return Motion(tl.tracks(t))


ACTIONS: Dict[str, Callable[[np.random.Generator, np.ndarray], Motion]] = {
    'Walking': _walking,
    'SittingDown': _sitting_down,
    'Purchases': _purchases,
    'Directions': _directions,
    'Greeting': _greeting,
}


def simulate_sequence(body: Body, action: str, frames: int,
                      rng: np.random.Generator) -> np.ndarray:
    """World joint positions (frames, 17, 3) of ``body`` performing
    ``action`` at 50 fps; the lower ankle stays at :data:`ANKLE_HEIGHT`."""
    t = np.arange(frames) / FPS
    motion = ACTIONS[action](rng, t)
    sway = np.deg2rad(1.5) * _smooth_noise(rng, (len(t), len(TRACKS)), FPS / 4)
    angles = {
        name: motion.angles[name] + sway[:, i]
        for i, name in enumerate(TRACKS)
    }
    if motion.root_xy is None:  # random facing direction
        angles['yaw'] += rng.uniform(0, 2 * np.pi)
    for name in ('knee_l', 'knee_r', 'elbow_l', 'elbow_r'):
        angles[name] = np.maximum(angles[name], 0.0)

    joints = forward_kinematics(body, angles)
    feet = joints[:, [3, 6]]
    if motion.root_xy is None:  # feet centroid anchored on the spot
        anchor = rng.uniform(-0.6, 0.6, size=2)
        root_xy = anchor - feet[..., :2].mean(axis=1)
    else:
        root_xy = motion.root_xy
    root_z = ANKLE_HEIGHT - feet[..., 2].min(axis=1)
    root = np.concatenate([root_xy, root_z[:, None]], axis=-1)
    return joints + root[:, None]


# --------------------------------------------------------------------------
# Cameras and detections
# --------------------------------------------------------------------------

_CAMERA_AZIMUTHS_DEG = (70.0, -70.0, 110.0, -110.0)  # as in Human3.6M
# Per-joint detector noise (pixels, 1 sigma) for a subject 5 m away.
DETECTION_SIGMA_PX = np.array([
    3.5, 3.5, 3.0, 3.5, 3.5, 3.0, 3.5, 4.0, 3.0, 2.5, 2.5, 2.5, 3.5, 5.0, 2.5,
    3.5, 5.0
])
# Typical confidence of a correct detection per joint.
DETECTION_BASE_CONF = np.array([
    0.92, 0.90, 0.93, 0.91, 0.90, 0.93, 0.91, 0.90, 0.94, 0.95, 0.95, 0.94,
    0.91, 0.85, 0.94, 0.91, 0.85
])
_SWAP_GROUPS = ((2, 5), (3, 6), (12, 15), (13, 16))  # (left, right) pairs
_JUMP_JOINTS = (2, 3, 5, 6, 10, 12, 13, 15, 16)


def look_at_rotation(position: np.ndarray,
                     target: np.ndarray,
                     roll: float = 0.0) -> np.ndarray:
    """Camera-to-world rotation (3, 3) of a camera at ``position`` looking
    at ``target`` (z up in the world; image y points down)."""
    z = target - position
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z], axis=1)
    return R @ _rot(2, np.array(roll))


def make_cameras(subject: str, seed: int) -> Dict[Tuple[str, str], dict]:
    """The 4 cameras of ``subject``: intrinsics shared by all subjects
    (f ~ 1145-1150 px, c ~ image centre), extrinsics per subject (4.4-5.3 m
    from the capture centre, 1.45-1.65 m high, in the 4 room corners)."""
    cams = {}
    rng_sub = np.random.default_rng([seed, _subject_number(subject), 1])
    for i, cam_id in enumerate(H36M_CAMERA_IDS):
        rng_int = np.random.default_rng([seed, 0, 2, i])
        f = rng_int.uniform(1143, 1150) + rng_int.uniform(-2, 2, size=2)
        c = np.array(H36M_IMAGE_SIZES[cam_id]) / 2 + rng_int.uniform(
            -8, 20, size=2)
        az = np.deg2rad(_CAMERA_AZIMUTHS_DEG[i] + rng_sub.uniform(-4, 4))
        dist = rng_sub.uniform(4.4, 5.3)
        pos = np.array([
            dist * np.cos(az), dist * np.sin(az),
            rng_sub.uniform(1.45, 1.65)
        ])
        target = np.array(
            [*rng_sub.normal(0, 0.15, 2),
             rng_sub.uniform(0.5, 0.8)])
        R = look_at_rotation(pos, target, np.deg2rad(rng_sub.normal(0, 1)))
        cams[(subject, cam_id)] = make_camera_param(R, pos, f, c, cam_id)
    return cams


def simulate_detections(
        rng: np.random.Generator,
        kpts_2d: np.ndarray,
        depth: np.ndarray,
        outlier_rate: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Detector-like 2D keypoints from the ground truth.

    Args:
        kpts_2d: (T, 17, 2) ground-truth pixels.
        depth: (T,) root depth in metres (noise scales with 1 / depth).
        outlier_rate: mean number of outlier events per second.

    Returns:
        (T, 17, 3) x, y, confidence in [0, 1] and the (T, 17) bool mask of
        outliers (left/right swaps of a limb, or a joint jumping 25-80 px),
        which get confidences in [0.05, 0.45].
    """
    T = len(kpts_2d)
    sigma = DETECTION_SIGMA_PX * (5.0 / depth)[:, None]  # (T, 17)
    unit = 0.6 * rng.standard_normal((T, NUM_JOINTS, 2)) + \
        0.8 * _smooth_noise(rng, (T, NUM_JOINTS, 2), 3.0)
    det = kpts_2d + sigma[..., None] * unit
    outlier = np.zeros((T, NUM_JOINTS), bool)
    for _ in range(rng.poisson(outlier_rate * T / FPS)):
        start = int(rng.integers(T))
        sl = slice(start, min(T, start + int(rng.integers(1, 9))))
        if rng.random() < 0.5:
            left, right = _SWAP_GROUPS[rng.integers(len(_SWAP_GROUPS))]
            det[sl, [left, right]] = det[sl, [right, left]]
            outlier[sl, [left, right]] = True
        else:
            j = _JUMP_JOINTS[rng.integers(len(_JUMP_JOINTS))]
            angle = rng.uniform(0, 2 * np.pi)
            jump = rng.uniform(25, 80) * np.array(
                [np.cos(angle), np.sin(angle)])
            det[sl, j] += jump * 5.0 / depth[sl, None]
            outlier[sl, j] = True
    err = np.linalg.norm(unit, axis=-1)  # in sigmas
    conf = DETECTION_BASE_CONF - 0.03 * err + rng.normal(0, 0.02, err.shape)
    conf[outlier] = rng.uniform(0.05, 0.45, outlier.sum())
    return np.concatenate([det, np.clip(conf, 0, 1)[..., None]], -1), outlier


# --------------------------------------------------------------------------
# Dataset generation
# --------------------------------------------------------------------------

MANIFEST = 'synthetic_h36m.json'
GENERATOR_VERSION = 2  # bump whenever the output of the same arguments changes


def _subject_number(subject: str) -> int:
    if subject not in ALL_SUBJECTS:
        raise ValueError(f'unknown subject {subject!r}; Human3.6M subjects '
                         f'with annotations are {ALL_SUBJECTS}')
    return int(subject[1:])


def sequence_name(action: str, subaction: int) -> str:
    """Human3.6M-style sequence name: 'Walking', 'Walking 1', ..."""
    return action if subaction == 0 else f'{action} {subaction}'


def subject_body(subject: str, seed: int) -> Body:
    """Bone lengths of ``subject`` (independent of the other arguments)."""
    return Body.sample(
        np.random.default_rng([seed, _subject_number(subject), 0]))


def synthesize_sequences(
        seed: int, frames: int, subactions: int, subjects: Sequence[str],
        actions: Sequence[str]) -> Tuple[List[CameraSequence], dict]:
    """All camera sequences and the cameras dict, before writing.

    Every random stream is keyed by (seed, subject, action, subaction,
    camera), so e.g. adding a subject does not change the others.
    """
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f'unknown actions {unknown}; choose from '
                         f'{list(ACTIONS)}')
    if frames < 1 or subactions < 1:
        raise ValueError(f'frames ({frames}) and subactions ({subactions}) '
                         'must be >= 1')
    sequences, cameras = [], {}
    for subject in subjects:
        body = subject_body(subject, seed)
        cams = make_cameras(subject, seed)
        cameras.update(cams)
        for action in actions:
            for sub in range(subactions):
                key = [
                    seed,
                    _subject_number(subject), 3,
                    list(ACTIONS).index(action), sub
                ]
                world = simulate_sequence(body, action, frames,
                                          np.random.default_rng(key))
                for c, cam_id in enumerate(H36M_CAMERA_IDS):
                    param = cams[(subject, cam_id)]
                    X = world_to_camera(world, param)
                    uv = project_pinhole(X, param)
                    det, _ = simulate_detections(
                        np.random.default_rng(key + [c]), uv, X[:, 0, 2])
                    sequences.append(
                        CameraSequence(subject, sequence_name(action, sub),
                                       cam_id, X, uv, det))
    return sequences, cameras


def _read_manifest(out_dir: str) -> Optional[dict]:
    """The manifest in ``out_dir`` if it is of this generator version and
    every file it lists exists with the recorded size, else None."""
    try:
        with open(os.path.join(out_dir, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return None
    if manifest.get('version') != GENERATOR_VERSION:
        return None
    for rel, size in manifest.get('files', {}).items():
        path = os.path.join(out_dir, rel)
        if not os.path.isfile(path) or os.path.getsize(path) != size:
            return None
    return manifest


def generate_h36m(out_dir: str,
                  *,
                  seed: int = 0,
                  frames: int = 300,
                  subactions: int = 2,
                  subjects: Sequence[str] = ALL_SUBJECTS,
                  actions: Sequence[str] = tuple(ACTIONS),
                  force: bool = False) -> dict:
    """Write a synthetic Human3.6M to ``out_dir`` in MMPose's layout.

    Samples per split = len(split subjects) * len(actions) * subactions *
    frames * 4 cameras; the defaults give 60000 train and 24000 test frames.
    Nothing is written when ``out_dir`` holds a manifest with the same
    arguments and all files of that manifest (unless ``force``).

    Returns:
        The manifest: arguments, samples per split, file sizes, plus
        'skipped' (bool) and 'seconds'.
    """
    args = {
        'seed': seed,
        'frames': frames,
        'subactions': subactions,
        'subjects': list(subjects),
        'actions': list(actions),
    }
    manifest_path = os.path.join(out_dir, MANIFEST)
    if not force:
        old = _read_manifest(out_dir)
        if old is not None and old['args'] == args:
            return {**old, 'skipped': True, 'seconds': 0.0}

    start = time.perf_counter()
    if os.path.exists(manifest_path):
        os.remove(manifest_path)
    sequences, cameras = synthesize_sequences(seed, frames, subactions,
                                              subjects, actions)
    counts = write_mmpose_h36m(out_dir, sequences, cameras)
    files = [CAMERA_FILE]
    for split in counts:
        files += [ann_file(split), det_file(split)]
    if 'train' in counts:
        files += [
            f'{ANN_DIR}/{FPS_DIR}/{name}.pkl'
            for name in ('joint3d_stats', 'joint2d_stats', 'joint3d_rel_stats',
                         'joint2d_rel_stats')
        ]
    manifest = {
        'generator': __name__,
        'version': GENERATOR_VERSION,
        'args': args,
        'samples': counts,
        'files': {
            p: os.path.getsize(os.path.join(out_dir, p))
            for p in files
        },
    }
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)
    return {
        **manifest, 'skipped': False,
        'seconds': time.perf_counter() - start
    }
