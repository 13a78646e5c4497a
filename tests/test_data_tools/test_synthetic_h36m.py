"""Synthetic Human3.6M: MMPose layout, determinism, geometry, detections."""
import hashlib
import pickle
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
from mmpose.datasets import Human36mDataset
from mmpose.utils.camera import SimpleCamera

from mmcrossformer.datasets.h36m_skeleton import H36M_PARENTS
from mmcrossformer.data_tools import h36m_layout as layout
from mmcrossformer.data_tools.camera import camera_to_world_at, project_pinhole
from mmcrossformer.data_tools.synthetic import h36m as sh
from mmcrossformer.data_tools.synthetic import h36m_body, h36m_motions
from ..helpers import REPO, load_h36m_cameras, load_h36m_split

FRAMES = 60
SUBACTIONS = 1
SEQ_LEN = 27
IMGNAME_RE = re.compile(r'^(S\d+)/\1_([A-Za-z]+(?:_\d+)?)\.(\d{8})/'
                        r'\1_\2\.\3_(\d{6})\.jpg$')


def _generate(out_dir: Path, seed: int = 0, **kwargs) -> dict:
    return sh.generate_h36m(
        str(out_dir),
        seed=seed,
        frames=FRAMES,
        subactions=SUBACTIONS,
        **kwargs)


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('synth_h36m')
    _generate(root)
    return root


def _parse(imgname: str) -> tuple:
    """(subject, action, camera id, 1-based frame) of an image name."""
    m = IMGNAME_RE.match(imgname)
    assert m, imgname
    return m.group(1), m.group(2), m.group(3), int(m.group(4))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(data_root, tmp_path):
    again = _generate(tmp_path / 'again')
    assert set(again['files']) == {
        layout.CAMERA_FILE,
        layout.ann_file('train'),
        layout.ann_file('test'),
        layout.det_file('train'),
        layout.det_file('test')
    } | {
        f'{layout.ANN_DIR}/{layout.FPS_DIR}/{n}.pkl'
        for n in ('joint3d_stats', 'joint2d_stats', 'joint3d_rel_stats',
                  'joint2d_rel_stats')
    }
    for rel in again['files']:
        assert _sha256(data_root / rel) == _sha256(tmp_path / 'again' / rel)

    _generate(tmp_path / 'other', seed=1)
    a, b = load_h36m_split(data_root, 'train'), load_h36m_split(tmp_path / 'other', 'train')
    np.testing.assert_array_equal(a['imgname'], b['imgname'])
    assert np.abs(a['S'] - b['S']).mean() > 0.05
    det_a = np.load(data_root / layout.det_file('train'))
    det_b = np.load(tmp_path / 'other' / layout.det_file('train'))
    assert not np.allclose(det_a, det_b)


def test_manifest_skips_only_identical_requests(tmp_path):
    first = _generate(tmp_path, subjects=['S1', 'S9'], actions=['Walking'])
    assert not first['skipped']
    npz = tmp_path / layout.ann_file('train')
    mtime = npz.stat().st_mtime_ns
    second = _generate(tmp_path, subjects=['S1', 'S9'], actions=['Walking'])
    assert second['skipped'] and npz.stat().st_mtime_ns == mtime
    assert second['samples'] == first['samples'] == {
        'train': FRAMES * 4,
        'test': FRAMES * 4
    }
    third = _generate(tmp_path, subjects=['S1', 'S9'], actions=['Greeting'])
    assert not third['skipped']
    assert 'Greeting' in load_h36m_split(tmp_path, 'train')['imgname'][0]
    (tmp_path / layout.det_file('test')).unlink()  # incomplete output
    assert not _generate(
        tmp_path, subjects=['S1', 'S9'], actions=['Greeting'])['skipped']
    assert (tmp_path / layout.det_file('test')).is_file()


