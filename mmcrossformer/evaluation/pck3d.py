# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""3DPCK, AUC and MPJPE as MPI-INF-3DHP reports them.

3DPCK: the percentage of joints whose 3D error is below 150 mm. AUC: the mean
of the 3DPCK over the 31 thresholds 0, 5, ..., 150 mm (the area under the
PCK curve, normalised to 0-100). Both over the 14 joints of the benchmark
(head top, neck, shoulders, elbows, wrists, hips, knees, ankles) by default,
as in the benchmark's evaluation code and MMPose 0.x.
"""
import os.path as osp
from collections import defaultdict
from typing import Dict, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmpose.registry import METRICS

#: joint subsets by name; `mpi14`: the 14 evaluated joints of 3DHP's
#: 17-joint skeleton (all but the pelvis, spine and head)
JOINT_SUBSETS = {'mpi14': tuple(range(14))}
ALIGNMENTS = ('none', 'procrustes', 'scale')
_PREFIX = {'none': '', 'procrustes': 'P-', 'scale': 'N-'}


def similarity_align(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Align each pose of ``pred`` to ``gt`` by the least-squares similarity
    transform (rotation, isotropic scale, translation; Umeyama's solution,
    reflections excluded).

    Args:
        pred, gt: (N, K, 3) poses.

    Returns:
        np.ndarray: (N, K, 3) aligned ``pred``.
    """
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    mu_p = pred.mean(axis=1, keepdims=True)
    mu_g = gt.mean(axis=1, keepdims=True)
    p0, g0 = pred - mu_p, gt - mu_g
    # R maximising tr(R^T p0^T g0) for row vectors: x -> x @ R^T ... written
    # as x -> x @ M with M = U diag(1, 1, d) V^T from svd(p0^T g0)
    cov = np.einsum('nki,nkj->nij', p0, g0)
    U, S, Vt = np.linalg.svd(cov)
    d = np.sign(np.linalg.det(U @ Vt))
    D = np.ones_like(S)
    D[:, -1] = d
    M = U @ (D[:, :, None] * Vt)
    var_p = np.einsum('nki,nki->n', p0, p0)
    scale = np.einsum('ni,ni->n', S, D) / np.maximum(var_p, 1e-12)
    return scale[:, None, None] * (p0 @ M) + mu_g


def align_poses(pred: np.ndarray,
                gt: np.ndarray,
                alignment: str = 'none') -> np.ndarray:
    """``pred`` after ``'none'``, ``'procrustes'`` (rotation, scale,
    translation) or ``'scale'`` (least-squares scale) alignment to ``gt``."""
    if alignment == 'none':
        return np.asarray(pred, dtype=np.float64)
    if alignment == 'procrustes':
        return similarity_align(pred, gt)
    if alignment == 'scale':
        pred = np.asarray(pred, dtype=np.float64)
        s = (
            np.einsum('nkc,nkc->n', pred, gt) /
            np.maximum(np.einsum('nkc,nkc->n', pred, pred), 1e-12))
        return pred * s[:, None, None]
    raise ValueError(f'alignment must be one of {ALIGNMENTS}, '
                     f'got {alignment!r}')


def joint_errors(pred: np.ndarray,
                 gt: np.ndarray,
                 alignment: str = 'none') -> np.ndarray:
    """(N, K) Euclidean joint errors after ``alignment``."""
    return np.linalg.norm(align_poses(pred, gt, alignment) - gt, axis=-1)


def pck_from_errors(errors: np.ndarray, mask: np.ndarray,
                    threshold: float) -> float:
    """Percentage of the masked errors strictly below ``threshold``."""
    assert mask.any(), 'no joint to evaluate'
    return float((errors[mask] < threshold).mean() * 100.)


def auc_from_errors(errors: np.ndarray, mask: np.ndarray,
                    thresholds: Sequence[float]) -> float:
    """Mean of the 3DPCK over ``thresholds`` (percent)."""
    return float(
        np.mean([pck_from_errors(errors, mask, t) for t in thresholds]))


