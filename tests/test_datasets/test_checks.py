"""Bad Human3.6M data files are named before training starts
(mmcrossformer/datasets/checks.py)."""
from pathlib import Path

import numpy as np
import pytest

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.datasets.checks import DataCheckError, check_h36m_files

from ..helpers import run_tool, tiny_config

ANN = 'annotation_body3d/fps50/h36m_test.npz'
DET = 'joint_2d_det_files/cpn_ft_h36m_dbb_test.npy'
CAM = 'annotation_body3d/cameras.pkl'


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('h36m_small')
    generate_h36m(str(root), frames=30, subactions=1,
                  actions=('Walking', ))
    return root


def _copy(root: Path, tmp: Path) -> Path:
    for rel in (ANN, DET, CAM):
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes((root / rel).read_bytes())
    return tmp


def test_good_files_pass(data_root):
    assert check_h36m_files(str(data_root), ANN, DET, CAM) == 2 * 30 * 4


def test_empty_and_missing_files_are_named(data_root, tmp_path):
    root = _copy(data_root, tmp_path)
    (root / DET).write_bytes(b'')
    with pytest.raises(DataCheckError, match='detection file .* is empty'):
        check_h36m_files(str(root), ANN, DET)
    with pytest.raises(DataCheckError, match='camera file .* does not exist'):
        check_h36m_files(str(root), ANN, None, 'nowhere.pkl')
    (root / ANN).write_bytes(b'not a zip archive')
    with pytest.raises(DataCheckError, match='not a readable npz'):
        check_h36m_files(str(root), ANN)


def test_arrays_that_disagree_in_length_are_named(data_root, tmp_path):
    root = _copy(data_root, tmp_path)
    with np.load(root / ANN) as ann:
        arrays = {k: ann[k] for k in ann.files}
    np.save(root / DET, np.load(root / DET)[:-5])
    with pytest.raises(DataCheckError, match=r'shape \(235, 17, 3\).*'
                       r'needs \(240, 17, 3\)'):
        check_h36m_files(str(root), ANN, DET)
    arrays['S'] = arrays['S'][:-1]
    np.savez(root / ANN, **arrays)
    with pytest.raises(DataCheckError, match="disagree in length.*'S': 239"):
        check_h36m_files(str(root), ANN)


def test_non_finite_detections_are_named(data_root, tmp_path):
    root = _copy(data_root, tmp_path)
    det = np.load(root / DET)
    det[3, 4, 0] = np.nan
    np.save(root / DET, det)
    with pytest.raises(DataCheckError, match='NaN or infinite'):
        check_h36m_files(str(root), ANN, DET)


def test_train_cli_stops_on_bad_data_with_the_reason(data_root, tmp_path):
    root = _copy(data_root, tmp_path / 'data')
    # the training annotation is absent: only the test split was copied
    cfg = tiny_config(tmp_path / 'cfg.py', root)
    proc = run_tool(['tools/train.py', str(cfg), '--work-dir',
                     str(tmp_path / 'wd')], check=False)
    assert proc.returncode != 0
    assert 'h36m_train.npz does not exist' in proc.stderr
