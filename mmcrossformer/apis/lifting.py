# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
# Over 400 lines: windows, batched and online lifting share the Lifter's
# model, layout conversion and normalisation.
"""Lifting 2D keypoint sequences to 3D with a CrossFormer (or any
``PoseLifter`` whose backbone takes (B, F, J, C) windows).

* :func:`window_offsets` / :func:`window_indices` -- the frames of the window
  of a target frame: centred on it, or ending at it (causal); frames outside
  the sequence replicate its first / last frame (edge padding).
* :func:`iter_window_batches` -- windows generated lazily, ``batch_size`` at a
  time, over one or many sequences: memory is bounded by the batch, not by
  the sequence length.
* :class:`Lifter` -- the model, its window length / causal flag / flip test
  read from the config, batched lifting of sequences and of tracks.
* :class:`OnlineLifter` -- causal, frame-by-frame lifting of a stream with
  per-frame latency statistics.
"""
import time
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..datasets.h36m_skeleton import H36M_FLIP_INDICES
from ..datasets.windows import target_index, window_offsets
from ..models.heads.crossformer_head import flip_average, flip_pose
from ..models.inputs import check_finite_keypoints
from .keypoints import (convert_keypoints, normalize_screen,
                        normalize_to_dataset_bbox)
from .tracking import Track

NORM_MODES = ('screen', 'bbox')


# ---------------------------------------------------------------- windows
def window_indices(targets: Union[np.ndarray, Sequence[int]],
                   num_frames: int,
                   seq_len: int,
                   causal: bool,
                   step: int = 1) -> np.ndarray:
    """Frame indices (B, F) of the windows of ``targets`` in a sequence of
    ``num_frames``; indices past either end are clipped, i.e. the first /
    last frame is replicated (edge padding)."""
    targets = np.asarray(targets, dtype=np.int64)
    idx = targets[:, None] + window_offsets(seq_len, causal, step)[None]
    return np.clip(idx, 0, num_frames - 1)


@dataclass
class WindowBatch:
    """``windows`` (B, F, J, C) of the targets ``targets`` (B, ) of the
    sequences ``seq_index`` (B, )."""
    seq_index: np.ndarray
    targets: np.ndarray
    windows: np.ndarray

    def __len__(self) -> int:
        return len(self.targets)


def iter_window_batches(
        sequences: Union[np.ndarray, Sequence[np.ndarray]],
        seq_len: int,
        causal: bool,
        batch_size: int = 256,
        step: int = 1,
        targets: Optional[Sequence[np.ndarray]] = None
) -> Iterator[WindowBatch]:
    """Yield the edge-padded windows of every frame (or of ``targets[i]``) of
    each sequence (T_i, J, C), at most ``batch_size`` windows at a time. A
    batch may hold windows of several sequences; windows are cut only when
    their batch is yielded, so memory stays O(batch_size * F * J * C)."""
    if isinstance(sequences, np.ndarray):
        sequences = [sequences]
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    offsets = window_offsets(seq_len, causal, step)
    pending: List[Tuple[int, np.ndarray]] = []
    count = 0

    def make() -> WindowBatch:
        seq_ids, tgts, wins = [], [], []
        for s, tg in pending:
            seq = sequences[s]
            idx = np.clip(tg[:, None] + offsets[None], 0, len(seq) - 1)
            wins.append(np.asarray(seq[idx], dtype=np.float32))
            tgts.append(tg)
            seq_ids.append(np.full(len(tg), s, dtype=np.int64))
        return WindowBatch(
            np.concatenate(seq_ids), np.concatenate(tgts),
            np.concatenate(wins))

    for s, seq in enumerate(sequences):
        if len(seq) == 0:
            continue
        tg_all = np.arange(len(seq)) if targets is None else np.asarray(
            targets[s], dtype=np.int64)
        pos = 0
        while pos < len(tg_all):
            take = min(batch_size - count, len(tg_all) - pos)
            pending.append((s, tg_all[pos:pos + take]))
            count += take
            pos += take
            if count == batch_size:
                yield make()
                pending, count = [], 0
    if pending:
        yield make()


