"""Damaged and foreign checkpoints, crash-safe writes, resume finding."""
import os
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import get_file_backend

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.engine import (check_checkpoint, find_resumable_checkpoint,
                                 is_readable_checkpoint)
from mmpose.registry import MODELS

from ..helpers import REPO, run_tool, tiny_config

@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('h36m_small')
    generate_h36m(str(root), frames=30, subactions=1,
                  actions=('Walking', ))
    return root


def _lifter_state(config: str, **backbone) -> dict:
    cfg = Config.fromfile(REPO / 'configs' / config).model
    cfg.backbone.update(backbone)
    return cfg, MODELS.build(cfg).state_dict()


def test_truncated_checkpoint_is_refused(tmp_path):
    cfg, state = _lifter_state('crossformer_h36m_9f.py')
    path = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=state), path)
    check_checkpoint(str(path), cfg)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 1000])
    assert not is_readable_checkpoint(str(path))
    with pytest.raises(ValueError, match='truncated or damaged'):
        check_checkpoint(str(path), cfg)


def test_checkpoint_of_another_architecture_is_named(tmp_path):
    cfg9, _ = _lifter_state('crossformer_h36m_9f.py')
    _, state27 = _lifter_state('crossformer_h36m_27f.py')
    _, pose9 = _lifter_state('poseformer_h36m_9f.py')
    for state, problem in ((state27, 'shape'), (pose9, 'missing')):
        path = tmp_path / f'{problem}.pth'
        torch.save(dict(state_dict=state), path)
        with pytest.raises(ValueError, match=f'does not fit.*{problem}'):
            check_checkpoint(str(path), cfg9)


def test_test_cli_refuses_released_layout_and_says_convert(data_root,
                                                           tmp_path):
    path = tmp_path / 'released.bin'
    torch.save(dict(model_pos={
        'module.Spatial_blocks.0.norm1.weight': torch.ones(32)
    }), path)
    cfg = tiny_config(tmp_path / 'cfg.py', data_root)
    proc = run_tool(['tools/test.py', str(cfg), str(path)], check=False)
    assert proc.returncode != 0
    assert 'crossformer_official_to_mmpose.py' in proc.stderr


def test_atomic_backend_keeps_the_old_file_when_a_write_dies(
        tmp_path, monkeypatch):
    backend = get_file_backend(
        str(tmp_path), backend_args=dict(backend='atomic_local'))
    target = tmp_path / 'epoch_1.pth'
    backend.put(b'old complete checkpoint', target)

    def die(fd):  # the process is stopped after writing, before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(os, 'fsync', die)
    with pytest.raises(KeyboardInterrupt):
        backend.put(b'new checkpoint', target)
    monkeypatch.undo()
    assert target.read_bytes() == b'old complete checkpoint'
    assert sorted(os.listdir(tmp_path)) == ['epoch_1.pth']
    backend.put_text('epoch_1.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == 'epoch_1.pth'


def test_resume_target_is_the_newest_readable_checkpoint(tmp_path):
    for epoch in (1, 2, 3):
        torch.save({'epoch': epoch}, tmp_path / f'epoch_{epoch}.pth')
    (tmp_path / 'epoch_3.pth').write_bytes(b'PK\x03\x04 truncated')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    assert find_resumable_checkpoint(str(tmp_path)) == str(
        tmp_path / 'epoch_2.pth')
    assert find_resumable_checkpoint(str(tmp_path / 'none')) is None