def auc_thresholds(max_threshold: float = 150.,
                   num_thresholds: int = 31) -> np.ndarray:
    """The AUC's thresholds: ``num_thresholds`` evenly from 0 to
    ``max_threshold`` (0, 5, ..., 150 mm by default)."""
    return np.linspace(0., max_threshold, num_thresholds)


def keypoint_3d_pck(pred: np.ndarray,
                    gt: np.ndarray,
                    mask: Optional[np.ndarray] = None,
                    alignment: str = 'none',
                    threshold: float = 150.) -> float:
    """3DPCK (percent) of (N, K, 3) poses: joints with error < ``threshold``
    (same unit as the poses), after ``alignment``."""
    errors = joint_errors(pred, gt, alignment)
    mask = np.ones(errors.shape, bool) if mask is None else mask.astype(bool)
    return pck_from_errors(errors, mask, threshold)


def keypoint_3d_auc(pred: np.ndarray,
                    gt: np.ndarray,
                    mask: Optional[np.ndarray] = None,
                    alignment: str = 'none',
                    max_threshold: float = 150.,
                    num_thresholds: int = 31) -> float:
    """AUC (percent) of the 3DPCK over ``num_thresholds`` thresholds from 0
    to ``max_threshold``."""
    errors = joint_errors(pred, gt, alignment)
    mask = np.ones(errors.shape, bool) if mask is None else mask.astype(bool)
    return auc_from_errors(errors, mask,
                           auc_thresholds(max_threshold, num_thresholds))