def fill_gaps(frames: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Dense values over ``frames[0] .. frames[-1]`` from the observed rows
    ``values`` (n, ...) at ``frames`` (n, ) ascending: missing frames and
    non-finite entries are linearly interpolated over time (held constant
    beyond the first / last finite entry; 0 where a column has none)."""
    frames = np.asarray(frames, dtype=np.int64)
    values = np.asarray(values, dtype=np.float32)
    span = int(frames[-1] - frames[0] + 1)
    flat = values.reshape(len(values), -1)
    dense = np.full((span, flat.shape[1]), np.nan, dtype=np.float32)
    dense[frames - frames[0]] = flat
    missing = ~np.isfinite(dense)
    if missing.any():
        t = np.arange(span)
        for c in np.flatnonzero(missing.any(0)):
            ok = ~missing[:, c]
            dense[:, c] = np.interp(t, t[ok], dense[ok, c]) if ok.any() else 0
    return dense.reshape((span, ) + values.shape[1:])


def latency_stats(latencies_ms: Sequence[float]) -> Dict[str, float]:
    """mean / p50 / p95 / max of per-frame latencies in milliseconds."""
    lat = np.asarray(latencies_ms, dtype=np.float64)
    if lat.size == 0:
        return dict(
            frames=0,
            mean=float('nan'),
            p50=float('nan'),
            p95=float('nan'),
            max=float('nan'))
    return dict(
        frames=int(lat.size),
        mean=float(lat.mean()),
        p50=float(np.percentile(lat, 50)),
        p95=float(np.percentile(lat, 95)),
        max=float(lat.max()))


# ---------------------------------------------------------------- lifter
class Lifter:
    """Batched 2D-to-3D lifting with a pose-lifter model.

    The window length (``test_dataloader.dataset.seq_len``, which must match
    ``model.backbone.num_frames``), the causal flag (``...dataset.causal``,
    else ``model.backbone.causal``), the frame step (``seq_step``) and the
    flip test (``model.test_cfg.flip_test``) come from the model's config;
    ``causal`` / ``flip_test`` override them.

    Outputs are root-relative 3D keypoints of the Human3.6M-17 layout in the
    camera frame of the training data (x right, y down, z away from the
    camera; metres for Human3.6M-trained models), the pelvis at the origin.

    Args:
        model: A ``PoseLifter`` with ``cfg`` and ``dataset_meta`` (as made by
            :func:`mmpose.apis.init_model`).
        causal (bool, optional): Cut windows ending at the target frame.
        flip_test (bool, optional): Average with the mirrored input.
        batch_size (int): Windows per forward pass.
        norm_mode (str): ``'screen'``: the codec's screen normalisation of
            the image (default); ``'bbox'``: every person moved to the
            dataset's mean box first (``dataset_meta['stats_info']``).
    """

    def __init__(self,
                 model: torch.nn.Module,
                 causal: Optional[bool] = None,
                 flip_test: Optional[bool] = None,
                 batch_size: int = 64,
                 norm_mode: str = 'screen') -> None:
        self.model = model.eval()
        cfg = getattr(model, 'cfg', None)
        ds = {}
        if cfg is not None and 'test_dataloader' in cfg:
            ds = cfg.test_dataloader.get('dataset', {}) or {}
        backbone = getattr(model, 'backbone', None)
        num_frames = getattr(backbone, 'num_frames', None)
        self.seq_len = int(ds.get('seq_len', num_frames or 1))
        if num_frames is not None and num_frames != self.seq_len:
            raise ValueError(
                f'The config cuts windows of seq_len={self.seq_len} frames '
                f'(test_dataloader.dataset.seq_len) but the backbone takes '
                f'num_frames={num_frames}; make them equal.')
        self.trained_causal = bool(
            ds.get('causal', getattr(backbone, 'causal', False)))
        self.causal = self.trained_causal if causal is None else bool(causal)
        self.step = int(ds.get('seq_step', 1))
        test_cfg = getattr(model, 'test_cfg', None) or {}
        self.flip_test = bool(
            test_cfg.get('flip_test', False) if flip_test is
            None else flip_test)
        meta = getattr(model, 'dataset_meta', None) or {}
        self.layout = meta.get('dataset_name', 'h36m')
        self.flip_indices = list(meta.get('flip_indices', H36M_FLIP_INDICES))
        self.stats_info = meta.get('stats_info', None) or dict(
            bbox_center=(528., 427.), bbox_scale=400.)
        self.num_joints = int(getattr(backbone, 'num_joints', 17))
        self.in_channels = int(getattr(backbone, 'in_channels', 2))
        if self.in_channels not in (2, 3):
            raise ValueError('the lifter must take 2 (x, y) or 3 (x, y, '
                             f'score) input channels, got {self.in_channels}')
        if norm_mode not in NORM_MODES:
            raise ValueError(f'norm_mode must be one of {NORM_MODES}, got '
                             f'{norm_mode!r}')
        self.norm_mode = norm_mode
        self.batch_size = int(batch_size)
        self.device = next(model.parameters()).device

    @classmethod
    def from_config(cls,
                    config,
                    checkpoint: Optional[str] = None,
                    device: str = 'cpu',
                    cfg_options: Optional[dict] = None,
                    **kwargs) -> 'Lifter':
        """Build the model of ``config`` (path or Config) with
        :func:`mmpose.apis.init_model`; without a checkpoint its weights are
        random (a warning says so)."""
        import mmcrossformer  # noqa: F401  (registers the plugin)
        from mmpose.apis import init_model
        from .pose2d import load_config
        if checkpoint is None:
            warnings.warn('No lifter checkpoint given: the 3D poses come '
                          'from randomly initialised weights.')
        model = init_model(
            load_config(config),
            checkpoint,
            device=device,
            cfg_options=cfg_options)
        return cls(model, **kwargs)

    @property
    def window_len(self) -> int:
        """Frames spanned by a window: (F - 1) * step + 1."""
        return (self.seq_len - 1) * self.step + 1

    # ------------------------------------------------------------ inputs
    def prepare(self,
                keypoints: np.ndarray,
                layout: str,
                img_size: Optional[Tuple[float, float]] = None,
                bboxes: Optional[np.ndarray] = None) -> np.ndarray:
        """Pixel keypoints (..., K, 2|3) of ``layout`` -> the model input
        (..., J, C): converted to the lifter's layout and normalised."""
        kpts = convert_keypoints(keypoints, layout, self.layout)
        if self.norm_mode == 'screen':
            if img_size is None:
                raise ValueError('screen normalisation needs the image size')
            xy = normalize_screen(kpts[..., :2], img_size)
        else:
            if bboxes is None:
                raise ValueError("norm_mode='bbox' needs the person boxes")
            xy = normalize_to_dataset_bbox(kpts[..., :2], bboxes,
                                           self.stats_info['bbox_center'],
                                           self.stats_info['bbox_scale'])
        if self.in_channels == 3:
            score = kpts[..., 2:3] if kpts.shape[-1] > 2 else np.ones_like(
                xy[..., :1])
            xy = np.concatenate([xy, score.astype(np.float32)], axis=-1)
        return xy.astype(np.float32)

    # ------------------------------------------------------------ forward
    @torch.no_grad()
    def forward_windows(self, windows: np.ndarray) -> np.ndarray:
        """Windows (B, F, J, C) -> root-relative 3D (B, J, 3) of their target
        frames (with the flip test when enabled).

        Raises:
            ValueError: naming the first NaN or infinite input entry.
        """
        check_finite_keypoints(windows, 'windows')
        x = torch.from_numpy(np.ascontiguousarray(
            windows, dtype=np.float32)).to(self.device)
        model = self.model
        pred = model.head.forward(model.extract_feat(x))
        if self.flip_test:
            xf = flip_pose(x, self.flip_indices)
            pred = flip_average(pred,
                                model.head.forward(model.extract_feat(xf)),
                                self.flip_indices)
        return pred.float().cpu().numpy()

    def lift_sequences(self,
                       sequences: Union[np.ndarray, Sequence[np.ndarray]],
                       progress: bool = False) -> List[np.ndarray]:
        """Lift every frame of each normalised sequence (T_i, J, C) -> list
        of (T_i, J, 3); windows are cut lazily, batch by batch.

        Raises:
            ValueError: naming the sequence, frame and joint of the first NaN
                or infinite entry (:meth:`lift_tracks` interpolates gaps).
        """
        if isinstance(sequences, np.ndarray):
            sequences = [sequences]
        for i, seq in enumerate(sequences):
            if seq.ndim != 3 or seq.shape[1:] != (self.num_joints,
                                                  self.in_channels):
                raise ValueError(
                    f'sequences must be (T, {self.num_joints}, '
                    f'{self.in_channels}), got {tuple(seq.shape)}')
            check_finite_keypoints(seq, f'sequence {i}',
                                   ('frame', 'joint', 'channel'))
        outs = [
            np.zeros((len(s), self.num_joints, 3), np.float32)
            for s in sequences
        ]
        total = sum(len(s) for s in sequences)
        bar = None
        if progress and total:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(total)
        for batch in iter_window_batches(sequences, self.seq_len, self.causal,
                                         self.batch_size, self.step):
            pred = self.forward_windows(batch.windows)
            for s in np.unique(batch.seq_index):
                m = batch.seq_index == s
                outs[s][batch.targets[m]] = pred[m]
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.file.write('\n')
        return outs

    def lift_tracks(self,
                    tracks: Sequence[Track],
                    layout: str,
                    img_size: Optional[Tuple[float, float]] = None,
                    progress: bool = False) -> Dict[int, np.ndarray]:
        """Lift tracked 2D poses: each track is made dense over its frame
        span (gaps interpolated), lifted, and read back at its observed
        frames. Returns ``{track_id: (n, J, 3)}``."""
        seqs = []
        for tr in tracks:
            kpts = fill_gaps(tr.frames, tr.keypoints)
            boxes = fill_gaps(tr.frames, tr.bboxes) \
                if self.norm_mode == 'bbox' else None
            seqs.append(self.prepare(kpts, layout, img_size, boxes))
        outs = self.lift_sequences(seqs, progress=progress)
        return {
            tr.track_id: out[tr.frames - tr.frames[0]]
            for tr, out in zip(tracks, outs)
        }


class OnlineLifter:
    """Causal lifting of a stream, one frame at a time: the window of the
    current frame ends at it; until a track has a full window, its past is
    padded with its first frame. All tracks of a frame go through one
    batched forward pass.

    A model trained on centred windows (``causal=False`` in its config) still
    runs, but predicts the pose of its window's centre; a warning says so.

    Args:
        lifter (Lifter): The batched lifter (its model, flip test, layout).
        layout (str): Layout of the incoming 2D keypoints.
        img_size (tuple): (w, h) of the frames.
        max_age (int): Frames after which an unseen track's buffer is
            dropped.
    """

    def __init__(self,
                 lifter: Lifter,
                 layout: str,
                 img_size: Optional[Tuple[float, float]] = None,
                 max_age: int = 30) -> None:
        self.lifter = lifter
        self.layout = layout
        self.img_size = img_size
        self.max_age = max_age
        if not lifter.trained_causal:
            warnings.warn(
                'online mode cuts causal windows, but this model was trained '
                'on centred windows (test_dataloader.dataset.causal=False): '
                'its output is the pose of the window centre, '
                f'{target_index(lifter.seq_len, False) * lifter.step} frames '
                'back. Train with causal=True for online use.')
        self.reset()

    def reset(self) -> None:
        self.buffers: Dict[int, deque] = {}
        self.last_seen: Dict[int, int] = {}
        self.latencies_ms: List[float] = []
        self.frame_idx = -1

    def step(
        self,
        keypoints: Dict[int, np.ndarray],
        bboxes: Optional[Dict[int,
                              np.ndarray]] = None) -> Dict[int, np.ndarray]:
        """Lift one frame: ``{track_id: (K, 2|3) pixel keypoints}`` ->
        ``{track_id: (J, 3)}``. The time from the call to the result is
        recorded in ``latencies_ms``.

        Raises:
            ValueError: naming the track and joint of a NaN or infinite
                keypoint (leave a track out of a frame where it is missing).
        """
        t0 = time.perf_counter()
        lifter = self.lifter
        tids = list(keypoints)
        for tid in tids:
            check_finite_keypoints(keypoints[tid], f'track {tid}',
                                   ('joint', 'channel'))
        self.frame_idx += 1
        windows = []
        for tid in tids:
            box = None if bboxes is None else bboxes[tid]
            x = lifter.prepare(
                np.asarray(keypoints[tid], np.float32), self.layout,
                self.img_size, box)
            buf = self.buffers.get(tid)
            if buf is None:
                buf = deque([x] * lifter.window_len, maxlen=lifter.window_len)
                self.buffers[tid] = buf
            else:
                buf.append(x)
            self.last_seen[tid] = self.frame_idx
            windows.append(np.stack(list(buf)[::lifter.step]))
        for tid in [
                t for t, seen in self.last_seen.items()
                if self.frame_idx - seen > self.max_age
        ]:
            del self.buffers[tid], self.last_seen[tid]
        out = {}
        if windows:
            pred = lifter.forward_windows(np.stack(windows))
            out = dict(zip(tids, pred))
        self.latencies_ms.append((time.perf_counter() - t0) * 1e3)
        return out

    def stats(self, skip: int = 0) -> Dict[str, float]:
        """Latency statistics (ms) of the frames after the first ``skip``
        (warm-up)."""
        return latency_stats(self.latencies_ms[skip:])


__all__ = [
    'Lifter', 'NORM_MODES', 'OnlineLifter', 'WindowBatch', 'fill_gaps',
    'iter_window_batches', 'latency_stats', 'target_index', 'window_indices',
    'window_offsets'
]
