"""A checkpoint written by tools/train.py (message hub, optimizer,
RandomStateHook state, numpy arrays) is read back, with weights_only=True,
by tools/test.py and by ``--resume``. (The demo, ``Lifter`` and
``MMPoseInferencer`` load it in tests/test_apis/test_inference.py.)"""
import shutil

import pytest
import torch

from mmcrossformer.engine.safe_load import safe_load

from ..helpers import read_json, run_tool


def test_tools_test_evaluates_the_trained_weights(trained_lifter, tmp_path):
    cfg, work_dir = trained_lifter
    metrics = {}
    for epoch in (1, 2):
        out = tmp_path / f'epoch_{epoch}.json'
        run_tool(['tools/test.py', str(cfg),
                  str(work_dir / f'epoch_{epoch}.pth'), '--work-dir',
                  str(tmp_path / 'wd'), '--out', str(out)])
        metrics[epoch] = read_json(out)
    # the checkpoints' own weights are evaluated: the two epochs differ and
    # the second equals what the training run validated with
    assert metrics[1]['MPJPE'] != metrics[2]['MPJPE']
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    val = [eval(line) for line in scalars.read_text().splitlines()
           if 'MPJPE' in line][-1]
    assert metrics[2]['MPJPE'] == pytest.approx(val['MPJPE'], abs=1e-3)


def test_resume_continues_from_the_trained_checkpoint(trained_lifter,
                                                      tmp_path):
    """Resume from epoch 1: the run starts at epoch 2 and ends with the
    weights of the uninterrupted run (optimizer, scheduler and the random
    generators of RandomStateHook restored; drop path is on)."""
    cfg, work_dir = trained_lifter
    resumed = tmp_path / 'wd'
    resumed.mkdir()
    shutil.copy(work_dir / 'epoch_1.pth', resumed / 'epoch_1.pth')
    proc = run_tool(['tools/train.py', str(cfg), '--work-dir', str(resumed),
                     '--deterministic', '--resume',
                     str(resumed / 'epoch_1.pth')])
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 1' in log
    assert 'Epoch(train) [1]' not in log and 'Epoch(train) [2]' in log
    ours = safe_load(str(resumed / 'epoch_2.pth'), map_location='cpu')
    ref = safe_load(str(work_dir / 'epoch_2.pth'), map_location='cpu')
    assert ours['meta']['epoch'] == 2
    for key, value in ref['state_dict'].items():
        torch.testing.assert_close(ours['state_dict'][key], value,
                                   rtol=1e-5, atol=1e-6, msg=key)
