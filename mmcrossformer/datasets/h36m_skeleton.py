# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The Human3.6M 17-joint skeleton, read once from MMPose's dataset meta
(``configs/_base_/datasets/h36m.py``, the file ``Human36mDataset`` loads):
every other module imports these names instead of repeating them."""
import os.path as osp
from typing import Dict, FrozenSet, Tuple

import mmpose
from mmpose.datasets import Human36mDataset
from mmpose.datasets.datasets.utils import parse_pose_metainfo


def _metainfo_source() -> dict:
    """``Human36mDataset.METAINFO``, pointed at the copy installed with
    MMPose when there is one (MMPose warns when it has to look it up)."""
    installed = osp.join(
        osp.dirname(mmpose.__file__), '.mim',
        Human36mDataset.METAINFO['from_file'])
    return dict(from_file=installed) if osp.isfile(installed) else \
        Human36mDataset.METAINFO


#: MMPose's parsed dataset meta of Human3.6M
H36M_METAINFO: Dict = parse_pose_metainfo(_metainfo_source())

#: joint names in MMPose / VideoPose3D order ('root', 'right_hip', ...)
H36M_KEYPOINTS: Tuple[str, ...] = tuple(
    H36M_METAINFO['keypoint_id2name'][i]
    for i in range(H36M_METAINFO['num_keypoints']))
#: (parent, child) joint pairs, in MMPose's ``skeleton_info`` order
H36M_SKELETON: Tuple[Tuple[int, int], ...] = tuple(
    (int(a), int(b)) for a, b in H36M_METAINFO['skeleton_links'])
#: the joint each joint becomes in the mirror image
H36M_FLIP_INDICES: Tuple[int, ...] = tuple(H36M_METAINFO['flip_indices'])
#: joints of the subject's left / right side
H36M_LEFT: FrozenSet[int] = frozenset(
    i for i, name in enumerate(H36M_KEYPOINTS) if name.startswith('left_'))
H36M_RIGHT: FrozenSet[int] = frozenset(
    i for i, name in enumerate(H36M_KEYPOINTS) if name.startswith('right_'))


def _parents() -> Tuple[int, ...]:
    parents = [-1] * len(H36M_KEYPOINTS)
    for parent, child in H36M_SKELETON:
        parents[child] = parent
    return tuple(parents)


#: parent of each joint in the kinematic tree (-1 for the root)
H36M_PARENTS: Tuple[int, ...] = _parents()

__all__ = [
    'H36M_FLIP_INDICES', 'H36M_KEYPOINTS', 'H36M_LEFT', 'H36M_METAINFO',
    'H36M_PARENTS', 'H36M_RIGHT', 'H36M_SKELETON'
]
