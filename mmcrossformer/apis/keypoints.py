# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""2D keypoint layouts, their conversion to the Human3.6M-17 skeleton the
lifter expects, and the screen normalisation of the lifting codec.

Every Human3.6M joint is a weighted sum of source keypoints, so a conversion
is a (17, K) matrix applied to (..., K, C) arrays (C = 2, or 3 with a score,
which is combined with the same weights). For COCO-17 (MMPose's
``convert_keypoint_definition``):

* pelvis (``root``) = mean of the hips, thorax = mean of the shoulders,
* spine = mean of pelvis and thorax (= mean of hips and shoulders),
* ``neck_base`` = nose, ``head`` = mean of the eyes,
* the limbs are copied.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..datasets.h36m_skeleton import (H36M_FLIP_INDICES, H36M_KEYPOINTS,
                                      H36M_SKELETON)

COCO_KEYPOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
                  'left_shoulder', 'right_shoulder', 'left_elbow',
                  'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
                  'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                  'right_ankle')
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11),
                 (6, 12), (5, 6), (5, 7), (6, 8), (7, 9), (8, 10), (1, 2),
                 (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))
POSETRACK18_KEYPOINTS = ('nose', 'head_bottom', 'head_top') + \
    COCO_KEYPOINTS[3:]
AIC_KEYPOINTS = ('right_shoulder', 'right_elbow', 'right_wrist',
                 'left_shoulder', 'left_elbow', 'left_wrist', 'right_hip',
                 'right_knee', 'right_ankle', 'left_hip', 'left_knee',
                 'left_ankle', 'head_top', 'neck')
CROWDPOSE_KEYPOINTS = ('left_shoulder', 'right_shoulder', 'left_elbow',
                       'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
                       'right_hip', 'left_knee', 'right_knee', 'left_ankle',
                       'right_ankle', 'head_top', 'neck')

_LIMBS = {  # H36M joint -> keypoint of the same name in the other layouts
    'right_hip': 'right_hip',
    'right_knee': 'right_knee',
    'right_foot': 'right_ankle',
    'left_hip': 'left_hip',
    'left_knee': 'left_knee',
    'left_foot': 'left_ankle',
    'left_shoulder': 'left_shoulder',
    'left_elbow': 'left_elbow',
    'left_wrist': 'left_wrist',
    'right_shoulder': 'right_shoulder',
    'right_elbow': 'right_elbow',
    'right_wrist': 'right_wrist'
}
_TORSO = {
    'root': {
        'left_hip': .5,
        'right_hip': .5
    },
    'thorax': {
        'left_shoulder': .5,
        'right_shoulder': .5
    },
    'spine': {
        'left_hip': .25,
        'right_hip': .25,
        'left_shoulder': .25,
        'right_shoulder': .25
    },
}
# head joints of the layout families (weights over source keypoint names)
_COCO_HEAD = {
    'neck_base': {
        'nose': 1.
    },
    'head': {
        'left_eye': .5,
        'right_eye': .5
    }
}
_POSETRACK_HEAD = {
    'neck_base': {
        'nose': 1.
    },
    'head': {
        'head_bottom': .5,
        'head_top': .5
    }
}
# neck base 1/4 of the way from the neck to the head top, head centre 7/12
_NECK_HEADTOP = {
    'neck_base': {
        'neck': .75,
        'head_top': .25
    },
    'head': {
        'neck': 5 / 12,
        'head_top': 7 / 12
    }
}


class KeypointLayoutError(ValueError):
    """Keypoints whose layout cannot be converted to the lifter's."""


class _Layout:

    def __init__(self, num_keypoints: int, names: Sequence[str],
                 head: Optional[dict]) -> None:
        self.num_keypoints = num_keypoints
        self.names = tuple(names)  # the first len(names) keypoints
        self.head = head


# dataset_name (MMPose metainfo) -> layout; whole-body layouts start with the
# 17 COCO body keypoints
KEYPOINT_LAYOUTS: Dict[str, _Layout] = {
    'h36m': _Layout(17, H36M_KEYPOINTS, None),
    'coco': _Layout(17, COCO_KEYPOINTS, _COCO_HEAD),
    'coco_wholebody': _Layout(133, COCO_KEYPOINTS, _COCO_HEAD),
    'halpe': _Layout(136, COCO_KEYPOINTS, _COCO_HEAD),
    'halpe26': _Layout(26, COCO_KEYPOINTS, _COCO_HEAD),
    'posetrack18': _Layout(17, POSETRACK18_KEYPOINTS, _POSETRACK_HEAD),
    'aic': _Layout(14, AIC_KEYPOINTS, _NECK_HEADTOP),
    'crowdpose': _Layout(14, CROWDPOSE_KEYPOINTS, _NECK_HEADTOP),
}


def supported_layouts() -> str:
    return ', '.join(f'{name} ({layout.num_keypoints} keypoints)'
                     for name, layout in KEYPOINT_LAYOUTS.items())


