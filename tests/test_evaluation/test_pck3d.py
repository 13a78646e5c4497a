"""MPI-INF-3DHP metrics: 3DPCK / AUC / MPJPE against hand computations."""
import numpy as np
import pytest

from mmcrossformer.evaluation import AUC3D, PCK3D, MpiInf3dhpMetric
from mmcrossformer.evaluation.pck3d import (keypoint_3d_auc, keypoint_3d_pck,
                                            similarity_align)
from mmpose.registry import METRICS

# errors (mm) of the 14 benchmark joints, on and between the thresholds
ERRORS_14 = [0, 2, 7, 12, 30, 60, 100, 140, 149, 150, 160, 200, 300, 1000]
ERROR_EXTRA = 500  # pelvis, spine, head: outside the 14-joint subset
# 3DPCK@150: 9 errors are < 150 (150 itself is not)
PCK_14 = 9 / 14 * 100
# AUC: an error e < 150 passes the thresholds 5k > e, k = 0..30, i.e.
# 30 - floor(e / 5) of the 31: 30+30+29+28+24+18+10+2+1 = 172
AUC_14 = 172 / (31 * 14) * 100
MPJPE_14 = 2310 / 14  # sum of ERRORS_14 = 2310


def _sample(pred, gt, name='TS1_000001.jpg', visible=None):
    """A data sample as the evaluator sees it (PoseDataSample.to_dict())."""
    gt_inst = dict(lifting_target=gt[None].astype(np.float32))
    if visible is not None:
        gt_inst['lifting_target_visible'] = visible[None].astype(np.float32)
    return dict(
        pred_instances=dict(keypoints=pred[None].astype(np.float32)),
        gt_instances=gt_inst,
        target_img_path=np.array([name]))


def _pose_pair(rng, errors_mm):
    """An integer-valued GT pose (mm) and a prediction whose joint j is off
    by exactly errors_mm[j] along a random axis (exact in float32)."""
    gt = rng.integers(-800, 800, size=(17, 3)).astype(np.float64)
    offsets = np.zeros((17, 3))
    offsets[np.arange(17), rng.integers(0, 3, 17)] = errors_mm
    return gt + offsets * rng.choice([-1, 1], size=(17, 1)), gt


def _evaluate(metric, samples):
    metric.process([], samples)
    return metric.compute_metrics(metric.results)


def test_pck_auc_mpjpe_known_errors():
    rng = np.random.default_rng(0)
    errors = np.array(ERRORS_14 + [ERROR_EXTRA] * 3, float)
    pred, gt = _pose_pair(rng, errors)
    m = _evaluate(MpiInf3dhpMetric(unit_scale=1.), [_sample(pred, gt)])
    assert m['3DPCK'] == pytest.approx(PCK_14, abs=1e-9)
    assert m['3DAUC'] == pytest.approx(AUC_14, abs=1e-9)
    assert m['MPJPE'] == pytest.approx(MPJPE_14, abs=1e-4)
    assert m['3DPCK_TS1'] == m['3DPCK']

    # all 17 joints: the three extra ones are wrong at every threshold
    m = _evaluate(
        MpiInf3dhpMetric(unit_scale=1., joints=None), [_sample(pred, gt)])
    assert m['3DPCK'] == pytest.approx(9 / 17 * 100)
    assert m['3DAUC'] == pytest.approx(172 / (31 * 17) * 100)
    assert m['MPJPE'] == pytest.approx((2310 + 3 * 500) / 17, abs=1e-4)

    # the functional forms agree; metres with unit_scale 1000 give the same
    # numbers (away from the thresholds: 0.149 m is 149.00000x mm)
    sub = list(range(14))
    assert keypoint_3d_pck(pred[None, sub], gt[None, sub]) == \
        pytest.approx(PCK_14)
    assert keypoint_3d_auc(pred[None, sub], gt[None, sub]) == \
        pytest.approx(AUC_14)
    # 1.5, 3.5, 8.5, ..., 150.5, ...: none on a threshold, 8 below 150
    errors_off = errors + 1.5
    pred, gt = _pose_pair(rng, errors_off)
    m_mm = _evaluate(MpiInf3dhpMetric(unit_scale=1.), [_sample(pred, gt)])
    m_m = _evaluate(MpiInf3dhpMetric(), [_sample(pred / 1e3, gt / 1e3)])
    assert m_m['3DPCK'] == m_mm['3DPCK'] == pytest.approx(8 / 14 * 100)
    assert m_m['3DAUC'] == pytest.approx(m_mm['3DAUC'])
    assert m_m['MPJPE'] == pytest.approx(MPJPE_14 + 1.5, abs=1e-3)


