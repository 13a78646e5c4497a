# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Reference errors that a trained lifter must beat."""
import os.path as osp

import numpy as np


def mean_pose_mpjpe(data_root: str) -> float:
    """MPJPE (mm) of answering every test frame of a Human3.6M-layout
    dataset with the mean root-relative training pose."""
    poses = {}
    for split in ('train', 'test'):
        with np.load(osp.join(data_root, 'annotation_body3d', 'fps50',
                              f'h36m_{split}.npz')) as ann:
            S = ann['S'][..., :3]
        poses[split] = S - S[:, :1]
    mean = poses['train'].mean(axis=0)
    return float(np.linalg.norm(poses['test'] - mean, axis=-1).mean() * 1000)
