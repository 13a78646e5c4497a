# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The joint-neighbour and frame structure of a Human3.6M-layout dataset
(MMPose's preprocessed files, real or generated): how strongly the 2D
detection errors and the 3D motion of neighbouring joints, and of
neighbouring frames, are correlated. CJI convolves over neighbouring joint
indices and CFI mixes frames; what they can add over self-attention depends
on such structure."""
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np

# Human3.6M's 17-joint skeleton (MMPose order) as (parent, child) bones
H36M_BONES = ((0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, 7),
              (7, 8), (8, 9), (9, 10), (8, 11), (11, 12), (12, 13), (8, 14),
              (14, 15), (15, 16))


def sequence_slices(imgname: Sequence[str]) -> List[slice]:
    """Runs of consecutive samples of one video (``S1_Walking.54138969``
    from ``S1_Walking.54138969_000001.jpg``)."""
    videos = [osp.basename(str(n)).rsplit('_', 1)[0] for n in imgname]
    starts = [0] + [
        i for i in range(1, len(videos)) if videos[i] != videos[i - 1]
    ]
    return [slice(a, b) for a, b in zip(starts, starts[1:] + [len(videos)])]


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equally long vectors."""
    a, b = a - a.mean(), b - b.mean()
    return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))


def joint_pair_correlation(x: np.ndarray,
                           pairs: Sequence[Tuple[int, int]]) -> float:
    """Mean over ``pairs`` (i, j) and coordinates c of the correlation of
    ``x[:, i, c]`` and ``x[:, j, c]``; x is (N, J, C)."""
    return float(
        np.mean([
            _corr(x[:, i, c], x[:, j, c]) for i, j in pairs
            for c in range(x.shape[2])
        ]))


def lag_correlation(x: np.ndarray, slices: Sequence[slice],
                    lag: int) -> float:
    """Mean over joints and coordinates of the correlation between
    ``x[t]`` and ``x[t + lag]`` within the videos; x is (N, J, C)."""
    now = np.concatenate([x[s][:-lag] for s in slices])
    later = np.concatenate([x[s][lag:] for s in slices])
    return float(
        np.mean([
            _corr(now[:, j, c], later[:, j, c]) for j in range(x.shape[1])
            for c in range(x.shape[2])
        ]))


def pair_sets(num_joints: int = 17) -> Dict[str, List[Tuple[int, int]]]:
    """Joint pairs: bones of the skeleton, index neighbours within CJI's
    reach of one kernel-5 convolution (|i - j| <= 2), and the pairs that are
    neither."""
    bones = [tuple(sorted(b)) for b in H36M_BONES]
    near = [(i, j) for i in range(num_joints)
            for j in range(i + 1, min(num_joints, i + 3))]
    far = [(i, j) for i in range(num_joints)
           for j in range(i + 1, num_joints)
           if (i, j) not in bones and (i, j) not in near]
    return dict(bones=bones, index_neighbours=near, others=far)


def structure_stats(imgname: Sequence[str], keypoints_2d: np.ndarray,
                    detections: np.ndarray,
                    keypoints_3d: np.ndarray) -> Dict[str, float]:
    """Correlations of the detection error (detections - ground truth 2D,
    pixels) and of the 3D motion (frame-to-frame velocity of the root-
    relative joints) between joints (bones, index neighbours, other pairs)
    and between frames 1 and 4 apart.

    Args:
        imgname: (N,) image names, consecutive frames of each video.
        keypoints_2d: (N, 17, >=2) ground-truth 2D.
        detections: (N, 17, >=2) detected 2D.
        keypoints_3d: (N, 17, >=3) camera-frame 3D.

    Returns:
        ``noise_<pairs>``, ``motion_<pairs>``, ``noise_lag<k>``,
        ``motion_lag<k>`` (k = 1, 4) and the RMS of both (pixels, mm per
        frame).
    """
    slices = [s for s in sequence_slices(imgname) if s.stop - s.start > 5]
    noise = detections[..., :2] - keypoints_2d[..., :2]
    pose = (keypoints_3d[..., :3] - keypoints_3d[:, :1, :3]) * 1000
    velocity = np.concatenate([np.diff(pose[s], axis=0) for s in slices])
    # the velocity's own videos: one frame shorter each
    lengths = np.cumsum([0] + [s.stop - s.start - 1 for s in slices])
    v_slices = [slice(a, b) for a, b in zip(lengths, lengths[1:])]
    stats = {}
    for name, pairs in pair_sets(noise.shape[1]).items():
        stats[f'noise_{name}'] = joint_pair_correlation(noise, pairs)
        # the root's velocity is zero after centring: leave its pairs out
        stats[f'motion_{name}'] = joint_pair_correlation(
            velocity, [p for p in pairs if 0 not in p])
    for lag in (1, 4):
        stats[f'noise_lag{lag}'] = lag_correlation(noise, slices, lag)
        stats[f'motion_lag{lag}'] = lag_correlation(velocity[:, 1:],
                                                    v_slices, lag)
    stats['noise_rms_px'] = float(np.sqrt((noise**2).sum(-1).mean()))
    stats['motion_rms_mm'] = float(
        np.sqrt((velocity[:, 1:]**2).sum(-1).mean()))
    return stats


def load_h36m_split(data_root: str,
                    split: str) -> Tuple[np.ndarray, ...]:
    """imgname, ground-truth 2D, CPN-layout detections and 3D of one split
    of MMPose's preprocessed Human3.6M."""
    with np.load(
            osp.join(data_root, 'annotation_body3d', 'fps50',
                     f'h36m_{split}.npz')) as ann:
        imgname, part, S = ann['imgname'], ann['part'], ann['S']
    det = np.load(
        osp.join(data_root, 'joint_2d_det_files',
                 f'cpn_ft_h36m_dbb_{split}.npy'))
    if len(det) != len(imgname):
        raise ValueError(f'{split}: {len(det)} detections for '
                         f'{len(imgname)} annotated samples')
    return imgname, part, det, S