def conversion_matrix(src_layout: str,
                      dst_layout: str = 'h36m',
                      num_keypoints: Optional[int] = None) -> np.ndarray:
    """The (17, K) matrix W with ``dst = W @ src`` for keypoints of
    ``src_layout``. Raises :class:`KeypointLayoutError` (naming the layout,
    the keypoint count and what is supported) when there is no conversion.
    """
    if dst_layout != 'h36m':
        raise KeypointLayoutError(
            f'The lifter expects keypoints in the {dst_layout!r} layout; '
            'only lifters trained on the Human3.6M-17 layout (dataset_name '
            "'h36m') are supported.")
    count = f'{num_keypoints} keypoints' if num_keypoints else 'keypoints'
    layout = KEYPOINT_LAYOUTS.get(src_layout)
    if layout is None:
        raise KeypointLayoutError(
            f'Cannot convert {count} of layout {src_layout!r} to the '
            f"lifter's Human3.6M-17 layout: no conversion is defined. "
            f'Supported 2D layouts: {supported_layouts()}.')
    if num_keypoints is not None and num_keypoints != layout.num_keypoints:
        raise KeypointLayoutError(
            f'Cannot convert {count} as layout {src_layout!r}: that layout '
            f'has {layout.num_keypoints} keypoints. Supported 2D layouts: '
            f'{supported_layouts()}.')
    if src_layout == 'h36m':
        return np.eye(17)
    W = np.zeros((17, layout.num_keypoints), dtype=np.float64)
    index = {name: i for i, name in enumerate(layout.names)}
    spec = dict(_TORSO)
    spec.update({j: {src: 1.} for j, src in _LIMBS.items()})
    spec.update(layout.head)
    for j, name in enumerate(H36M_KEYPOINTS):
        for src, weight in spec[name].items():
            W[j, index[src]] += weight
    return W


def convert_keypoints(keypoints: np.ndarray,
                      src_layout: str,
                      dst_layout: str = 'h36m') -> np.ndarray:
    """Convert (..., K, C) keypoints of ``src_layout`` to the Human3.6M-17
    layout (..., 17, C). Scores in the last channel are combined with the
    same weights as the coordinates (a mean for derived joints)."""
    keypoints = np.asarray(keypoints)
    if keypoints.ndim < 2:
        raise KeypointLayoutError(
            f'Keypoints must have shape (..., K, C), got {keypoints.shape}')
    W = conversion_matrix(src_layout, dst_layout, keypoints.shape[-2])
    if src_layout == dst_layout:
        return keypoints.copy()
    out = np.einsum('jk,...kc->...jc', W, keypoints)
    return out.astype(keypoints.dtype if keypoints.dtype.kind ==
                      'f' else np.float32)


def normalize_screen(xy: np.ndarray, img_size: Tuple[float,
                                                     float]) -> np.ndarray:
    """Pixel coordinates (..., 2) -> the lifting codec's screen-normalised
    coordinates: x / w * 2 - 1, y / w * 2 - h / w (``VideoPoseLifting``)."""
    w, h = float(img_size[0]), float(img_size[1])
    out = np.asarray(xy, dtype=np.float32)[..., :2] / (w / 2)
    out = out - np.array([1., h / w], dtype=np.float32)
    return out


def normalize_to_dataset_bbox(xy: np.ndarray,
                              bboxes: np.ndarray,
                              bbox_center: Sequence[float] = (528., 427.),
                              bbox_scale: float = 400.,
                              camera_size: Tuple[float,
                                                 float] = (1000., 1000.)):
    """Move every person to the dataset's mean box (centre, size) in a
    virtual camera of ``camera_size`` and screen-normalise there: the
    alternative to :func:`normalize_screen` for footage whose framing is far
    from Human3.6M's. ``xy`` (..., J, 2), ``bboxes`` (..., 4) xyxy."""
    xy = np.asarray(xy, dtype=np.float32)[..., :2]
    bboxes = np.asarray(bboxes, dtype=np.float32)
    center = (bboxes[..., None, :2] + bboxes[..., None, 2:]) / 2
    size = np.maximum(bboxes[..., 2] - bboxes[..., 0],
                      bboxes[..., 3] - bboxes[..., 1])[..., None, None]
    size = np.maximum(size, 1e-6)
    moved = (xy - center) / size * bbox_scale + np.asarray(
        bbox_center, dtype=np.float32)
    return normalize_screen(moved, camera_size)


def bbox_from_keypoints(keypoints: np.ndarray,
                        score_thr: float = 0.,
                        padding: float = 1.1) -> np.ndarray:
    """xyxy box (..., 4) around the keypoints (..., K, 2|3) whose score is
    above ``score_thr`` (all when there are no scores), enlarged by
    ``padding``. Empty -> NaN box."""
    kpts = np.asarray(keypoints, dtype=np.float32)
    xy = kpts[..., :2]
    valid = np.all(np.isfinite(xy), axis=-1)
    if kpts.shape[-1] > 2:
        valid &= kpts[..., 2] > score_thr
    big = np.float32(np.inf)
    lo = np.where(valid[..., None], xy, big).min(axis=-2)
    hi = np.where(valid[..., None], xy, -big).max(axis=-2)
    center, half = (lo + hi) / 2, (hi - lo) / 2 * padding
    box = np.concatenate([center - half, center + half], axis=-1)
    box[~valid.any(axis=-1)] = np.nan
    return box


__all__: List[str] = [
    'COCO_KEYPOINTS', 'COCO_SKELETON', 'H36M_FLIP_INDICES', 'H36M_KEYPOINTS',
    'H36M_SKELETON', 'KEYPOINT_LAYOUTS', 'KeypointLayoutError',
    'bbox_from_keypoints', 'conversion_matrix', 'convert_keypoints',
    'normalize_screen', 'normalize_to_dataset_bbox', 'supported_layouts'
]