def test_layout_matches_mmpose_preprocessing(data_root):
    n_actions = len(h36m_motions.ACTIONS)
    for split, subjects in (('train', layout.TRAIN_SUBJECTS),
                            ('test', layout.TEST_SUBJECTS)):
        d = load_h36m_split(data_root, split)
        n = len(subjects) * n_actions * SUBACTIONS * FRAMES * 4
        assert set(d) == {'imgname', 'center', 'scale', 'part', 'S'}
        assert d['imgname'].dtype.kind == 'U' and d['imgname'].shape == (n, )
        for key, shape in (('center', (n, 2)), ('scale', (n, )),
                           ('part', (n, 17, 3)), ('S', (n, 17, 4))):
            assert d[key].dtype == np.float64 and d[key].shape == shape, key
        np.testing.assert_array_equal(d['S'][..., 3], 1.0)
        np.testing.assert_array_equal(d['part'][..., 2], 1.0)
        uv = d['part'][..., :2]
        lo, hi = uv.min(1), uv.max(1)
        np.testing.assert_allclose(d['center'], (lo + hi) / 2)
        np.testing.assert_allclose(d['scale'], 1.2 * (hi - lo).max(1) / 200)

        parsed = [_parse(name) for name in d['imgname']]
        assert {p[0] for p in parsed} == set(subjects)
        assert {p[1] for p in parsed} == set(h36m_motions.ACTIONS)
        assert {p[2] for p in parsed} == set(layout.H36M_CAMERA_IDS)
        frames = np.array([p[3] for p in parsed]).reshape(-1, FRAMES)
        assert np.all(frames == np.arange(1, FRAMES + 1))
        det = np.load(data_root / layout.det_file(split))
        assert det.dtype == np.float32 and det.shape == (n, 17, 3)
    assert load_h36m_split(data_root, 'train')['imgname'][0] == (
        'S1/S1_Walking.54138969/S1_Walking.54138969_000001.jpg')

    cameras = load_h36m_cameras(data_root)
    assert set(cameras) == {(s, c)
                            for s in layout.ALL_SUBJECTS
                            for c in layout.H36M_CAMERA_IDS}
    for (subject, cam_id), cam in cameras.items():
        assert set(cam) == {
            'R', 'T', 'c', 'f', 'k', 'p', 'w', 'h', 'name', 'id'
        }
        for key, shape in (('R', (3, 3)), ('T', (3, 1)), ('c', (2, 1)),
                           ('f', (2, 1)), ('k', (3, 1)), ('p', (2, 1))):
            assert cam[key].dtype == np.float64 and cam[key].shape == shape
        np.testing.assert_allclose(
            cam['R'] @ cam['R'].T, np.eye(3), atol=1e-12)
        assert np.linalg.det(cam['R']) == pytest.approx(1.0)
        assert cam['id'] == cam_id and cam['name'] == (
            f'camera{layout.H36M_CAMERA_IDS.index(cam_id) + 1}')
        assert (cam['w'], cam['h']) == layout.H36M_IMAGE_SIZES[cam_id]
        assert 1130 < cam['f'].min() and cam['f'].max() < 1160
        distance = np.linalg.norm(cam['T'][:2])
        assert 4.0 < distance < 5.5 and 1.4 < cam['T'][2, 0] < 1.7

    with open(data_root / layout.stats_file('joint3d_rel_stats'), 'rb') as f:
        stats = pickle.load(f)
    assert set(stats) == {'mean', 'std'} and stats['mean'].shape == (16, 3)


