"""VideoPose3D -> MMPose Human3.6M layout conversion."""
import runpy
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from mmpose.datasets import Human36mDataset

from mmcrossformer.data_tools import h36m_layout as layout
from mmcrossformer.data_tools.camera import camera_to_world_at
from mmcrossformer.data_tools.synthetic import h36m as sh, h36m_motions
from mmcrossformer.data_tools import videopose3d as vc
from ..helpers import REPO, load_h36m_cameras, load_h36m_split

T = 40  # frames of every 3D sequence
# VideoPose3D action names of the tiny dataset, per subject.
ACTIONS = {
    'S1': ['Walking 1', 'Photo'],
    'S9': ['Directions 1'],
    'S11': ['Directions', 'Walking'],
}
CAMS = layout.H36M_CAMERA_IDS

# MMPose's tests/data/h36m sample S1_Directions_1.54138969 frame 1 (real
# Human3.6M): camera coordinates S (m), 2D part (px) and the camera rotation.
REAL_S = np.array([
    [-0.17673077, -0.32104862, 5.20388206],
    [-0.05296191, -0.30970449, 5.25108279],
    [-0.15564156, 0.07307176, 5.44880703],
    [-0.02983157, 0.50678445, 5.40013834],
    [-0.30049984, -0.33239277, 5.15668125],
    [-0.25824049, 0.09960905, 5.24468147],
    [-0.20948436, 0.54883382, 5.29076367],
    [-0.10915762, -0.52972817, 5.12389063],
    [-0.14019118, -0.78012137, 5.07460479],
    [-0.15318189, -0.88697614, 5.13016533],
    [-0.11893483, -0.97022827, 5.05859905],
    [-0.25908997, -0.69013359, 5.05059205],
    [-0.37067089, -0.4485993, 5.13417726],
    [-0.46228664, -0.29082947, 5.30762745],
    [-0.01976034, -0.7169181, 5.14027255],
    [0.03579161, -0.47014492, 5.25773846],
    [0.01389246, -0.27985293, 5.42106854],
])
REAL_PART = np.array([[473.683563, 444.942413], [500.996094, 448.029877],
                      [479.839264, 530.785645], [506.218384, 622.568848],
                      [445.900085, 441.815857], [456.189056, 537.158081],
                      [467.309235, 633.769348], [488.186737, 397.434052],
                      [481.028473, 340.396942], [478.517548, 318.808014],
                      [485.768951, 297.571625], [454.016083, 359.759552],
                      [430.058777, 415.734894], [412.997223, 452.886658],
                      [508.134369, 356.491516], [520.31543, 413.318268],
                      [515.471497, 456.42984]])
REAL_R_S1_CAM1 = np.array([[-0.91536173, 0.05154812, -0.39931903],
                           [0.40180837, 0.18037357, -0.89778361],
                           [0.02574754, -0.98224649, -0.18581953]])


