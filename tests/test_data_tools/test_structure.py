"""Joint-neighbour and frame correlations of a Human3.6M-layout dataset:
by hand on constructed arrays, and on the generator's detections against
the correlations its noise model implies."""
import math

import numpy as np
import pytest

from mmcrossformer.data_tools.structure import (joint_pair_correlation,
                                                lag_correlation,
                                                load_h36m_split, pair_sets,
                                                sequence_slices,
                                                structure_stats)
from mmcrossformer.data_tools.synthetic.h36m import (generate_h36m,
                                                   simulate_detections)


def test_sequence_slices_split_at_a_new_video():
    names = [f'S1/S1_Walking.1/S1_Walking.1_{i:06d}.jpg' for i in range(3)]
    names += [f'S1/S1_Walking_1.1/S1_Walking_1.1_{i:06d}.jpg'
              for i in range(2)]
    assert sequence_slices(names) == [slice(0, 3), slice(3, 5)]


def test_pair_and_lag_correlations_by_hand():
    t = np.arange(10.)
    x = np.stack([t, 2 * t + 3, -t], axis=1)[..., None]  # (10, 3, 1)
    assert joint_pair_correlation(x, [(0, 1)]) == pytest.approx(1)
    assert joint_pair_correlation(x, [(0, 2)]) == pytest.approx(-1)
    assert joint_pair_correlation(x, [(0, 1), (0, 2)]) == pytest.approx(0)
    alternating = np.array([1., -1.] * 5)[:, None, None]  # (10, 1, 1)
    # one video: lag 1 pairs (1, -1) x 9 -> -1; lag 2 -> +1
    assert lag_correlation(alternating, [slice(0, 10)], 1) == \
        pytest.approx(-1)
    assert lag_correlation(alternating, [slice(0, 10)], 2) == \
        pytest.approx(1)
    # two videos of 5: the pair across the border (t = 4, 5) is left out
    ramp = np.concatenate([np.arange(5.), -np.arange(5.)])[:, None, None]
    assert lag_correlation(ramp, [slice(0, 5), slice(5, 10)], 1) == \
        pytest.approx(_pearson([0, 1, 2, 3, 0, -1, -2, -3],
                               [1, 2, 3, 4, -1, -2, -3, -4]))


def _pearson(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_pair_sets_partition_the_pairs():
    sets = pair_sets()
    assert len(sets['bones']) == 16
    assert (1, 2) in sets['bones'] and (8, 11) in sets['bones']
    assert (8, 10) in sets['index_neighbours']
    assert (8, 11) not in sets['others'] and (3, 4) not in sets['others']
    every = {p for pairs in sets.values() for p in pairs}
    assert len(every) == 17 * 16 // 2


def test_detector_noise_has_the_generator_correlations():
    """simulate_detections without outliers: unit = 0.6 white + 0.8 x
    gaussian-filtered (sigma 3 frames) noise, independent per joint, so the
    lag-k correlation is 0.64 exp(-k^2 / 36) / (0.36 + 0.64) and joints are
    uncorrelated."""
    frames = 4000
    det, _ = simulate_detections(
        np.random.default_rng(0), np.zeros((frames, 17, 2)),
        np.full(frames, 5.), outlier_rate=0.)
    names = [f'S1/S1_Walking.1/S1_Walking.1_{i:06d}.jpg'
             for i in range(frames)]
    pose = np.random.default_rng(1).normal(size=(frames, 17, 3))
    stats = structure_stats(names, np.zeros((frames, 17, 2)), det, pose)
    for lag in (1, 4):
        assert stats[f'noise_lag{lag}'] == pytest.approx(
            0.64 * math.exp(-lag**2 / 36), abs=0.03)
    for pairs in ('bones', 'index_neighbours', 'others'):
        assert abs(stats[f'noise_{pairs}']) < 0.03
    # white-noise poses: velocities v_t = p_t+1 - p_t have lag-1
    # correlation -1/2, none at lag 4
    assert stats['motion_lag1'] == pytest.approx(-0.5, abs=0.03)
    assert stats['motion_lag4'] == pytest.approx(0, abs=0.03)


def test_generated_motion_is_smooth_and_moves_along_bones(tmp_path):
    generate_h36m(str(tmp_path), frames=200, subactions=1,
                  subjects=['S1', 'S5'], actions=['Walking', 'Greeting'])
    stats = structure_stats(*load_h36m_split(str(tmp_path), 'train'))
    assert stats['motion_bones'] > stats['motion_others'] + 0.1
    assert stats['motion_lag1'] > 0.9
