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
    run_tool(['tools/test.py', str(cfg), str(tmp / 'random.pth'),
              '--work-dir', str(tmp / 'wd'), '--out', str(tmp / 'm.json'),
              '--dump', str(tmp / 'preds.pkl'), '--show-dir',
              str(tmp / 'vis'), '--interval', '7'])
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
