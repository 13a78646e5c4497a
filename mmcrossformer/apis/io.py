# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Frame sources (video file, image folder), readers of 2D keypoint files
(MMPose's inferencer prediction JSON, COCO-style prediction JSON, npy
arrays) and writers of the lifted results
(JSON, npz)."""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from .keypoints import H36M_KEYPOINTS, H36M_SKELETON
from .tracking import PoseInstance, Track

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


# ---------------------------------------------------------------- frames
class FrameSource:
    """Frames of a video file, an image folder or a single image, read
    lazily as BGR arrays. ``size`` is (w, h) of the first frame, ``fps``
    the video's (or ``default_fps``), ``names`` the image file names."""

    def __init__(self, path: str, default_fps: float = 25.) -> None:
        import cv2
        self.path = path
        self.names: Optional[List[str]] = None
        if osp.isdir(path):
            self.names = sorted(
                f for f in os.listdir(path)
                if f.lower().endswith(IMG_EXTENSIONS))
            if not self.names:
                raise FileNotFoundError(f'no images in the folder {path}')
            first = cv2.imread(osp.join(path, self.names[0]))
            self.num_frames = len(self.names)
            self.fps = default_fps
        elif path.lower().endswith(IMG_EXTENSIONS):
            self.names = [osp.basename(path)]
            self.path = osp.dirname(path) or '.'
            first = cv2.imread(path)
            self.num_frames = 1
            self.fps = default_fps
        else:
            cap = cv2.VideoCapture(path)
            if not cap.isOpened():
                raise FileNotFoundError(f'cannot open the video {path}')
            self.fps = cap.get(cv2.CAP_PROP_FPS) or default_fps
            self.num_frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            ok, first = cap.read()
            cap.release()
            if not ok:
                raise IOError(f'cannot read a frame of {path}')
        if first is None:
            raise IOError(f'cannot read {path}')
        self.size = (first.shape[1], first.shape[0])

    def __iter__(self) -> Iterator[Tuple[int, np.ndarray]]:
        import cv2
        if self.names is not None:
            for i, name in enumerate(self.names):
                yield i, cv2.imread(osp.join(self.path, name))
            return
        cap = cv2.VideoCapture(self.path)
        i = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                yield i, frame
                i += 1
        finally:
            cap.release()

    def __len__(self) -> int:
        return self.num_frames


# ---------------------------------------------------------------- readers
@dataclass
class KeypointFile:
    """2D keypoints read from a file: ``frames[t]`` lists the instances of
    frame t; ``tracked`` tells whether the file carried track ids."""
    frames: List[List[PoseInstance]]
    num_keypoints: int
    tracked: bool
    frame_names: Optional[List] = None
    extra: Dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frames)


def _observed(kpts: np.ndarray) -> bool:
    xy = kpts[..., :2]
    finite = np.isfinite(xy).all(-1)
    return bool(finite.any()
                and np.abs(np.where(finite[..., None], xy, 0)).sum() > 0)


def _read_json_list(path: str) -> list:
    """The non-empty list a keypoint JSON file holds (a COCO-style
    ``{"annotations": [...]}`` / ``{"predictions": [...]}`` is unwrapped)."""
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data.get('annotations', data.get('predictions'))
    if not isinstance(data, list) or not data:
        raise ValueError(f'{path}: expected a non-empty list of keypoint '
                         'predictions')
    return data


def load_coco_keypoints_json(path: str) -> KeypointFile:
    """A COCO-style keypoint prediction list ``[{image_id, category_id,
    keypoints: [x1, y1, s1, ...], score, [bbox xywh], [track_id]}, ...]``
    (``{"annotations": [...]}`` also accepted). Frames: integer image ids
    map to ``image_id - min(image_id)`` (frames without people stay empty);
    other ids are sorted."""
    return _coco_predictions(_read_json_list(path), path)


