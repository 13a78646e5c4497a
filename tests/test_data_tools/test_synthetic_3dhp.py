"""The synthetic MPI-INF-3DHP generator: layout, determinism, geometry."""
import pickle

import numpy as np

from mmcrossformer.data_tools.camera import project_pinhole
from mmcrossformer.data_tools.synthetic.mpi_inf_3dhp import generate_3dhp
from mmcrossformer.datasets.mpi_inf_3dhp import video_name


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
                project_pinhole(data['S'][k, :, :3].astype(np.float64),
                                cam['f'], cam['c']),
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
