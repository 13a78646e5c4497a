# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Per-frame 2D pose instances, greedy frame-to-frame tracking and grouping
of the tracked instances into per-person tracks."""
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from .keypoints import bbox_from_keypoints


@dataclass
class PoseInstance:
    """One person in one frame: ``keypoints`` (K, 3) pixel x, y and score in
    the layout of the 2D source, ``bbox`` (4, ) xyxy pixels, ``track_id``
    (-1 until tracked)."""
    keypoints: np.ndarray
    bbox: Optional[np.ndarray] = None
    score: float = 1.
    track_id: int = -1

    def __post_init__(self) -> None:
        kpts = np.asarray(self.keypoints, dtype=np.float32)
        if kpts.ndim != 2 or kpts.shape[-1] not in (2, 3):
            raise ValueError('PoseInstance keypoints must be (K, 2) or '
                             f'(K, 3), got {kpts.shape}')
        if kpts.shape[-1] == 2:
            kpts = np.concatenate(
                [kpts, np.ones((len(kpts), 1), np.float32)], axis=-1)
        self.keypoints = kpts
        if self.bbox is None:
            self.bbox = bbox_from_keypoints(kpts)
        self.bbox = np.asarray(self.bbox, dtype=np.float32)[:4]


@dataclass
class Track:
    """The instances of one person: ``frames`` (n, ) ascending frame
    indices, ``keypoints`` (n, K, 3), ``bboxes`` (n, 4)."""
    track_id: int
    frames: np.ndarray
    keypoints: np.ndarray
    bboxes: np.ndarray
    scores: np.ndarray = field(default=None)

    def __len__(self) -> int:
        return len(self.frames)


def bbox_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (N, M) of xyxy boxes a (N, 4) and b (M, 4); NaN boxes
    overlap nothing."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
    union = area_a[:, None] + area_b[None] - inter
    iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.)
    return np.nan_to_num(iou, nan=0.)


def keypoint_similarity(a: np.ndarray,
                        b: np.ndarray,
                        areas: np.ndarray,
                        sigma: float = 0.08,
                        kpt_thr: float = 0.3) -> np.ndarray:
    """OKS-like similarity (N, M) of keypoint sets a (N, K, 3) and b
    (M, K, 3): the mean over the joints scored above ``kpt_thr`` in both of
    exp(-d^2 / (2 * area * (2 * sigma)^2)), ``areas`` (M, ) of b's boxes."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    d2 = ((a[:, None, :, :2] - b[None, :, :, :2])**2).sum(-1)  # (N, M, K)
    var = np.maximum(np.asarray(areas, np.float64), 1.)[None, :,
                                                        None] * (2 * sigma)**2
    sim = np.exp(-d2 / (2 * var))
    valid = (a[:, None, :, 2] > kpt_thr) & (b[None, :, :, 2] > kpt_thr)
    valid &= np.isfinite(d2)
    num = np.where(valid, sim, 0.).sum(-1)
    cnt = valid.sum(-1)
    return np.where(cnt > 0, num / np.maximum(cnt, 1), 0.)


class GreedyTracker:
    """Frame-to-frame greedy matching: the most similar (detection, track)
    pair above ``thr`` is matched first; unmatched detections open new
    tracks. Tracks unseen for more than ``max_age`` frames are closed.

    Args:
        mode (str): ``'iou'`` (box IoU) or ``'kpt'`` (OKS-like keypoint
            similarity).
        thr (float): Minimum similarity of a match.
        max_age (int): Frames a track survives without a match.
    """

    def __init__(self,
                 mode: str = 'iou',
                 thr: float = 0.3,
                 max_age: int = 10) -> None:
        if mode not in ('iou', 'kpt'):
            raise ValueError(f"tracking mode must be 'iou' or 'kpt', got "
                             f'{mode!r}')
        self.mode, self.thr, self.max_age = mode, thr, max_age
        self.reset()

    def reset(self) -> None:
        self.next_id = 0
        self._tracks: Dict[int, Tuple[int, PoseInstance]] = {}
        self._frame = -1

    def _similarity(self, dets: Sequence[PoseInstance],
                    prev: Sequence[PoseInstance]) -> np.ndarray:
        det_boxes = np.stack([d.bbox for d in dets])
        prev_boxes = np.stack([p.bbox for p in prev])
        if self.mode == 'iou':
            return bbox_iou(det_boxes, prev_boxes)
        if any(d.keypoints.shape != prev[0].keypoints.shape
               for d in list(dets) + list(prev)):
            raise ValueError('keypoint tracking needs instances with the '
                             'same number of keypoints')
        areas = np.prod(
            np.clip(prev_boxes[:, 2:] - prev_boxes[:, :2], 0, None), axis=-1)
        return keypoint_similarity(
            np.stack([d.keypoints for d in dets]),
            np.stack([p.keypoints for p in prev]), np.nan_to_num(areas))

    def update(self,
               instances: Sequence[PoseInstance],
               frame_idx: Optional[int] = None) -> List[int]:
        """Assign (and return) the track ids of one frame's instances."""
        self._frame = self._frame + 1 if frame_idx is None else frame_idx
        self._tracks = {
            tid: (seen, inst)
            for tid, (seen, inst) in self._tracks.items()
            if self._frame - seen <= self.max_age
        }
        ids = [-1] * len(instances)
        if instances and self._tracks:
            tids = list(self._tracks)
            sim = self._similarity(instances,
                                   [self._tracks[t][1] for t in tids])
            sim = np.where(sim >= self.thr, sim, -1.)
            while sim.size and sim.max() >= 0:
                i, j = np.unravel_index(np.argmax(sim), sim.shape)
                ids[i] = tids[j]
                sim[i, :], sim[:, j] = -1., -1.
        for i, inst in enumerate(instances):
            if ids[i] == -1:
                ids[i] = self.next_id
                self.next_id += 1
            inst.track_id = ids[i]
            self._tracks[ids[i]] = (self._frame, inst)
        return ids


def group_tracks(
        frames: Iterable[Tuple[int, Sequence[PoseInstance]]]) -> List[Track]:
    """Gather tracked per-frame instances ``(frame_idx, instances)`` into
    tracks sorted by id. A track id seen twice in a frame keeps the higher
    scored instance."""
    rows: Dict[int, Dict[int, PoseInstance]] = {}
    for frame_idx, instances in frames:
        for inst in instances:
            if inst.track_id < 0:
                raise ValueError(f'frame {frame_idx}: an instance has no '
                                 'track id; run a tracker first')
            per_frame = rows.setdefault(int(inst.track_id), {})
            old = per_frame.get(int(frame_idx))
            if old is None or inst.score > old.score:
                per_frame[int(frame_idx)] = inst
    tracks = []
    for tid in sorted(rows):
        fr = sorted(rows[tid])
        insts = [rows[tid][f] for f in fr]
        tracks.append(
            Track(
                track_id=tid,
                frames=np.asarray(fr, dtype=np.int64),
                keypoints=np.stack([i.keypoints for i in insts]),
                bboxes=np.stack([i.bbox for i in insts]),
                scores=np.asarray([i.score for i in insts], np.float32)))
    return tracks


__all__ = [
    'GreedyTracker', 'PoseInstance', 'Track', 'bbox_iou', 'group_tracks',
    'keypoint_similarity'
]