def _coco_predictions(data: list, path: str) -> KeypointFile:
    ids = [d['image_id'] for d in data]
    if all(isinstance(i, int) for i in ids):
        base = min(ids)
        index = {i: i - base for i in set(ids)}
        names = list(range(base, max(ids) + 1))
    else:
        names = sorted(set(ids), key=str)
        index = {i: n for n, i in enumerate(names)}
    frames: List[List[PoseInstance]] = [[] for _ in names]
    num_kpts = None
    tracked = all('track_id' in d for d in data)
    for d in data:
        kpts = np.asarray(d['keypoints'], dtype=np.float32)
        if kpts.size % 3:
            raise ValueError(f'{path}: "keypoints" must hold x, y, score '
                             f'triples, got {kpts.size} numbers')
        kpts = kpts.reshape(-1, 3)
        if num_kpts is None:
            num_kpts = len(kpts)
        elif len(kpts) != num_kpts:
            raise ValueError(f'{path}: instances with {num_kpts} and '
                             f'{len(kpts)} keypoints')
        bbox = None
        if 'bbox' in d and len(d['bbox']) >= 4:
            x, y, w, h = d['bbox'][:4]
            bbox = np.array([x, y, x + w, y + h], np.float32)
        frames[index[d['image_id']]].append(
            PoseInstance(kpts, bbox, float(d.get('score', 1.)),
                         int(d['track_id']) if tracked else -1))
    return KeypointFile(frames, num_kpts, tracked, names)


def load_mmpose_predictions_json(path: str) -> KeypointFile:
    """The prediction file of MMPose's inferencers
    (``demo/inferencer_demo.py --pred-out-dir``, ``MMPoseInferencer(...,
    pred_out_dir=...)``): for a video ``[{"frame_id": t, "instances":
    [inst, ...]}, ...]``, for an image ``[inst, ...]`` (one frame). Each
    ``inst`` is ``{"keypoints": [[x, y], ...] (K, 2), "keypoint_scores":
    [s, ...] (K, ), "bbox": [[x1, y1, x2, y2]], "bbox_score": s}`` as
    ``mmpose.structures.split_instances`` writes it (``bbox`` and
    ``bbox_score`` optional; instances that all carry ``track_id`` are
    taken as tracked).

    Raises:
        ValueError: 3D keypoints, instances with different keypoint
            counts, or keypoints and scores of different lengths.
    """
    return _mmpose_predictions(_read_json_list(path), path)


def _mmpose_predictions(data: list, path: str) -> KeypointFile:
    if 'instances' in data[0]:  # a video: one entry per frame
        ids = [int(d['frame_id']) for d in data]
        frames: List[List[PoseInstance]] = [[] for _ in range(max(ids) + 1)]
        entries = [(t, d['instances']) for t, d in zip(ids, data)]
    else:  # one image
        frames, entries = [[]], [(0, data)]
    insts = [inst for _, frame in entries for inst in frame]
    tracked = bool(insts) and all('track_id' in i for i in insts)
    num_kpts = None
    for t, frame in entries:
        for inst in frame:
            xy = np.asarray(inst['keypoints'], np.float32)
            scores = np.asarray(inst['keypoint_scores'], np.float32)
            if xy.ndim != 2 or xy.shape[1] != 2:
                raise ValueError(
                    f'{path}: frame {t}: "keypoints" must be (K, 2) pixel '
                    f'coordinates, got shape {xy.shape}'
                    + (' (3D predictions: give the 2D ones)'
                       if xy.ndim == 2 and xy.shape[1] == 3 else ''))
            if scores.shape != (len(xy), ):
                raise ValueError(
                    f'{path}: frame {t}: {len(xy)} keypoints but '
                    f'{scores.size} keypoint_scores')
            if num_kpts is None:
                num_kpts = len(xy)
            elif len(xy) != num_kpts:
                raise ValueError(f'{path}: instances with {num_kpts} and '
                                 f'{len(xy)} keypoints')
            bbox = inst.get('bbox')
            bbox = None if bbox is None else np.asarray(
                bbox, np.float32).reshape(-1)[:4]
            frames[t].append(
                PoseInstance(
                    np.concatenate([xy, scores[:, None]], -1), bbox,
                    float(inst.get('bbox_score', scores.mean())),
                    int(inst['track_id']) if tracked else -1))
    if num_kpts is None:
        raise ValueError(f'{path}: no person in any frame')
    return KeypointFile(frames, num_kpts, tracked,
                        list(range(len(frames))))


