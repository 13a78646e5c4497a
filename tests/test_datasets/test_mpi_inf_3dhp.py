"""MPI-INF-3DHP: 3DPCK / AUC / MPJPE against hand computations, the dataset
against small files written here, the synthetic generator, and the 9-frame
config training and evaluating on generated data."""
import pickle
import time

import numpy as np
import pytest
from mmengine.config import Config

from mmcrossformer.datasets.mpi_inf_3dhp import (FLIP_INDICES, JOINT_NAMES,
                                                 MpiInf3dhpDataset,
                                                 parse_3dhp_imgname,
                                                 video_name)
from mmcrossformer.data_tools.synthetic.h36m import project_pinhole
from mmcrossformer.data_tools.synthetic.mpi_inf_3dhp import (generate_3dhp,
                                                   save_npz)
from mmcrossformer.evaluation import AUC3D, PCK3D, MpiInf3dhpMetric
from mmcrossformer.evaluation.pck3d import (keypoint_3d_auc, keypoint_3d_pck,
                                            similarity_align)
from mmpose.datasets import Human36mDataset
from mmpose.registry import DATASETS, METRICS

from ..helpers import REPO

# ------------------------------------------------------------------ metrics
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


# ------------------------------------------------------------------ dataset
TRAIN_VIDEOS = {'S1_Seq1_Cam0': 5, 'S1_Seq1_Cam2': 4, 'S8_Seq2_Cam8': 3}
TEST_VIDEOS = {'TS1': [1, 2, 3, 7, 8], 'TS5': [4, 5, 6]}  # frame numbers


def _camera(w, h, extrinsics=True):
    cam = dict(
        c=np.array([[w / 2], [h / 2]]),
        f=np.array([[1500.], [1500.]]),
        w=w,
        h=h,
        name=f'cam{w}')
    if extrinsics:
        cam.update(R=np.eye(3), T=np.zeros((3, 1)))
    return cam


def _write_split(path, names):
    n = len(names)
    rng = np.random.default_rng(n)
    S = np.concatenate(
        [rng.normal(size=(n, 17, 3)) + [0, 0, 5],
         np.ones((n, 17, 1))], -1)
    save_npz(
        str(path),
        dict(
            imgname=np.array(names),
            center=np.full((n, 2), 1000.),
            scale=np.ones(n),
            part=np.concatenate(
                [rng.uniform(0, 2000, (n, 17, 2)),
                 np.ones((n, 17, 1))], -1),
            S=S))