@METRICS.register_module()
class MpiInf3dhpMetric(BaseMetric):
    """3DPCK, AUC and MPJPE of MPI-INF-3DHP (paper Table 3), in percent and
    millimetres, overall and per sequence.

    Metric names: ``3DPCK``, ``3DAUC``, ``MPJPE``; with ``alignment=
    'procrustes'`` ``P-3DPCK``, ``P-3DAUC``, ``P-MPJPE`` (``N-`` for
    ``'scale'``); per sequence (the video of the target frame, ``TS1`` ...
    ``TS6`` on the test set) with the suffix ``_<sequence>``.

    Args:
        metrics (Sequence[str]): Any of ``'3DPCK'``, ``'3DAUC'``,
            ``'MPJPE'``.
        alignment (str): ``'none'``, ``'procrustes'`` (rigid alignment:
            rotation, scale and translation, per pose) or ``'scale'``.
        joints (str | Sequence[int] | None): The evaluated joints: ``'mpi14'``
            (the benchmark's 14), a list of joint indices, or ``None`` for
            all. Procrustes alignment is fitted on these joints.
        pck_threshold (float): 3DPCK threshold in millimetres.
        auc_max_threshold (float): Largest AUC threshold in millimetres.
        auc_num_thresholds (int): Number of AUC thresholds (from 0).
        root_index (int, optional): If set, both poses are made relative to
            this joint (14, the pelvis) before evaluation. ``None`` compares
            them as they are: the lifter's predictions carry the
            ground-truth root that the codec removed from the target.
        use_visibility (bool): Evaluate only the joints with
            ``lifting_target_visible`` (inside the image); the benchmark
            evaluates all joints.
        per_sequence (bool): Also report every metric per sequence.
        unit_scale (float): Factor from the data's unit (metres) to mm.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Metric name prefix.
    """

    METRICS = ('3DPCK', '3DAUC', 'MPJPE')

    def __init__(self,
                 metrics: Sequence[str] = ('3DPCK', '3DAUC', 'MPJPE'),
                 alignment: str = 'none',
                 joints: Union[str, Sequence[int], None] = 'mpi14',
                 pck_threshold: float = 150.,
                 auc_max_threshold: float = 150.,
                 auc_num_thresholds: int = 31,
                 root_index: Optional[int] = None,
                 use_visibility: bool = False,
                 per_sequence: bool = True,
                 unit_scale: float = 1000.,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = set(metrics) - set(self.METRICS)
        if not metrics or unknown:
            raise ValueError(f'metrics must be among {self.METRICS}, '
                             f'got {metrics}')
        if alignment not in ALIGNMENTS:
            raise ValueError(f'alignment must be one of {ALIGNMENTS}, '
                             f'got {alignment!r}')
        if isinstance(joints, str):
            if joints not in JOINT_SUBSETS:
                raise ValueError(f'joints must be one of '
                                 f'{tuple(JOINT_SUBSETS)}, a list of '
                                 f'indices or None, got {joints!r}')
            joints = JOINT_SUBSETS[joints]
        self.metrics = metrics
        self.alignment = alignment
        self.joints = None if joints is None else [int(j) for j in joints]
        self.pck_threshold = float(pck_threshold)
        self.thresholds = auc_thresholds(auc_max_threshold, auc_num_thresholds)
        self.root_index = root_index
        self.use_visibility = use_visibility
        self.per_sequence = per_sequence
        self.unit_scale = unit_scale

    def process(self, data_batch: Sequence[dict],
                data_samples: Sequence[dict]) -> None:
        for data_sample in data_samples:
            pred = np.asarray(data_sample['pred_instances']['keypoints'])
            gt_instances = data_sample['gt_instances']
            gt = np.asarray(gt_instances['lifting_target'])
            pred = pred.reshape(-1, *gt.shape[-2:])
            gt = gt.reshape(pred.shape)
            visible = gt_instances.get('lifting_target_visible')
            if visible is None or not self.use_visibility:
                mask = np.ones(gt.shape[:2], dtype=bool)
            else:
                mask = np.asarray(visible).reshape(gt.shape[:2]) > 0.5
            img_path = data_sample.get('target_img_path', [''])
            img_path = img_path[0] if len(img_path) else ''
            sequence = _sequence_name(img_path)
            self.results.append(
                dict(
                    pred=pred.astype(np.float64),
                    gt=gt.astype(np.float64),
                    mask=mask,
                    sequences=np.array([sequence] * gt.shape[0])))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        logger: MMLogger = MMLogger.get_current_instance()
        pred = np.concatenate([r['pred'] for r in results]) * self.unit_scale
        gt = np.concatenate([r['gt'] for r in results]) * self.unit_scale
        mask = np.concatenate([r['mask'] for r in results])
        sequences = np.concatenate([r['sequences'] for r in results])
        if self.root_index is not None:
            r = self.root_index
            pred = pred - pred[:, r:r + 1]
            gt = gt - gt[:, r:r + 1]
        if self.joints is not None:
            pred, gt = pred[:, self.joints], gt[:, self.joints]
            mask = mask[:, self.joints]
        errors = joint_errors(pred, gt, self.alignment)
        logger.info(f'Evaluating {", ".join(self.metrics)} '
                    f'(alignment: {self.alignment}) on {len(errors)} poses')

        def evaluate(err, msk, suffix=''):
            out = {}
            if not msk.any():
                return out
            name = _PREFIX[self.alignment]
            for m in self.metrics:
                if m == '3DPCK':
                    value = pck_from_errors(err, msk, self.pck_threshold)
                elif m == '3DAUC':
                    value = auc_from_errors(err, msk, self.thresholds)
                else:
                    value = float(err[msk].mean())
                out[f'{name}{m}{suffix}'] = value
            return out

        metrics = evaluate(errors, mask)
        if self.per_sequence:
            by_seq = defaultdict(list)
            for i, s in enumerate(sequences):
                by_seq[s].append(i)
            for s, idx in sorted(by_seq.items()):
                if s:
                    metrics.update(evaluate(errors[idx], mask[idx], f'_{s}'))
        return metrics


def _sequence_name(img_path: str) -> str:
    """``'TS3'`` for ``TS3_000123.jpg``, ``'S1_Seq2_Cam4'`` for a training
    frame; the file name without its frame number otherwise."""
    name = osp.splitext(osp.basename(str(img_path)))[0]
    return name.rsplit('_', 1)[0] if '_' in name else name


@METRICS.register_module()
class PCK3D(MpiInf3dhpMetric):
    """Only the 3DPCK of :class:`MpiInf3dhpMetric` (same arguments)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault('metrics', ('3DPCK', ))
        super().__init__(**kwargs)


@METRICS.register_module()
class AUC3D(MpiInf3dhpMetric):
    """Only the AUC of :class:`MpiInf3dhpMetric` (same arguments)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault('metrics', ('3DAUC', ))
        super().__init__(**kwargs)