def load_keypoints_json(path: str) -> KeypointFile:
    """MMPose's inferencer predictions (entries with ``frame_id`` /
    ``keypoint_scores``, see :func:`load_mmpose_predictions_json`) or a
    COCO-style prediction list (entries with ``image_id``)."""
    data = _read_json_list(path)
    first = data[0] if isinstance(data[0], dict) else {}
    if 'instances' in first or 'keypoint_scores' in first:
        return _mmpose_predictions(data, path)
    if 'image_id' in first:
        return _coco_predictions(data, path)
    raise ValueError(
        f'{path}: neither MMPose inferencer predictions (a list of '
        '{"frame_id", "instances"} or of {"keypoints", "keypoint_scores"}) '
        'nor a COCO-style prediction list ({"image_id", "keypoints", ...}); '
        f'the first entry has keys {sorted(first)}')


def load_keypoints_npy(path: str, default_score: float = 1.) -> KeypointFile:
    """An array (T, K, 2|3) (one person) or (T, P, K, 2|3) (P people, slot p
    = track p) of pixel keypoints; all-NaN or all-zero slots are absent."""
    arr = np.load(path, allow_pickle=False)
    if arr.ndim == 3:
        arr = arr[:, None]
    if arr.ndim != 4 or arr.shape[-1] not in (2, 3):
        raise ValueError(f'{path}: expected keypoints (T, K, 2|3) or '
                         f'(T, P, K, 2|3), got {arr.shape}')
    arr = arr.astype(np.float32)
    if arr.shape[-1] == 2:
        arr = np.concatenate(
            [arr,
             np.full(arr.shape[:-1] + (1, ), default_score, np.float32)],
            axis=-1)
    frames = []
    for t in range(arr.shape[0]):
        insts = []
        for p in range(arr.shape[1]):
            if _observed(arr[t, p]):
                insts.append(PoseInstance(arr[t, p], track_id=p))
        frames.append(insts)
    return KeypointFile(frames, arr.shape[2], True)


def load_keypoints_file(path: str) -> KeypointFile:
    """Dispatch on the extension: ``.json`` (MMPose inferencer predictions
    or COCO style, see :func:`load_keypoints_json`) or ``.npy``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: an unsupported, empty, unreadable or malformed file,
            naming it.
    """
    ext = osp.splitext(path)[1].lower()
    readers = {'.json': load_keypoints_json, '.npy': load_keypoints_npy}
    if ext not in readers:
        raise ValueError(f'{path}: unsupported keypoint file (use the .json '
                         "that MMPose's inferencer writes with --pred-out-dir, "
                         'a COCO-style .json prediction list or an .npy '
                         'array)')
    if not osp.isfile(path):
        raise FileNotFoundError(f'keypoint file {path} does not exist')
    if osp.getsize(path) == 0:
        raise ValueError(f'keypoint file {path} is empty (0 bytes)')
    try:
        kpt_file = readers[ext](path)
    except (json.JSONDecodeError, EOFError, UnicodeDecodeError) as e:
        raise ValueError(f'keypoint file {path} is not readable: {e}') from e
    if not kpt_file.frames:
        raise ValueError(f'keypoint file {path} holds no frames')
    return kpt_file


