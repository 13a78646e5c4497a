"""``tools/test.py --dump`` and ``--show-dir`` (MMPose's options), and the
Slurm entry points' command lines."""
import os
import stat
from pathlib import Path

import mmengine
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmpose.registry import MODELS

from ..helpers import REPO, read_json, run_tool, tiny_config
from ..test_runtime.test_fast_paths import HAS_CXX


@pytest.fixture(scope='module')
def tested(tmp_path_factory):
    """tools/test.py with --out, --dump and --show-dir --interval 7 on
    generated data and random weights."""
    tmp = tmp_path_factory.mktemp('test_outputs')
    data_root = tmp / 'h36m'
    generate_h36m(str(data_root), frames=40, subactions=1,
                  actions=('Walking', 'SittingDown'))
    cfg = tiny_config(tmp / 'cfg.py', data_root)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}},
               tmp / 'random.pth')
    proc = run_tool([
        'tools/test.py',
        str(cfg),
        str(tmp / 'random.pth'), '--work-dir',
        str(tmp / 'wd'), '--out',
        str(tmp / 'm.json'), '--dump',
        str(tmp / 'preds.pkl'), '--show-dir',
        str(tmp / 'vis'), '--interval', '7'
    ])
    (tmp / 'output.txt').write_text(proc.stdout + proc.stderr)
    return tmp


def test_dump_holds_every_prediction_and_reproduces_the_metric(tested):
    metrics = read_json(tested / 'm.json')
    preds = mmengine.load(tested / 'preds.pkl')
    # 2 test subjects x 2 actions x 4 cameras x 40 frames
    assert len(preds) == 2 * 2 * 4 * 40
    errors = []
    for sample in preds:
        pred = np.asarray(sample['pred_instances']['keypoints'])
        gt = np.asarray(sample['gt_instances']['lifting_target'])
        assert pred.shape == (1, 17, 3) and gt.shape == (1, 17, 3)
        errors.append(np.linalg.norm(pred - gt, axis=-1).mean())
    # the MPJPE of the dumped predictions is the metric the test printed
    assert np.mean(errors) * 1000 == pytest.approx(metrics['MPJPE'],
                                                   rel=1e-4)
    names = {Path(s['target_img_path'][0]).name.split('.')[0] for s in preds}
    assert any('Walking' in n for n in names) and \
        any('SittingDown' in n for n in names)


@pytest.mark.xfail(
    not HAS_CXX, strict=True, reason='no C++ compiler on PATH')
def test_compile_gives_the_eager_predictions(tested):
    """``--compile on``: the compiled CPU inference predicts what the eager
    model predicted (``--compile auto`` left this 640-window test set
    eager, and said why)."""
    assert 'Eager CPU inference: 640 test windows of 9 frames' in \
        (tested / 'output.txt').read_text()
    proc = run_tool([
        'tools/test.py',
        str(tested / 'cfg.py'),
        str(tested / 'random.pth'), '--work-dir',
        str(tested / 'wd_compiled'), '--dump',
        str(tested / 'preds_compiled.pkl'), '--compile', 'on'
    ])
    assert 'CPU inference compiled' in proc.stdout + proc.stderr
    eager = mmengine.load(tested / 'preds.pkl')
    compiled = mmengine.load(tested / 'preds_compiled.pkl')
    assert len(compiled) == len(eager) == 640
    for a, b in zip(eager, compiled):  # metres: within 0.05 mm
        np.testing.assert_allclose(
            b['pred_instances']['keypoints'],
            a['pred_instances']['keypoints'],
            rtol=1e-5,
            atol=5e-5)


def test_show_dir_draws_every_interval_th_sample(tested):
    images = sorted((tested / 'vis').glob('*.png'))
    # samples 0, 7, 14, ... of the 640 test samples
    assert [int(p.name[:6]) for p in images] == list(range(0, 640, 7))
    import cv2
    img = cv2.imread(str(images[0]))
    assert img is not None and img.shape[2] == 3
    # red prediction and green ground truth are both drawn
    b, g, r = (img[..., i].astype(int) for i in range(3))
    assert ((r > 180) & (g < 120) & (b < 120)).sum() > 50
    assert ((g > 100) & (r < 100)).sum() > 50


def test_dump_must_be_a_pickle_file(tmp_path):
    proc = run_tool(['tools/test.py', 'configs/crossformer_h36m_9f.py',
                     'x.pth', '--dump', str(tmp_path / 'p.json')],
                    check=False)
    assert proc.returncode == 2 and 'must end in .pkl' in proc.stderr