def _world_32(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 32, 3) float32: a synthetic walk in the 17 kept joints, a marker
    value (99) in the 15 dropped ones."""
    body = sh.subject_body('S1', int(rng.integers(100)))
    world = h36m_motions.simulate_sequence(body, 'Walking', n, rng)
    out = np.full((n, 32, 3), 99.0)
    out[:, list(vc.H36M_17_OF_32)] = world
    return out.astype(np.float32)


def _marker_2d(n: int, cam: int, offset: float) -> np.ndarray:
    """(n, 17, 2) float32 with x = frame + offset, y = 100 * cam + joint."""
    x = np.arange(n)[:, None].repeat(17, 1) + offset
    y = (100 * cam + np.arange(17))[None].repeat(n, 0)
    return np.stack([x, y], -1).astype(np.float32)


def _save(path: Path, key: str, data: dict, with_metadata: bool) -> str:
    extra = {}
    if with_metadata:
        extra['metadata'] = {
            'layout_name': 'h36m',
            'num_joints': 17,
            'keypoints_symmetry': [[4, 5, 6, 11, 12, 13],
                                   [1, 2, 3, 14, 15, 16]]
        }
    np.savez_compressed(path, **{key: data}, **extra)
    return str(path)


@pytest.fixture
def vp3d(tmp_path) -> Dict[str, object]:
    """Tiny VideoPose3D files; CPN lengths: S1 'Walking 1' camera 2 has 3
    extra frames, camera 3 two fewer; S11 'Directions' camera 1 is empty
    (corrupted video)."""
    rng = np.random.default_rng(0)
    pos3d = {
        s: {
            a: _world_32(rng, T)
            for a in acts
        }
        for s, acts in ACTIONS.items()
    }
    gt: Dict[str, Dict[str, List[np.ndarray]]] = {}
    cpn: Dict[str, Dict[str, List[np.ndarray]]] = {}
    for s, acts in ACTIONS.items():
        gt[s], cpn[s] = {}, {}
        for a in acts:
            gt[s][a] = [_marker_2d(T, c, 0.0) for c in range(4)]
            cpn[s][a] = [_marker_2d(T, c, 0.25) for c in range(4)]
    cpn['S1']['Walking 1'][1] = _marker_2d(T + 3, 1, 0.25)
    cpn['S1']['Walking 1'][2] = _marker_2d(T - 2, 2, 0.25)
    cpn['S11']['Directions'][0] = np.zeros((0, 17, 2), np.float32)
    return {
        'pos3d':
        pos3d,
        'gt':
        gt,
        'cpn':
        cpn,
        'data_3d':
        _save(tmp_path / 'data_3d_h36m.npz', 'positions_3d', pos3d, False),
        'gt_file':
        _save(tmp_path / 'data_2d_h36m_gt.npz', 'positions_2d', gt, True),
        'cpn_file':
        _save(tmp_path / 'data_2d_h36m_cpn_ft_h36m_dbb.npz', 'positions_2d',
              cpn, True),
        'out':
        tmp_path / 'h36m',
    }


def _convert(vp3d: dict, **kwargs) -> dict:
    kwargs.setdefault('cpn_2d', vp3d['cpn_file'])
    kwargs.setdefault('gt_2d', vp3d['gt_file'])
    return vc.convert_videopose3d(vp3d['data_3d'], str(vp3d['out']), **kwargs)


def _sequences(imgnames: np.ndarray) -> Dict[str, np.ndarray]:
    """'S1_Walking_1.54138969' -> sample indices, in file order."""
    keys = np.array([n.split('/')[1] for n in imgnames])
    return {k: np.flatnonzero(keys == k) for k in dict.fromkeys(keys)}


def test_round_trip_alignment_and_cropping(vp3d):
    result = _convert(vp3d)
    assert result['samples'] == {
        'train': 4 * T + 4 * T - 2,
        'test': 4 * T + 3 * T + 4 * T
    }
    assert result['skipped'] == [('S11', 'Directions', '54138969')]
    assert [r[:3]
            for r in result['cropped']] == [('S1', 'Walking 1', '55011271'),
                                            ('S1', 'Walking 1', '58860488')]
    cameras = load_h36m_cameras(vp3d['out'])
    for split in ('train', 'test'):
        d = load_h36m_split(vp3d['out'], split)
        det = np.load(vp3d['out'] / layout.det_file(split))
        assert len(det) == len(d['imgname']) == result['samples'][split]
        for seq, idx in _sequences(d['imgname']).items():
            subject, rest = seq.split('_', 1)
            action, cam_id = rest.rsplit('.', 1)
            c = CAMS.index(cam_id)
            vp_action = {'TakingPhoto': 'Photo'}.get(action, action)
            vp_action = vp_action.replace('_', ' ')
            n = len(idx)
            assert n == (
                T - 2 if
                (subject, vp_action, c) == ('S1', 'Walking 1', 2) else T)
            frames = [int(name[-10:-4]) for name in d['imgname'][idx]]
            assert frames == list(range(1, n + 1))
            # 3D camera coordinates back to world equal the input.
            world = camera_to_world_at(
                d['S'][idx, :, :3],
                *layout.camera_extrinsics(cameras[(subject, cam_id)]))
            expected = vp3d['pos3d'][subject][vp_action][:n]
            np.testing.assert_allclose(
                world, expected[:, list(vc.H36M_17_OF_32)], atol=1e-5)
            # GT 2D -> part, CPN -> detections, frame by frame.
            np.testing.assert_array_equal(
                d['part'][idx, :, :2], vp3d['gt'][subject][vp_action][c][:n])
            np.testing.assert_array_equal(
                det[idx, :, :2], vp3d['cpn'][subject][vp_action][c][:n])
            np.testing.assert_array_equal(det[idx, :, 2], 1.0)
    names = set(_sequences(load_h36m_split(vp3d['out'], 'train')['imgname']))
    assert 'S1_TakingPhoto.54138969' in names and not any(
        'Photo.' in n and 'Taking' not in n for n in names)
    assert 'S11_Directions.54138969' not in set(
        _sequences(load_h36m_split(vp3d['out'], 'test')['imgname']))


def test_output_loads_through_stock_human36m_dataset(vp3d):
    _convert(vp3d)
    for src in ('gt', 'detection'):
        dataset = Human36mDataset(
            ann_file=layout.ann_file('test'),
            data_root=str(vp3d['out']),
            seq_len=27,
            keypoint_2d_src=src,
            keypoint_2d_det_file=layout.det_file('test'),
            camera_param_file=layout.CAMERA_FILE,
            pipeline=[])
        assert len(dataset) == 11 * (T - 26)
        offset = 0.0 if src == 'gt' else 0.25
        info = dataset[0]
        np.testing.assert_allclose(info['keypoints'][:, 0, 0],
                                   np.arange(27) + offset)


def test_cameras_match_mmpose_and_projection_matches_real_h36m(tmp_path):
    cameras = vc.h36m_cameras()
    assert len(cameras) == 7 * 4
    cam = cameras[('S1', '54138969')]
    np.testing.assert_allclose(cam['R'], REAL_R_S1_CAM1, atol=1e-6)
    np.testing.assert_allclose(
        cam['T'].ravel(), [1.84110703, 4.95528462, 1.5634454], atol=1e-6)
    np.testing.assert_allclose(
        cam['p'].ravel(), [-0.00142447, -0.0009757], atol=1e-8)
    assert (cam['w'], cam['h'], cam['name']) == (1000, 1002, 'camera1')

    # Without a GT 2D file, `part` is the distorted projection of S, which
    # reproduces the real Human3.6M annotation.
    world = camera_to_world_at(REAL_S, *layout.camera_extrinsics(cam))
    world = world[None].astype(np.float32)
    data_3d = _save(tmp_path / 'd3.npz', 'positions_3d',
                    {'S1': {
                        'Directions 1': world
                    }}, False)
    vc.convert_videopose3d(data_3d, str(tmp_path / 'out'))
    d = load_h36m_split(tmp_path / 'out', 'train')
    rows = [n.endswith('.54138969_000001.jpg') for n in d['imgname']]
    np.testing.assert_allclose(d['S'][rows, :, :3][0], REAL_S, atol=1e-5)
    np.testing.assert_allclose(d['part'][rows, :, :2][0], REAL_PART, atol=0.01)
    assert not (tmp_path / 'out' / layout.DET_DIR).exists()


def test_length_mismatch_beyond_tolerance_is_an_error(vp3d):
    vp3d['cpn']['S9']['Directions 1'][3] = _marker_2d(T + 20, 3, 0.0)
    _save(Path(vp3d['cpn_file']), 'positions_2d', vp3d['cpn'], True)
    with pytest.raises(
            vc.ConversionError,
            match=r"S9 'Directions 1' camera 60457274.*60"):
        _convert(vp3d)
    assert _convert(vp3d, max_length_mismatch=20)['samples']['test'] > 0


def test_missing_inputs_are_named(vp3d, tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.npz'):
        _convert(vp3d, cpn_2d=str(tmp_path / 'nowhere.npz'))
    del vp3d['cpn']['S9']
    _save(Path(vp3d['cpn_file']), 'positions_2d', vp3d['cpn'], True)
    with pytest.raises(vc.ConversionError, match='subject S9 .* CPN'):
        _convert(vp3d)
    del vp3d['gt']['S11']['Walking']
    _save(Path(vp3d['gt_file']), 'positions_2d', vp3d['gt'], True)
    with pytest.raises(
            vc.ConversionError, match="'Walking' of subject S11 .* GT 2D"):
        _convert(vp3d, cpn_2d=None)
    with pytest.raises(vc.ConversionError, match='subject S5'):
        _convert(vp3d, cpn_2d=None, gt_2d=None, subjects=['S5'])
    with pytest.raises(vc.ConversionError, match="no 'positions_2d'"):
        _convert(vp3d, cpn_2d=vp3d['data_3d'])


def test_wrong_layout_metadata_is_rejected(vp3d):
    np.savez(
        vp3d['cpn_file'],
        positions_2d=vp3d['cpn'],
        metadata={
            'layout_name': 'coco',
            'num_joints': 17
        })
    with pytest.raises(vc.ConversionError, match='17-joint'):
        _convert(vp3d)


def test_action_names_follow_mmpose():
    assert vc.mmpose_action_name('S1', 'Photo 1') == 'TakingPhoto 1'
    assert vc.mmpose_action_name('S1', 'WalkDog') == 'WalkingDog'
    assert vc.mmpose_action_name('S5', 'Photo 1') == 'Photo 1'
    assert vc.mmpose_action_name('S1', 'Walking 1') == 'Walking 1'


def test_cli(vp3d, monkeypatch, capsys):
    script = str(REPO / 'tools/dataset_converters/videopose3d_to_mmpose.py')
    monkeypatch.setattr(sys, 'argv', [
        script,
        str(vp3d['out']), '--data-3d', vp3d['data_3d'], '--data-2d-cpn',
        vp3d['cpn_file'], '--subjects', 'S9'
    ])
    runpy.run_path(script, run_name='__main__')
    assert f'test: {4 * T} samples' in capsys.readouterr().out
    monkeypatch.setattr(sys, 'argv',
                        [script, '--data-3d', 'missing.npz', 'out'])
    with pytest.raises(SystemExit, match='missing.npz'):
        runpy.run_path(script, run_name='__main__')