# ---------------------------------------------------------------- results
@dataclass
class LiftResult:
    """Lifted poses in long format, one row per (frame, track), sorted by
    frame then track: ``frame_idx`` (M, ), ``track_id`` (M, ),
    ``keypoints_2d`` (M, K, 3) pixel x, y, score in the 2D layout,
    ``bboxes`` (M, 4) xyxy, ``keypoints_3d`` (M, 17, 3) root-relative."""
    frame_idx: np.ndarray
    track_id: np.ndarray
    keypoints_2d: np.ndarray
    bboxes: np.ndarray
    keypoints_3d: np.ndarray
    num_frames: int

    def __post_init__(self) -> None:
        order = np.lexsort((self.track_id, self.frame_idx))
        for name in ('frame_idx', 'track_id', 'keypoints_2d', 'bboxes',
                     'keypoints_3d'):
            setattr(self, name, np.asarray(getattr(self, name))[order])
        self._starts = np.searchsorted(self.frame_idx,
                                       np.arange(self.num_frames + 1))

    def __len__(self) -> int:
        return len(self.frame_idx)

    def frame(self, t: int) -> slice:
        """Rows of frame t."""
        return slice(self._starts[t], self._starts[t + 1])

    @property
    def track_ids(self) -> np.ndarray:
        return np.unique(self.track_id)

    @classmethod
    def from_tracks(cls, tracks: Sequence[Track], poses_3d: Dict[int,
                                                                 np.ndarray],
                    num_frames: int) -> 'LiftResult':

        def cat(values, shape):
            return np.concatenate(values) if values else np.zeros(shape)

        K = tracks[0].keypoints.shape[1] if tracks else 17
        return cls(
            cat([t.frames for t in tracks], (0, )).astype(np.int64),
            cat([np.full(len(t), t.track_id) for t in tracks],
                (0, )).astype(np.int64),
            cat([t.keypoints for t in tracks], (0, K, 3)).astype(np.float32),
            cat([t.bboxes for t in tracks], (0, 4)).astype(np.float32),
            cat([poses_3d[t.track_id] for t in tracks],
                (0, 17, 3)).astype(np.float32), num_frames)

    @classmethod
    def from_rows(cls, rows: List[Tuple[int, int, np.ndarray, np.ndarray,
                                        np.ndarray]], num_frames: int,
                  num_keypoints: int) -> 'LiftResult':
        """From ``(frame, track_id, keypoints_2d, bbox, keypoints_3d)``."""
        if not rows:
            return cls(
                np.zeros(0, np.int64), np.zeros(0, np.int64),
                np.zeros((0, num_keypoints, 3), np.float32),
                np.zeros((0, 4), np.float32), np.zeros((0, 17, 3), np.float32),
                num_frames)
        f, tid, k2, bb, k3 = zip(*rows)
        return cls(
            np.asarray(f, np.int64), np.asarray(tid, np.int64),
            np.stack(k2).astype(np.float32),
            np.stack(bb).astype(np.float32),
            np.stack(k3).astype(np.float32), num_frames)


def result_meta(**kwargs) -> dict:
    """The metadata stored beside the results."""
    meta = dict(
        keypoint_names_3d=list(H36M_KEYPOINTS),
        skeleton_3d=[list(s) for s in H36M_SKELETON],
        coordinates_3d=('root-relative camera frame of the training data: '
                        'x right, y down, z away from the camera (metres '
                        'for Human3.6M-trained models), pelvis at 0'),
        coordinates_2d='pixels x, y and the 2D score')
    meta.update(kwargs)
    return meta


def _round(a: np.ndarray, nd: int) -> list:
    return np.round(a.astype(np.float64), nd).tolist()


def save_json(result: LiftResult, path: str, meta: dict) -> None:
    """Per-frame, per-track JSON, written frame by frame: ``{"meta": ...,
    "frames": [{"frame_idx", "instances": [{"track_id", "bbox",
    "keypoints_2d", "keypoints_3d"}]}]}``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write('{"meta": ' + json.dumps(meta) + ',\n"frames": [\n')
        for t in range(result.num_frames):
            rows = result.frame(t)
            insts = [
                dict(
                    track_id=int(tid),
                    bbox=_round(bb, 2),
                    keypoints_2d=_round(k2, 2),
                    keypoints_3d=_round(k3, 5)) for tid, bb, k2, k3 in zip(
                        result.track_id[rows], result.bboxes[rows],
                        result.keypoints_2d[rows], result.keypoints_3d[rows])
            ]
            f.write(json.dumps(dict(frame_idx=t, instances=insts)))
            f.write(',\n' if t + 1 < result.num_frames else '\n')
        f.write(']}\n')


def save_npz(result: LiftResult, path: str, meta: dict) -> None:
    """The long-format arrays of :class:`LiftResult` plus ``meta`` (a JSON
    string) in an npz."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    np.savez_compressed(
        path,
        frame_idx=result.frame_idx,
        track_id=result.track_id,
        keypoints_2d=result.keypoints_2d,
        bboxes=result.bboxes,
        keypoints_3d=result.keypoints_3d,
        num_frames=np.int64(result.num_frames),
        meta=np.array(json.dumps(meta)))


__all__ = [
    'FrameSource', 'KeypointFile', 'LiftResult', 'load_coco_keypoints_json',
    'load_keypoints_file', 'load_keypoints_json', 'load_keypoints_npy',
    'load_mmpose_predictions_json', 'result_meta', 'save_json',
    'save_npz'
]