@pytest.mark.parametrize('script,extra', [
    ('slurm_test.sh', ['CKPT.pth', '--dump', 'p.pkl']),
    ('slurm_train.sh', ['work_dirs/x', '--amp']),
])
def test_slurm_scripts_call_srun_as_mmpose_does(tmp_path, script, extra):
    """A stand-in ``srun`` records its command line; the Slurm scripts
    launch the tool with MMPose's resources and ``--launcher=slurm``."""
    srun = tmp_path / 'srun'
    srun.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$SRUN_LOG"\n')
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / 'args'
    run_tool(['bash', f'tools/{script}', 'gpu', 'job',
              'configs/crossformer_h36m_81f.py', *extra],
             env={'PATH': f'{tmp_path}:{os.environ["PATH"]}',
                  'SRUN_LOG': str(log), 'GPUS': '16'})
    args = log.read_text().split('\n')[:-1]
    tool = 'test.py' if 'test' in script else 'train.py'
    assert args[:8] == ['-p', 'gpu', '--job-name=job', '--gres=gpu:8',
                        '--ntasks=16', '--ntasks-per-node=8',
                        '--cpus-per-task=5', '--kill-on-bad-exit=1']
    assert args[8:10] == ['python', '-u']
    assert Path(args[10]).resolve() == REPO / 'tools' / tool
    assert args[11] == 'configs/crossformer_h36m_81f.py'
    assert '--launcher=slurm' in args
    assert args[12] == ('CKPT.pth' if tool == 'test.py' else
                        '--work-dir=work_dirs/x')
    assert args[-len(extra) + 1:] == extra[1:]  # the tool's options


def test_compile_choice(monkeypatch):
    """``--compile``: off never; auto on the CPU at one torch thread from
    COMPILE_MIN_FRAMES test frames (windows x window length) and with a
    C++ compiler; on
    refuses, naming why, where it cannot compile."""
    from types import SimpleNamespace

    from mmcrossformer.entrypoints import runner as entry
    from mmcrossformer.runtime.fast_paths import CompiledCPUCrossFormer

    from ..test_runtime.common import small_model

    def runner(frames: int, device: str = 'cpu'):
        return SimpleNamespace(  # small_model: 27-frame windows
            model=small_model(fast=True).to(device),
            test_dataloader=SimpleNamespace(dataset=range(-(-frames // 27))))

    def compiled(r) -> bool:
        return type(r.model.backbone) is CompiledCPUCrossFormer

    monkeypatch.setattr(entry, 'cpp_compiler', lambda: '/usr/bin/g++')
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 1)
    few, many = runner(entry.COMPILE_MIN_FRAMES - 27), runner(
        entry.COMPILE_MIN_FRAMES)
    assert not entry.compile_test_model(few, 'auto') and not compiled(few)
    assert entry.compile_test_model(many, 'auto') and compiled(many)
    # with more threads the eager model's workers are faster: auto stays
    # eager, on still compiles
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 2)
    many = runner(entry.COMPILE_MIN_FRAMES)
    assert not entry.compile_test_model(many, 'auto') and not compiled(many)
    assert entry.compile_test_model(many, 'on') and compiled(many)
    monkeypatch.setattr(torch, 'get_num_threads', lambda: 1)
    r = runner(entry.COMPILE_MIN_FRAMES)
    assert not entry.compile_test_model(r, 'off') and not compiled(r)
    assert entry.compile_test_model(few, 'on') and compiled(few)
    meta = runner(entry.COMPILE_MIN_FRAMES, 'meta')
    assert not entry.compile_test_model(meta, 'auto')
    with pytest.raises(ValueError, match='the model is on meta'):
        entry.compile_test_model(meta, 'on')
    monkeypatch.setattr(entry, 'cpp_compiler', lambda: None)
    r = runner(entry.COMPILE_MIN_FRAMES)
    assert not entry.compile_test_model(r, 'auto') and not compiled(r)
    with pytest.raises(ValueError, match='no C.. compiler'):
        entry.compile_test_model(r, 'on')
    with pytest.raises(ValueError, match="'auto', 'on' or 'off'"):
        entry.compile_test_model(r, 'yes')
    tcn = SimpleNamespace(model=torch.nn.Linear(2, 2))
    assert not entry.compile_test_model(tcn, 'auto')
    with pytest.raises(ValueError, match='no CrossFormer backbone'):
        entry.compile_test_model(tcn, 'on')
