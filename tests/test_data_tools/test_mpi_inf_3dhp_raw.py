"""The raw MPI-INF-3DHP converter on small files in the raw formats
(training annot.mat: MATLAB v5; test annot_data.mat: MATLAB v7.3 = HDF5),
and the dataset reading its output: universal skeleton, windows over real
time, only valid frames evaluated."""
import pickle

import h5py
import numpy as np
import pytest
from scipy.io import savemat

from mmcrossformer.data_tools.mpi_inf_3dhp_raw import (convert_test,
                                                       convert_train)
from mmcrossformer.datasets import MpiInf3dhpDataset
from mmcrossformer.datasets.mpi_inf_3dhp import JOINT_NAMES

# the 28 joints of 3DHP's training annotations (its mpii_get_joints.m)
RAW_28 = ('spine3', 'spine4', 'spine2', 'spine', 'pelvis', 'neck', 'head',
          'head_top', 'left_clavicle', 'left_shoulder', 'left_elbow',
          'left_wrist', 'left_hand', 'right_clavicle', 'right_shoulder',
          'right_elbow', 'right_wrist', 'right_hand', 'left_hip', 'left_knee',
          'left_ankle', 'left_foot', 'left_toe', 'right_hip', 'right_knee',
          'right_ankle', 'right_foot', 'right_toe')
TRAIN_FRAMES = 5
# TS1: 8 frames, 3 and 4 invalid; TS5: 4 frames, the first invalid
VALID = {'TS1': [1, 1, 1, 0, 0, 1, 1, 1], 'TS5': [0, 1, 1, 1]}


def _raw_value(joint: int, cam: int, frame: int, dim: int) -> np.ndarray:
    """Coordinates that encode (joint, camera, frame), in mm or pixels."""
    return np.array([1000. * joint, 10. * cam + 1, frame + 2.][:dim])


def _write_train(root):
    for subject, seq in (('S1', 'Seq1'), ('S2', 'Seq2')):
        cells = {k: np.empty((14, 1), dtype=object)
                 for k in ('annot2', 'annot3', 'univ_annot3')}
        for cam in range(14):
            for key, dim, scale in (('annot2', 2, 1.), ('annot3', 3, 1.),
                                    ('univ_annot3', 3, 2.)):
                cells[key][cam, 0] = np.stack([
                    np.concatenate([
                        scale * _raw_value(k, cam, t, dim) for k in range(28)
                    ]) for t in range(TRAIN_FRAMES)
                ])
        d = root / subject / seq
        d.mkdir(parents=True)
        savemat(d / 'annot.mat', dict(cameras=np.arange(14)[None], **cells))


def _test_arrays(seq):
    n = len(VALID[seq])
    rng = np.random.default_rng(n)
    annot3 = rng.normal(0, 300, (n, 1, 17, 3)) + [0, 0, 4000]
    return dict(
        annot2=rng.uniform(0, 1000, (n, 1, 17, 2)),
        annot3=annot3,
        univ_annot3=annot3 * 0.9,
        valid_frame=np.array(VALID[seq], dtype=np.float64)[:, None])


def _write_test(root):
    for seq in VALID:
        (root / seq).mkdir(parents=True)
        with h5py.File(root / seq / 'annot_data.mat', 'w') as f:
            for key, value in _test_arrays(seq).items():
                f[key] = value


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    raw = tmp_path_factory.mktemp('raw')
    _write_train(raw / 'train')
    _write_test(raw / 'test')
    out = tmp_path_factory.mktemp('out')
    n_train = convert_train(str(raw / 'train'), str(out))
    counts = convert_test(str(raw / 'test'), str(out))
    return out, n_train, counts


def test_training_set(converted):
    out, n_train, _ = converted
    cams = (0, 1, 2, 4, 5, 6, 7, 8)
    assert n_train == 2 * len(cams) * TRAIN_FRAMES
    d = np.load(out / 'annotations/mpi_inf_3dhp_train.npz')
    names = list(d['imgname'])
    assert names[:2] == ['S1_Seq1_Cam0_000001.jpg', 'S1_Seq1_Cam0_000002.jpg']
    assert names[-1] == f'S2_Seq2_Cam8_{TRAIN_FRAMES:06d}.jpg'
    # the test skeleton's 17 joints, by name, from the 28
    raw_index = [RAW_28.index('pelvis' if n == 'root' else n)
                 for n in JOINT_NAMES]
    row = names.index('S2_Seq2_Cam4_000003.jpg')
    for j, k in enumerate(raw_index):
        np.testing.assert_allclose(d['part'][row, j],
                                   [*_raw_value(k, 4, 2, 2), 1.])
        np.testing.assert_allclose(d['S'][row, j],
                                   [*_raw_value(k, 4, 2, 3) / 1000, 1.],
                                   rtol=1e-6)
        np.testing.assert_allclose(d['S_univ'][row, j],
                                   [*2 * _raw_value(k, 4, 2, 3) / 1000, 1.],
                                   rtol=1e-6)
    with open(out / 'annotations/cameras_train.pkl', 'rb') as f:
        cameras = pickle.load(f)
    assert cameras['S1_Seq1_Cam5'] == dict(w=2048, h=2048, name='S1_Seq1_Cam5')
    assert len(cameras) == 2 * len(cams)


