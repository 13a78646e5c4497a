"""The pre-flight data check covers every registered dataset that reads the
Human3.6M file layout, the fast one included, from the tools' command line."""
import shutil
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config, ConfigDict

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.datasets.checks import DataCheckError, check_dataset_cfgs
from mmcrossformer.entrypoints.runner import prepare_runner_cfg
from mmpose.registry import DATASETS

from ..helpers import REPO, run_tool, tiny_config

DET = 'joint_2d_det_files/cpn_ft_h36m_dbb_{}.npy'


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('h36m_checks')
    generate_h36m(str(root), frames=20, subactions=1, actions=('Walking', ))
    return root


@pytest.mark.parametrize(
    'dataset_type',
    ['Human36mDataset', 'FastHuman36mDataset', 'MpiInf3dhpDataset'])
def test_every_h36m_layout_dataset_is_checked(dataset_type, tmp_path):
    cfg = ConfigDict(
        type=dataset_type, data_root=str(tmp_path),
        ann_file='annotation_body3d/fps50/h36m_train.npz')
    with pytest.raises(DataCheckError, match='h36m_train.npz does not exist'):
        check_dataset_cfgs([cfg])


def test_other_dataset_types_are_left_alone(tmp_path):
    check_dataset_cfgs([None, ConfigDict(
        type='CocoDataset', data_root=str(tmp_path), ann_file='none.json')])


def test_fastdata_config_with_missing_data_root_stops_train(tmp_path):
    cfg = tiny_config(tmp_path / 'cfg.py', tmp_path / 'nowhere',
                      base='crossformer_h36m_9f_fastdata')
    proc = run_tool(['tools/train.py', str(cfg), '--work-dir',
                     str(tmp_path / 'wd')], check=False)
    assert proc.returncode != 0
    assert 'annotation file' in proc.stderr
    assert f'{tmp_path}/nowhere/annotation_body3d/fps50/h36m_train.npz ' \
        'does not exist' in proc.stderr, proc.stderr[-2000:]
    assert not (tmp_path / 'wd').exists() or not list(
        (tmp_path / 'wd').glob('*.pth'))


def _copy(data_root: Path, root: Path) -> Path:
    shutil.copytree(data_root, root)
    return root


def test_fast_dataset_refuses_non_finite_keypoints_on_loading(
        data_root, tmp_path):
    root = _copy(data_root, tmp_path / 'data')
    det = root / DET.format('test')
    kpts = np.load(det)
    kpts[33, 5, 1] = np.nan
    np.save(det, kpts)
    cfg = Config.fromfile(
        str(REPO / 'configs/crossformer_h36m_9f_fastdata.py'))
    cfg.val_dataloader.dataset.data_root = str(root)
    with pytest.raises(DataCheckError, match=r'^2D detection file .*dbb_test'
                       r'.npy: 1 NaN or infinite value\(s\), the first '
                       'at frame 33, joint 5, channel 1'):
        DATASETS.build(cfg.val_dataloader.dataset)
    cfg.val_dataloader.dataset.keypoint_2d_src = 'gt'
    assert len(DATASETS.build(cfg.val_dataloader.dataset)) == 2 * 20 * 4


def test_fastdata_config_with_inconsistent_detections_fails_preflight(
        data_root, tmp_path):
    """The tools' pre-flight path (``prepare_runner_cfg``, which
    tools/train.py and tools/test.py call before building the runner)."""
    root = _copy(data_root, tmp_path / 'data')
    det = root / DET.format('test')
    np.save(det, np.load(det)[:-3])  # three frames short of the annotation
    cfg = Config.fromfile(str(tiny_config(
        tmp_path / 'cfg.py', root, base='crossformer_h36m_9f_fastdata')))
    assert cfg.test_dataloader.dataset.type == 'FastHuman36mDataset'
    with pytest.raises(DataCheckError, match=f'2D detection file {det} has '
                       r'shape \(157, 17, 3\).*one \(x, y, score\) row per '
                       'annotated frame'):
        prepare_runner_cfg(cfg, ['test_dataloader'])
