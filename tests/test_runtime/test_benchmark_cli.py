"""What of the GPU benchmark runs on a CPU-only machine: the projection
arithmetic, argument parsing, the sync check's CPU answer and the clear
"no CUDA" exits of ``benchmark.py --devices cuda`` and
``benchmark_gpu.sh``."""
import importlib.util
import os
import subprocess
import sys

import pytest
import torch

from mmcrossformer.runtime import benchmark as B

from ..helpers import REPO

TOOL = REPO / 'tools/analysis_tools/benchmark.py'
CFG = str(REPO / 'configs/crossformer_h36m_81f_official.py')


def load_tool():
    spec = importlib.util.spec_from_file_location('bench_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_projection_by_hand():
    # 100 epochs x 3.12 M windows = 312 M samples; at 21.7 k/s: 3.99 h
    p = B.project_training(21.7e3)
    assert p['hours'] == pytest.approx(312e6 / 21.7e3 / 3600)
    assert p['hours'] == pytest.approx(3.994, abs=1e-3)
    assert p['needed_samples_per_s'] == pytest.approx(312e6 / 14400)
    assert B.project_training(1e3, epochs=1, windows_per_epoch=3.6e6,
                              target_hours=2.)['hours'] == 1.
    rows = [dict(name='a', samples_per_s=dict(median=30e3)),
            dict(name='b', samples_per_s=dict(median=5e3))]
    loaders = [dict(pipeline='Human36mDataset', collate='lifting_collate',
                    workers=2, batch=256, samples_per_s=8e3),
               dict(pipeline='FastHuman36mDataset', collate='lifting_collate',
                    workers=2, batch=256, samples_per_s=40e3)]
    lines = B.projection_table(rows, loaders, epochs=100).splitlines()
    assert 'fed by Human36mDataset + lifting_collate (2 workers, 8000 ' \
        'samples/s)' in lines[0]
    # a step fed by a slower loader runs at the loader's rate:
    # 312 M / 8 k/s = 10.8 h, data-bound; the fast loader keeps up (2.9 h)
    assert lines[2].split(' | ')[1:] == [
        '30000', '2.9', '21667', '10.8 (data-bound)', '2.9 |']
    assert lines[3].split(' | ')[1:] == [
        '5000', '17.3', '21667', '17.3', '17.3 |']


def test_device_syncs_is_none_off_cuda():
    calls = []
    assert B.device_syncs(lambda: calls.append(1),
                          torch.device('cpu')) is None
    assert calls == []


def test_arguments(monkeypatch):
    tool = load_tool()
    monkeypatch.setattr(sys, 'argv', [
        'benchmark.py', CFG, '--threads', '1', '2', '--devices', 'cuda',
        '--batch-sizes', '1', '64', '1024', '--train-batch-size', '256',
        '--amp', '--compile-train', '--skip', 'accuracy', 'profile'
    ])
    args = tool.parse_args()
    assert args.threads == [1, 2] and args.devices == ['cuda']
    assert args.batch_sizes == [1, 64, 1024] and args.train_batch_size == 256
    assert args.amp and args.compile_train
    assert args.skip == ['accuracy', 'profile']
    assert args.project_epochs == 100 and args.epoch_windows == 3.12e6


@pytest.mark.skipif(torch.cuda.is_available(), reason='a GPU is present')
def test_no_cuda_is_a_clear_exit(monkeypatch, tmp_path):
    tool = load_tool()
    monkeypatch.setattr(sys, 'argv',
                        ['benchmark.py', CFG, '--devices', 'cuda'])
    with pytest.raises(SystemExit, match='no GPU is visible'):
        tool.main()
    proc = subprocess.run(
        ['bash', str(REPO / 'tools/analysis_tools/benchmark_gpu.sh'),
         str(tmp_path / 'model_crossformer.py'), str(tmp_path / 'out.md')],
        capture_output=True, text=True, timeout=300,
        env=dict(os.environ, PYTHON=sys.executable,
                 PYTHONPATH=str(REPO)))
    assert proc.returncode == 2, proc.stderr
    assert 'no CUDA device visible' in proc.stderr
    assert not (tmp_path / 'out.md').exists()
