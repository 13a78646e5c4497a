"""MPI-INF-3DHP: the dataset against small files written here, and the
9-frame config training and evaluating on generated data."""
import pickle
import shutil

import numpy as np
import pytest
from mmengine.config import Config

from mmcrossformer.data_tools.files import save_npz
from mmcrossformer.data_tools.synthetic.mpi_inf_3dhp import generate_3dhp
from mmcrossformer.datasets.checks import DataCheckError
from mmcrossformer.datasets.mpi_inf_3dhp import (FLIP_INDICES, JOINT_NAMES,
                                                 MpiInf3dhpDataset,
                                                 parse_3dhp_imgname,
                                                 video_name)
from mmpose.datasets import Human36mDataset
from mmpose.registry import DATASETS

from ..helpers import REPO

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


def test_non_finite_keypoints_are_refused_on_loading(tiny_3dhp, tmp_path):
    ann = tmp_path / 'annotations'
    ann.mkdir()
    shutil.copy(tiny_3dhp / 'annotations/cameras_train.pkl', ann)
    with np.load(tiny_3dhp / 'annotations/train.npz') as f:
        arrays = {k: f[k] for k in f.files}
    arrays['S'][6, 2, 1] = np.nan
    np.savez(ann / 'train.npz', **arrays)
    with pytest.raises(DataCheckError, match=r'train.npz, array S: 1 NaN .* '
                       'frame 6, joint 2, channel 1'):
        _build(tmp_path, seq_len=3)
    arrays['S'][6, 2, 1] = 0.
    np.savez(ann / 'train.npz', **arrays)
    det = arrays['part'].astype(np.float32)
    det[9, 16, 0] = np.inf
    np.save(ann / 'det.npy', det)
    with pytest.raises(DataCheckError, match=r'2D detection file .*det.npy: '
                       '1 NaN .* frame 9, joint 16, channel 0'):
        _build(tmp_path, seq_len=3, keypoint_2d_src='detection',
               keypoint_2d_det_file='annotations/det.npy')


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


# ------------------------------------------------------------------- config
def test_config_trains_and_evaluates(tmp_path):
    from mmengine.runner import Runner
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