@pytest.mark.parametrize('src', ['gt', 'detection'])
def test_loads_through_stock_human36m_dataset(data_root, src):
    d = load_h36m_split(data_root, 'test')
    det = np.load(data_root / layout.det_file('test'))
    dataset = Human36mDataset(
        ann_file=layout.ann_file('test'),
        data_root=str(data_root),
        seq_len=SEQ_LEN,
        keypoint_2d_src=src,
        keypoint_2d_det_file=layout.det_file('test'),
        camera_param_file=layout.CAMERA_FILE,
        pipeline=[])
    n_videos = len(layout.TEST_SUBJECTS) * len(
        h36m_motions.ACTIONS) * SUBACTIONS * 4
    assert len(dataset) == n_videos * (FRAMES - SEQ_LEN + 1)

    cameras = load_h36m_cameras(data_root)
    for idx in (0, len(dataset) // 2, len(dataset) - 1):
        info = dataset[idx]
        ids = np.asarray(info['img_ids'])
        assert len(ids) == SEQ_LEN and np.all(np.diff(ids) == 1)
        source = d['part'] if src == 'gt' else det
        np.testing.assert_allclose(
            info['keypoints'], source[ids, :, :2], rtol=1e-6)
        np.testing.assert_allclose(
            info['keypoints_visible'], source[ids, :, 2], rtol=1e-6)
        np.testing.assert_allclose(
            info['lifting_target'][0], d['S'][ids[-1], :, :3], rtol=1e-6)
        subject, _, cam_id, _ = _parse(d['imgname'][ids[0]])
        np.testing.assert_array_equal(info['camera_param']['R'],
                                      cameras[(subject, cam_id)]['R'])


def test_part_is_the_projection_of_s(data_root):
    cameras = load_h36m_cameras(data_root)
    for split in ('train', 'test'):
        d = load_h36m_split(data_root, split)
        keys = np.array([f'{p[0]} {p[2]}' for p in map(_parse, d['imgname'])])
        for key in np.unique(keys):
            subject, cam_id = key.split()
            sel = keys == key
            cam = cameras[(subject, cam_id)]
            X = d['S'][sel, :, :3]
            np.testing.assert_allclose(
                project_pinhole(X, cam['f'], cam['c']),
                d['part'][sel, :, :2],
                atol=1e-9)
            # MMPose's own camera model (float32) agrees to sub-pixel.
            uv = SimpleCamera(cam).camera_to_pixel(X.astype(np.float32))
            assert np.abs(uv[..., :2] - d['part'][sel, :, :2]).max() < 0.05
            assert X[..., 2].min() > 2.5  # in front of the camera


def _world_frames(root: Path, split: str) -> dict:
    """(subject, action) -> (4 cameras, T, 17, 3) world joints."""
    d, cameras = load_h36m_split(root, split), load_h36m_cameras(root)
    out = {}
    for i in range(0, len(d['imgname']), FRAMES):
        subject, action, cam_id, _ = _parse(d['imgname'][i])
        world = camera_to_world_at(
            d['S'][i:i + FRAMES, :, :3],
            *layout.camera_extrinsics(cameras[(subject, cam_id)]))
        out.setdefault((subject, action), []).append(world)
    return {k: np.stack(v) for k, v in out.items()}


def _bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(..., 17, 3) -> (..., 16) lengths of the bones child -> parent."""
    parents = list(H36M_PARENTS[1:])
    return np.linalg.norm(
        joints[..., 1:, :] - joints[..., parents, :], axis=-1)


def test_views_agree_and_bone_lengths_are_constant_per_subject(data_root):
    per_subject = {}
    for split in ('train', 'test'):
        for (subject, _), world in _world_frames(data_root, split).items():
            # The 4 cameras see the same world pose.
            np.testing.assert_allclose(
                world, world[:1].repeat(4, 0), atol=1e-9)
            per_subject.setdefault(subject, []).append(
                _bone_lengths(world).reshape(-1, 16))
    means = {}
    for subject, lengths in per_subject.items():
        lengths = np.concatenate(lengths)
        assert lengths.std(axis=0).max() < 1e-9, subject
        means[subject] = lengths.mean(axis=0)
        np.testing.assert_allclose(
            means[subject],
            _bone_lengths(
                h36m_body.forward_kinematics(
                    sh.subject_body(subject, 0),
                    {k: np.zeros(1)
                     for k in h36m_body.TRACKS}))[0])
    subjects = sorted(means)
    for i, a in enumerate(subjects):
        for b in subjects[i + 1:]:
            assert np.abs(means[a] - means[b]).max() > 0.005, (a, b)


def test_train_test_subject_split(data_root):
    train = {_parse(n)[0] for n in load_h36m_split(data_root, 'train')['imgname']}
    test = {_parse(n)[0] for n in load_h36m_split(data_root, 'test')['imgname']}
    assert train == {'S1', 'S5', 'S6', 'S7', 'S8'}
    assert test == {'S9', 'S11'}
    assert layout.subject_split('S9') == 'test'
    with pytest.raises(ValueError, match='S2'):
        layout.subject_split('S2')


def test_skeleton_handedness_matches_human36m(data_root):
    # In Human3.6M (checked on MMPose's test sample S1_Directions_1 frame 1)
    # the neck lies behind cross(up, left) = the subject's back.
    S = load_h36m_split(data_root, 'train')['S'][..., :3]
    up, left = S[:, 8] - S[:, 0], S[:, 4] - S[:, 1]
    assert np.all(((S[:, 9] - S[:, 8]) * np.cross(up, left)).sum(-1) < 0)


def _simulate(action: str, frames: int = 400, seed: int = 3) -> np.ndarray:
    body = sh.subject_body('S5', seed)
    return h36m_motions.simulate_sequence(body, action, frames,
                                np.random.default_rng(seed))


def _heading(world: np.ndarray) -> np.ndarray:
    """(T,) unwrapped facing angle from the hip line."""
    right = world[:, 1, :2] - world[:, 4, :2]
    return np.unwrap(np.arctan2(right[:, 1], right[:, 0]))


def test_actions_have_their_temporal_structure():
    feet_z = {}
    for action in h36m_motions.ACTIONS:
        world = _simulate(action)
        feet_z[action] = world[:, [3, 6], 2]
        np.testing.assert_allclose(feet_z[action].min(1),
                                   h36m_body.ANKLE_HEIGHT)
        assert np.all(world[:, 10, 2] > world[:, 0, 2])  # head above pelvis

    walk = _simulate('Walking')
    step = np.linalg.norm(
        np.diff(walk[:, 0, :2], axis=0), axis=1) * h36m_motions.FPS
    assert 0.8 < step.mean() < 1.6  # m/s
    lift = walk[:, 3, 2] - walk[:, 3, 2].mean()  # right ankle height
    spectrum = np.abs(np.fft.rfft(lift))
    freq = np.fft.rfftfreq(len(lift), 1 / h36m_motions.FPS)[spectrum.argmax()]
    assert 0.6 < freq < 1.3  # one stride per ~0.8-1.6 s

    sit = _simulate('SittingDown')
    assert sit[:, 0, 2].max() - sit[:, 0, 2].min() > 0.3  # pelvis drops

    turn = _simulate('Directions')
    heading = _heading(turn)
    assert heading.max() - heading.min() > np.deg2rad(60)
    drift = turn[:, 0, :2] - turn[:1, 0, :2]
    assert np.linalg.norm(drift, axis=1).max() < 0.5  # in place

    reach = _simulate('Purchases')
    wrist = np.linalg.norm(
        reach[:, [13, 16], :2] - reach[:, None, 0, :2], axis=-1)
    assert wrist.max() > 0.45 and wrist.min() < 0.35


def test_detections_are_noisy_with_low_confidence_outliers(data_root):
    d = load_h36m_split(data_root, 'train')
    det = np.load(data_root / layout.det_file('train'))
    err = np.linalg.norm(det[..., :2] - d['part'][..., :2], axis=-1)
    conf = det[..., 2]
    assert 2.0 < np.median(err) < 8.0  # a few pixels
    per_joint = np.median(err, axis=0)
    assert per_joint[[13, 16]].min() > per_joint[[9, 10]].max()  # wrists
    assert conf.min() >= 0.0 and conf.max() <= 1.0
    far = err > 20
    assert 0.0005 < far.mean() < 0.05
    assert conf[far].mean() < 0.5 < conf[err < 5].mean() - 0.3

    rng = np.random.default_rng(0)
    gt = rng.uniform(300, 700, (2000, 17, 2))
    det, outlier = sh.simulate_detections(
        rng, gt, np.full(2000, 5.0), outlier_rate=2.0)
    assert 0.002 < outlier.mean() < 0.1
    assert det[..., 2][outlier].max() <= 0.45
    assert det[..., 2][~outlier].mean() > 0.8
    err = np.linalg.norm(det[..., :2] - gt, axis=-1)
    assert np.median(err[outlier]) > 5 * np.median(err[~outlier])


def test_invalid_arguments_are_named():
    with pytest.raises(ValueError, match='Dancing'):
        sh.synthesize_sequences(0, 10, 1, ['S1'], ['Dancing'])
    with pytest.raises(ValueError, match='S3'):
        sh.synthesize_sequences(0, 10, 1, ['S3'], ['Walking'])
    with pytest.raises(ValueError, match='frames'):
        sh.synthesize_sequences(0, 0, 1, ['S1'], ['Walking'])


def test_cli_writes_and_then_skips(tmp_path, monkeypatch, capsys):
    script = str(REPO / 'tools/dataset_converters/generate_synthetic_h36m.py')
    argv = [
        script,
        str(tmp_path), '--frames', '30', '--subactions', '1', '--subjects',
        'S1', 'S9', '--actions', 'Walking'
    ]
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(script, run_name='__main__')
    out = capsys.readouterr().out
    assert 'train: 120 samples' in out and 'h36m_test.npz' in out
    runpy.run_path(script, run_name='__main__')
    assert 'up to date' in capsys.readouterr().out
