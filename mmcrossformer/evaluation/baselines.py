# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Reference errors that a trained lifter must beat."""
import numpy as np

from ..data_tools.h36m_layout import ann_path


def mean_pose_mpjpe(data_root: str) -> float:
    """MPJPE (mm) of answering every test frame of a Human3.6M-layout
    dataset with the mean root-relative training pose."""
    poses = {}
    for split in ('train', 'test'):
        with np.load(ann_path(data_root, split)) as ann:
            S = ann['S'][..., :3]
        poses[split] = S - S[:, :1]
    mean = poses['train'].mean(axis=0)
    return float(np.linalg.norm(poses['test'] - mean, axis=-1).mean() * 1000)