def test_test_set_keeps_every_frame_and_the_flags(converted):
    out, _, counts = converted
    assert counts == dict(frames=12, valid=9)
    d = np.load(out / 'annotations/mpi_inf_3dhp_test_all.npz')
    assert list(d['imgname'][:2]) == ['TS1_000001.jpg', 'TS1_000002.jpg']
    assert list(d['valid_frame']) == [bool(v) for v in VALID['TS1'] +
                                      VALID['TS5']]
    raw = _test_arrays('TS5')
    np.testing.assert_allclose(d['S'][8:, :, :3],
                               raw['annot3'][:, 0] / 1000, rtol=1e-6)
    np.testing.assert_allclose(d['S_univ'][8:, :, :3],
                               raw['univ_annot3'][:, 0] / 1000, rtol=1e-6)
    np.testing.assert_allclose(d['part'][8:, :, :2], raw['annot2'][:, 0],
                               rtol=1e-6)
    with open(out / 'annotations/cameras_test.pkl', 'rb') as f:
        cameras = pickle.load(f)
    assert (cameras['TS1']['w'], cameras['TS1']['h']) == (2048, 2048)
    assert (cameras['TS5']['w'], cameras['TS5']['h']) == (1920, 1080)


def _test_dataset(out, **kwargs):
    return MpiInf3dhpDataset(
        ann_file='annotations/mpi_inf_3dhp_test_all.npz',
        camera_param_file='annotations/cameras_test.pkl',
        data_root=str(out),
        seq_len=3,
        causal=False,
        pad_video_seq=True,
        test_mode=True,
        **kwargs)


def test_windows_over_real_time_targets_valid_and_universal(converted):
    out = converted[0]
    ds = _test_dataset(out, protocol='poseformer')
    d = np.load(out / 'annotations/mpi_inf_3dhp_test_all.npz')
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    targets = [int(info['img_ids'][1]) for info in infos]
    # one window per valid frame, none for the invalid ones
    assert targets == [0, 1, 2, 5, 6, 7, 9, 10, 11]
    # windows run over consecutive frames, invalid ones included
    assert [list(i['img_ids']) for i in infos[2:4]] == [[1, 2, 3],
                                                       [4, 5, 6]]
    assert list(infos[6]['img_ids']) == [8, 9, 10]  # TS5's first is invalid
    for info, t in zip(infos, targets):
        np.testing.assert_array_equal(info['lifting_target'][0],
                                      d['S_univ'][t, :, :3])
    # MMPose 0.x's targets (annot3) on the same windows
    mm = _test_dataset(out)
    assert mm.protocol == 'mmpose0x'
    np.testing.assert_array_equal(mm.get_data_info(3)['lifting_target'][0],
                                  d['S'][5, :, :3])


def test_protocol_errors(converted, tmp_path):
    with pytest.raises(ValueError, match='protocol must be one of'):
        _test_dataset(converted[0], protocol='univ')
    # a file without the universal skeleton (MMPose 0.x's preprocessing)
    d = dict(np.load(converted[0] / 'annotations/mpi_inf_3dhp_test_all.npz'))
    del d['S_univ']
    (tmp_path / 'annotations').mkdir()
    np.savez(tmp_path / 'annotations/mpi_inf_3dhp_test_all.npz', **d)
    (tmp_path / 'annotations/cameras_test.pkl').write_bytes(
        (converted[0] / 'annotations/cameras_test.pkl').read_bytes())
    with pytest.raises(KeyError, match="no 'S_univ' array"):
        _test_dataset(tmp_path, protocol='poseformer')


def test_poseformer_protocol_config_reads_the_converted_files(converted):
    from mmengine.config import Config
    from mmpose.registry import DATASETS

    from ..helpers import REPO
    out = converted[0]
    cfg = Config.fromfile(REPO / 'configs/crossformer_3dhp_9f_poseformer.py')
    train_cfg = cfg.train_dataloader.dataset
    train_cfg.dataset.data_root = str(out)
    test_cfg = cfg.test_dataloader.dataset
    test_cfg.data_root = str(out)
    train, test = DATASETS.build(train_cfg), DATASETS.build(test_cfg)
    assert train.dataset.protocol == test.protocol == 'poseformer'
    assert len(train) == 2 * 2 * 8 * TRAIN_FRAMES  # plain and mirrored
    assert len(test) == 9  # the valid frames
    d = np.load(out / 'annotations/mpi_inf_3dhp_test_all.npz')
    np.testing.assert_array_equal(
        test.get_data_info(0)['lifting_target'][0], d['S_univ'][0, :, :3])
