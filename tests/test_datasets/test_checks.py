"""The pre-flight data check covers every registered dataset that reads the
Human3.6M file layout, the fast one included, from the tools' command line."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config, ConfigDict

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.datasets.checks import DataCheckError, check_dataset_cfgs
from mmpose.registry import MODELS

from ..helpers import run_tool, tiny_config

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


def test_fastdata_config_with_inconsistent_detections_stops_test(
        data_root, tmp_path):
    root = tmp_path / 'data'
    for path in data_root.rglob('*'):
        if path.is_file():
            dst = root / path.relative_to(data_root)
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(path.read_bytes())
    det = root / DET.format('test')
    np.save(det, np.load(det)[:-3])  # three frames short of the annotation
    cfg = tiny_config(tmp_path / 'cfg.py', root,
                      base='crossformer_h36m_9f_fastdata')
    # a checkpoint that passes the checkpoint check comes first
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    torch.save(dict(state_dict=model.state_dict()), tmp_path / 'ckpt.pth')
    proc = run_tool(['tools/test.py', str(cfg), str(tmp_path / 'ckpt.pth')],
                    check=False)
    assert proc.returncode != 0
    assert f'2D detection file {det} has shape' in proc.stderr, \
        proc.stderr[-2000:]
    assert 'one (x, y, score) row per annotated frame' in proc.stderr
