"""MPJPEmm: per action, over frames and over actions (the paper's average),
in millimetres, on poses with errors known by hand."""
import math

import numpy as np
import pytest

from mmcrossformer.entrypoints import format_metrics
from mmcrossformer.evaluation import MPJPEmm

R = 0.1  # metres: four joints on a circle of this radius in the z = 0 plane
GT = np.array([[R, 0, 0], [-R, 0, 0], [0, R, 0], [0, -R, 0]])
# each joint moved by c along z; the offsets have zero mean and are
# uncorrelated with the pose, so the best rotation is the identity and the
# best translation zero; only a scale s = R^2 / (R^2 + c^2) is left, and the
# aligned error of every joint is c R / sqrt(R^2 + c^2)
Z = np.array([1., 1., -1., -1.])

# (image, c in metres); Walking_1 and Walking_2 are one action
FRAMES = [('S9_Walking_1.54138969_000001.jpg', 0.01),
          ('S9_Walking_2.54138969_000001.jpg', 0.03),
          ('S11_Greeting_1.60457274_000001.jpg', 0.06)]


def _aligned_mm(c: float) -> float:
    return 1000 * c * R / math.sqrt(R**2 + c**2)


def _sample(name: str, c: float) -> dict:
    pred = GT.copy()
    pred[:, 2] = c * Z
    return dict(
        pred_instances=dict(keypoints=pred[None]),
        gt_instances=dict(
            lifting_target=GT[None], lifting_target_visible=np.ones((1, 4))),
        target_img_path=[name])


def _metrics(mode: str) -> dict:
    metric = MPJPEmm(mode=mode)
    metric.process([], [_sample(name, c) for name, c in FRAMES])
    return metric.compute_metrics(metric.results)


def test_per_action_frame_mean_and_action_mean_in_mm():
    m = _metrics('mpjpe')
    assert m['MPJPE_Walking'] == pytest.approx(20.)  # (10 + 30) / 2
    assert m['MPJPE_Greeting'] == pytest.approx(60.)
    assert m['MPJPE'] == pytest.approx(100 / 3)  # (10 + 30 + 60) / 3
    assert m['MPJPE_action_mean'] == pytest.approx(40.)  # (20 + 60) / 2
    assert set(m) == {
        'MPJPE', 'MPJPE_Walking', 'MPJPE_Greeting', 'MPJPE_action_mean'
    }


@pytest.mark.parametrize('mode', ['p-mpjpe', 'n-mpjpe'])
def test_aligned_errors(mode):
    name = mode.upper()
    m = _metrics(mode)
    walking = (_aligned_mm(0.01) + _aligned_mm(0.03)) / 2
    greeting = _aligned_mm(0.06)
    assert greeting == pytest.approx(51.45, abs=0.01)  # 6 / sqrt(1.36) cm
    assert m[f'{name}_Walking'] == pytest.approx(walking, rel=1e-6)
    assert m[f'{name}_Greeting'] == pytest.approx(greeting, rel=1e-6)
    assert m[name] == pytest.approx(
        (_aligned_mm(0.01) + _aligned_mm(0.03) + greeting) / 3, rel=1e-6)
    assert m[f'{name}_action_mean'] == pytest.approx(
        (walking + greeting) / 2, rel=1e-6)


def test_table_prints_both_averages():
    metrics = {}
    for mode in ('mpjpe', 'p-mpjpe'):
        metrics.update(_metrics(mode))
    table = format_metrics(metrics).splitlines()
    assert table[0] == '| action | MPJPE | P-MPJPE |'
    assert table[2].startswith('| Greeting | 60.0 | 51.4 |')  # 51.45 -> .1f
    assert table[3].startswith('| Walking | 20.0 |')
    assert table[4].startswith(
        '| **Average over actions (paper protocol)** | 40.0 |')
    assert table[5].startswith('| Average over frames | 33.3 |')
    assert len(table) == 6