@pytest.fixture(scope='module')
def tiny_3dhp(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny_3dhp')
    (root / 'annotations').mkdir()
    train = [
        f'{v}_{i + 1:06d}.jpg' for v, n in TRAIN_VIDEOS.items()
        for i in range(n)
    ]
    test = [
        f'{v}_{i:06d}.jpg' for v, frames in TEST_VIDEOS.items() for i in frames
    ]
    _write_split(root / 'annotations/train.npz', train)
    _write_split(root / 'annotations/test.npz', test)
    with open(root / 'annotations/cameras_train.pkl', 'wb') as f:
        pickle.dump({v: _camera(2048, 2048) for v in TRAIN_VIDEOS}, f)
    with open(root / 'annotations/cameras_test.pkl', 'wb') as f:
        pickle.dump(
            {
                'TS1': _camera(2048, 2048, False),
                'TS5': _camera(1920, 1080, False)
            }, f)
    return root


def _build(root, split='train', **kwargs):
    return MpiInf3dhpDataset(
        ann_file=f'annotations/{split}.npz',
        camera_param_file=f'annotations/cameras_{split}.pkl',
        data_root=str(root),
        **kwargs)


def _windows(ds):
    return [list(ds.get_data_info(i)['img_ids']) for i in range(len(ds))]


def _expected_windows(lengths, seq_len, causal, pad):
    """Per video of `lengths` frames (consecutive in the file), the frame
    windows: padded ones repeat the first / last frame."""
    out, start = [], 0
    for n in lengths:
        idx = list(range(start, start + n))
        left = seq_len - 1 if causal else (seq_len - 1) // 2
        right = 0 if causal else (seq_len - 1) // 2
        if pad:
            out += [[
                idx[min(max(i + k, 0), n - 1)]
                for k in range(-left, right + 1)
            ] for i in range(n)]
        else:
            out += [idx[i:i + seq_len] for i in range(n - seq_len + 1)]
        start += n
    return out


def test_imgname_parsing():
    assert parse_3dhp_imgname('S3_Seq2_Cam7_000123.jpg') == \
        ('S3', 'Seq2', 'Cam7')
    assert parse_3dhp_imgname('images/TS6_000001.jpg') == ('TS6', '', '')
    assert video_name('S3_Seq2_Cam7_000123.jpg') == 'S3_Seq2_Cam7'
    assert video_name('TS6_000001.jpg') == 'TS6'


@pytest.mark.parametrize('seq_len,causal,pad', [(1, False, False),
                                                (3, False, True),
                                                (3, True, True),
                                                (3, False, False),
                                                (9, False, True)])
def test_dataset_windows(tiny_3dhp, seq_len, causal, pad):
    lengths = list(TRAIN_VIDEOS.values())
    ds = _build(tiny_3dhp, seq_len=seq_len, causal=causal, pad_video_seq=pad)
    expected = _expected_windows(lengths, seq_len, causal, pad)
    assert len(ds) == len(expected)
    assert _windows(ds) == expected
    info = ds.get_data_info(0)
    assert info['keypoints'].shape == (seq_len, 17, 2)
    assert info['lifting_target'].shape == (1, 17, 3)
    target = -1 if causal else seq_len // 2
    assert info['target_img_path'][0] == info['img_paths'][target]
    # test split: one video per sequence, gaps in the frame numbers do not
    # split it (as in MMPose 0.x)
    ds = _build(
        tiny_3dhp,
        'test',
        seq_len=seq_len,
        causal=causal,
        pad_video_seq=pad,
        test_mode=True)
    lengths = [len(f) for f in TEST_VIDEOS.values()]
    assert _windows(ds) == _expected_windows(lengths, seq_len, causal, pad)


def test_windows_match_human36m(tiny_3dhp, tmp_path):
    """The same frames under Human3.6M names give the same windows."""
    h36m = [
        f'S{i}_Walking.5413896{i}_{k + 1:06d}.jpg'
        for i, n in enumerate(TRAIN_VIDEOS.values(), 1) for k in range(n)
    ]
    _write_split(tmp_path / 'h36m.npz', h36m)
    for kwargs in (dict(seq_len=5, causal=False, pad_video_seq=True),
                   dict(seq_len=2, causal=True, pad_video_seq=False),
                   dict(
                       seq_len=3, seq_step=2, causal=False,
                       pad_video_seq=True)):
        ref = Human36mDataset(ann_file=str(tmp_path / 'h36m.npz'), **kwargs)
        ours = _build(tiny_3dhp, **kwargs)
        assert _windows(ours) == _windows(ref)


def test_dataset_meta_cameras_and_split(tiny_3dhp):
    ds = _build(tiny_3dhp, seq_len=3, causal=False, pad_video_seq=True)
    meta = ds.metainfo
    assert meta['dataset_name'] == 'mpi_inf_3dhp'
    assert meta['num_keypoints'] == 17
    assert tuple(meta['keypoint_id2name'][i] for i in range(17)) == \
        JOINT_NAMES
    assert tuple(meta['flip_indices']) == FLIP_INDICES
    for i, j in enumerate(meta['flip_indices']):
        swapped = JOINT_NAMES[i].replace('left', 'L').replace('right',
                                                              'left').replace(
                                                                  'L', 'right')
        assert JOINT_NAMES[j] == swapped
    assert {frozenset(p)
            for p in meta['flip_pairs']} == {
                frozenset(p)
                for p in ((2, 5), (3, 6), (4, 7), (8, 11), (9, 12), (10, 13))
            }
    assert len(meta['skeleton_links']) == 16
    assert ds.get_data_info(0)['flip_indices'] == list(FLIP_INDICES)
    assert DATASETS.get('MpiInf3dhpDataset') is MpiInf3dhpDataset

    subjects = {
        parse_3dhp_imgname(ds.get_data_info(i)['target_img_path'][0])[0]
        for i in range(len(ds))
    }
    assert subjects == {'S1', 'S8'}
    assert ds.get_data_info(0)['camera_param']['w'] == 2048
    test_args = dict(
        seq_len=3, causal=False, pad_video_seq=True, test_mode=True)
    test = _build(tiny_3dhp, 'test', **test_args)
    names = [
        test.get_data_info(i)['target_img_path'][0] for i in range(len(test))
    ]
    assert all(n.startswith('TS') for n in names)
    assert len(test) == 8
    last = test.get_data_info(len(test) - 1)
    assert last['target_img_path'][0] == 'TS5_000006.jpg'
    assert (last['camera_param']['w'], last['camera_param']['h']) == \
        (1920, 1080)
    # the sample goes through the codec / pipeline of the config
    cfg = Config.fromfile(REPO / 'configs/crossformer_3dhp_9f.py')
    test = _build(tiny_3dhp, 'test', pipeline=cfg.val_pipeline, **test_args)
    out = test[len(test) - 1]
    assert tuple(out['inputs'].shape) == (3, 17, 2)
    label = out['data_samples'].gt_instance_labels.lifting_target_label
    assert float(label[0, 14].abs().max()) == 0.  # pelvis-relative target


# ---------------------------------------------------------------- generator
def test_generator_layout_and_determinism(tmp_path):
    kwargs = dict(train_frames=6, test_frames=20, cams=(0, 5))
    counts = generate_3dhp(str(tmp_path / 'a'), seed=3, **kwargs)
    generate_3dhp(str(tmp_path / 'b'), seed=3, **kwargs)
    generate_3dhp(str(tmp_path / 'c'), seed=4, **kwargs)
    files = [
        'mpi_inf_3dhp_train.npz', 'mpi_inf_3dhp_test_valid.npz',
        'cameras_train.pkl', 'cameras_test.pkl'
    ]
    for f in files:
        a = (tmp_path / 'a/annotations' / f).read_bytes()
        assert a == (tmp_path / 'b/annotations' / f).read_bytes()
        assert a != (tmp_path / 'c/annotations' / f).read_bytes()
    assert counts['train'] == 8 * 2 * 2 * 6
    train = np.load(tmp_path / 'a/annotations/mpi_inf_3dhp_train.npz')
    test = np.load(tmp_path / 'a/annotations/mpi_inf_3dhp_test_valid.npz')
    assert set(train.files) == set(
        test.files) == {'imgname', 'center', 'scale', 'part', 'S'}
    assert train['part'].shape == (counts['train'], 17, 3)
    assert train['S'].shape == (counts['train'], 17, 4)
    videos = {video_name(n) for n in train['imgname']}
    assert videos == {
        f'S{s}_Seq{q}_Cam{c}'
        for s in range(1, 9)
        for q in (1, 2)
        for c in (0, 5)
    }
    assert {video_name(n) for n in test['imgname']} == \
        {f'TS{i}' for i in range(1, 7)}
    assert len(test['imgname']) == counts['test'] == 6 * 19  # 1 invalid each
    with open(tmp_path / 'a/annotations/cameras_train.pkl', 'rb') as f:
        cams = pickle.load(f)
    with open(tmp_path / 'a/annotations/cameras_test.pkl', 'rb') as f:
        test_cams = pickle.load(f)
    assert set(cams) == videos
    assert {(c['w'], c['h'])
            for k, c in test_cams.items()
            if k in ('TS5', 'TS6')} == {(1920, 1080)}
    assert 'R' not in test_cams['TS1'] and 'R' in cams['S1_Seq1_Cam0']

    # 2D = pinhole projection of the camera-frame 3D; everything in view
    for data, camera_of in ((train, cams), (test, test_cams)):
        for k in (0, len(data['imgname']) - 1):
            cam = camera_of[video_name(data['imgname'][k])]
            np.testing.assert_allclose(
                project_pinhole(data['S'][k, :, :3].astype(np.float64), cam),
                data['part'][k, :, :2],
                rtol=1e-5)
        assert data['part'][..., 2].all() and (data['S'][..., 2] > 1).all()
    # one rig: the same world motion in two cameras (R X + T), so bone
    # lengths agree between cameras, and stay constant within a subject
    # across frames and sequences, but differ between subjects
    S = train['S'][..., :3]
    subj = np.array([n.split('_')[0] for n in train['imgname']])
    thigh = np.linalg.norm(S[:, 8] - S[:, 9], axis=-1)  # right hip-knee
    for s in np.unique(subj):
        assert np.ptp(thigh[subj == s]) < 1e-4
    assert np.ptp([thigh[subj == s][0] for s in np.unique(subj)]) > 0.01


# ------------------------------------------------------------------- config
def test_config_trains_and_evaluates(tmp_path):
    from mmengine.runner import Runner
    start = time.time()
    root = tmp_path / 'data'
    generate_3dhp(
        str(root), seed=0, train_frames=8, test_frames=10, cams=(0, ))
    cfg = Config.fromfile(REPO / 'configs/crossformer_3dhp_9f.py')
    assert cfg.model.head.decoder.root_index == 14
    train_dataset = cfg.train_dataloader.dataset.dataset
    assert train_dataset.pipeline[0].encoder.root_index == 14
    assert cfg.model.backbone.num_frames == cfg.model.head.num_frames == \
        train_dataset.seq_len == 9
    train_dataset.data_root = str(root)
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].update(batch_size=8, num_workers=0, persistent_workers=False)
        if name != 'train_dataloader':
            cfg[name].dataset.data_root = str(root)
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.log_processor = dict(by_epoch=False)
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook',
        by_epoch=False,
        interval=1,
        save_best='MPJPE',
        rule='less')
    cfg.work_dir = str(tmp_path / 'work_dir')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    metrics = runner.test()
    for key in ('3DPCK', '3DAUC', 'MPJPE', 'P-3DPCK', 'P-3DAUC', 'P-MPJPE',
                'all17/MPJPE', '3DPCK_TS1', 'MPJPE_TS6'):
        assert np.isfinite(metrics[key]), key
    assert 0 <= metrics['3DAUC'] <= metrics['3DPCK'] <= 100
    assert metrics['P-MPJPE'] <= metrics['MPJPE']
    assert list((tmp_path / 'work_dir').glob('best_MPJPE_iter_1.pth'))
    assert time.time() - start < 60