def test_per_sequence_subsets_and_visibility():
    rng = np.random.default_rng(1)
    good = _pose_pair(rng, np.full(17, 10.))  # all correct
    bad = _pose_pair(rng, np.full(17, 200.))  # all wrong
    samples = [
        _sample(*good, name='TS1_000001.jpg'),
        _sample(*good, name='TS1_000002.jpg'),
        _sample(*bad, name='TS5_000007.jpg'),
    ]
    m = _evaluate(MpiInf3dhpMetric(unit_scale=1.), samples)
    assert m['3DPCK'] == pytest.approx(200 / 3)
    assert m['3DPCK_TS1'] == 100. and m['3DPCK_TS5'] == 0.
    assert m['MPJPE_TS1'] == pytest.approx(10.)
    assert m['MPJPE_TS5'] == pytest.approx(200.)
    assert m['3DAUC_TS1'] == pytest.approx(28 / 31 * 100)  # 5k > 10: k>=3
    # single-metric variants, an explicit joint list, no per-sequence keys
    m = _evaluate(PCK3D(unit_scale=1., per_sequence=False), samples)
    assert m == {'3DPCK': pytest.approx(200 / 3)}
    m = _evaluate(
        AUC3D(unit_scale=1., joints=[0, 1], per_sequence=False), samples)
    assert m == {'3DAUC': pytest.approx(2 / 3 * 28 / 31 * 100)}
    # visibility: only the visible joints count when asked
    pred, gt = _pose_pair(rng, np.array([10.] * 7 + [200.] * 10))
    visible = np.array([1.] * 7 + [0.] * 10)
    s = [_sample(pred, gt, visible=visible)]
    assert _evaluate(MpiInf3dhpMetric(unit_scale=1.),
                     s)['3DPCK'] == pytest.approx(50.)
    assert _evaluate(MpiInf3dhpMetric(unit_scale=1., use_visibility=True),
                     s)['3DPCK'] == 100.
    # root-relative evaluation removes a global offset of the prediction
    pred, gt = _pose_pair(rng, np.zeros(17))
    s = [_sample(pred + [300., 0., 0.], gt)]
    assert _evaluate(MpiInf3dhpMetric(unit_scale=1.), s)['3DPCK'] == 0.
    m = _evaluate(MpiInf3dhpMetric(unit_scale=1., root_index=14), s)
    assert m['3DPCK'] == 100. and m['MPJPE'] == pytest.approx(0., abs=1e-4)


def _rotation(rng):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q * np.linalg.det(q)  # det +1


def test_rigid_alignment_removes_similarity_transform():
    rng = np.random.default_rng(2)
    gt = rng.normal(scale=300., size=(17, 3))
    R, s, t = _rotation(rng), 1.7, np.array([120., -40., 900.])
    pred = s * gt @ R.T + t
    samples = [_sample(pred, gt)]
    m = _evaluate(MpiInf3dhpMetric(unit_scale=1., alignment='none'), samples)
    assert m['MPJPE'] > 300. and m['3DPCK'] < 50.
    m = _evaluate(
        MpiInf3dhpMetric(unit_scale=1., alignment='procrustes'), samples)
    assert m['P-MPJPE'] == pytest.approx(0., abs=1e-2)
    assert m['P-3DPCK'] == 100.
    # error ~0 passes every threshold but 0: 30 of 31
    assert m['P-3DAUC'] == pytest.approx(30 / 31 * 100)
    assert set(m) >= {'P-3DPCK', 'P-3DAUC', 'P-MPJPE', 'P-3DPCK_TS1'}
    # scale alignment undoes a pure scale only
    m = _evaluate(
        MpiInf3dhpMetric(unit_scale=1., alignment='scale'),
        [_sample(0.5 * gt, gt)])
    assert m['N-MPJPE'] == pytest.approx(0., abs=1e-3)
    # a batch of transforms, and no reflection: a mirrored pose cannot be
    # aligned exactly
    gts = rng.normal(size=(4, 17, 3))
    preds = np.stack([2. * g @ _rotation(rng).T + 1. for g in gts])
    np.testing.assert_allclose(similarity_align(preds, gts), gts, atol=1e-9)
    mirrored = gts[:1] * [-1., 1., 1.]
    assert np.abs(similarity_align(mirrored, gts[:1]) - gts[:1]).max() > 0.1


def test_metric_arguments_are_checked():
    with pytest.raises(ValueError):
        MpiInf3dhpMetric(alignment='rigid')
    with pytest.raises(ValueError):
        MpiInf3dhpMetric(metrics=['PCK'])
    with pytest.raises(ValueError):
        MpiInf3dhpMetric(joints='mpi15')
    assert METRICS.get('MpiInf3dhpMetric') is MpiInf3dhpMetric
    assert METRICS.get('PCK3D') is PCK3D and METRICS.get('AUC3D') is AUC3D
