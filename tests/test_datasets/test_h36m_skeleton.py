"""The Human3.6M skeleton facts read from MMPose's dataset meta."""
from mmpose.datasets import Human36mDataset

from mmcrossformer.datasets import h36m_skeleton as sk
from mmcrossformer.datasets.windows import target_index, window_offsets


def test_facts_match_the_human36m_layout():
    assert sk.H36M_KEYPOINTS == (
        'root', 'right_hip', 'right_knee', 'right_foot', 'left_hip',
        'left_knee', 'left_foot', 'spine', 'thorax', 'neck_base', 'head',
        'left_shoulder', 'left_elbow', 'left_wrist', 'right_shoulder',
        'right_elbow', 'right_wrist')
    assert sk.H36M_SKELETON == ((0, 4), (4, 5), (5, 6), (0, 1), (1, 2),
                                (2, 3), (0, 7), (7, 8), (8, 9), (9, 10),
                                (8, 11), (11, 12), (12, 13), (8, 14),
                                (14, 15), (15, 16))
    assert sk.H36M_FLIP_INDICES == (0, 4, 5, 6, 1, 2, 3, 7, 8, 9, 10, 14, 15,
                                    16, 11, 12, 13)
    assert sk.H36M_LEFT == {4, 5, 6, 11, 12, 13}
    assert sk.H36M_RIGHT == {1, 2, 3, 14, 15, 16}
    assert sk.H36M_PARENTS == (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8,
                               14, 15)
    # the flip swaps exactly the left and right sides
    for j, k in enumerate(sk.H36M_FLIP_INDICES):
        assert (j in sk.H36M_LEFT) == (k in sk.H36M_RIGHT)


def test_facts_are_the_ones_the_stock_dataset_uses():
    meta = Human36mDataset.METAINFO
    assert sk.H36M_METAINFO['flip_indices'] == list(sk.H36M_FLIP_INDICES)
    assert meta == dict(from_file='configs/_base_/datasets/h36m.py')


def test_window_arithmetic():
    assert target_index(9, False) == 4 and target_index(9, True) == 8
    assert list(window_offsets(5, False, 2)) == [-4, -2, 0, 2, 4]
    assert list(window_offsets(4, True)) == [-3, -2, -1, 0]
    # the target sits at offset 0
    for causal in (False, True):
        assert window_offsets(27, causal)[target_index(27, causal)] == 0
