"""End to end on generated Human3.6M-layout data: train, test, distributed
training (2 CPU processes, gloo), resume after SIGKILL, DDP worker death."""
import json
import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.engine import find_resumable_checkpoint
from mmcrossformer.evaluation import mean_pose_mpjpe

from ..helpers import PYTHON, REPO, read_json, run_tool, tiny_config
from . import param_dump_hook
from .param_dump_hook import load_params

# the runs import the test-only hook from this repository's tests package
PYTHONPATH = {'PYTHONPATH': os.pathsep.join(
    filter(None, [str(REPO), os.environ.get('PYTHONPATH')]))}

ACTIONS = ('Walking', 'SittingDown', 'Purchases')


@pytest.fixture(scope='module')
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('h36m')
    generate_h36m(str(root), frames=80, subactions=1, actions=ACTIONS)
    return root


def final_val_metrics(work_dir: Path) -> dict:
    """The last validation entry of the newest run's scalars.json."""
    scalars = sorted(work_dir.glob('*/vis_data/scalars.json'))[-1]
    entries = [eval(line.replace('NaN', 'float("nan")'))
               for line in scalars.read_text().splitlines()]
    return [e for e in entries if 'MPJPE' in e][-1]


# random masks drawn from the torch generator, which RandomStateHook restores
# on resume: dropout (in a one-layer model the linear stochastic-depth rule
# gives its only layer the rate 0; two layers would double the run time)
STOCHASTIC = 'dict(backbone=dict(depth=1, drop_path_rate=0., drop_rate=0.1))'


def run_entries(run_dir: Path) -> list:
    """The entries of one run's scalars.json."""
    return [json.loads(line) for line in
            (run_dir / 'vis_data' / 'scalars.json').read_text().splitlines()]


def run_dirs(work_dir: Path) -> list:
    """The timestamped folders of the runs in ``work_dir``, oldest first."""
    return sorted(p for p in work_dir.iterdir()
                  if (p / 'vis_data').is_dir())


@pytest.fixture(scope='module')
def single_run(data_root, tmp_path_factory):
    """One uninterrupted deterministic single-process run, dropout on."""
    tmp = tmp_path_factory.mktemp('single')
    cfg = tiny_config(tmp / 'cfg.py', data_root, model=STOCHASTIC,
                      **param_dump_hook.CONFIG)
    run_tool(['tools/train.py', str(cfg), '--work-dir', str(tmp / 'wd'),
              '--deterministic'], env=PYTHONPATH)
    return cfg, tmp / 'wd'


def test_train_then_test_far_below_mean_pose(data_root, single_run,
                                             tmp_path):
    cfg, work_dir = single_run
    checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
    out = tmp_path / 'metrics.json'
    proc = run_tool(['tools/test.py', str(cfg), checkpoint, '--out',
                     str(out)], env=PYTHONPATH)
    metrics = read_json(out)
    baseline = mean_pose_mpjpe(str(data_root))
    assert metrics['MPJPE'] < 0.6 * baseline, (metrics['MPJPE'], baseline)
    assert metrics['P-MPJPE'] < metrics['MPJPE']
    assert metrics['N-MPJPE'] <= metrics['MPJPE'] + 1e-6
    for action in ACTIONS:  # per action, in millimetres, as in Table 1
        assert 0 < metrics[f'MPJPE_{action}'] < baseline
    # the paper's average: the mean of the per-action errors
    assert metrics['MPJPE_action_mean'] == pytest.approx(
        sum(metrics[f'MPJPE_{action}'] for action in ACTIONS) / len(ACTIONS))
    assert '| **Average over actions (paper protocol)** |' in proc.stdout
    assert '| Average over frames |' in proc.stdout


def test_two_process_ddp_ranks_hold_identical_parameters(
        data_root, tmp_path):
    """Both ranks see different halves of every batch: without the gradient
    all-reduce their parameters part after the first step. With it they are
    bit-identical after training, and training moved them."""
    cfg = tiny_config(tmp_path / 'cfg.py', data_root, model=STOCHASTIC,
                      **param_dump_hook.CONFIG)
    work_dir = tmp_path / 'wd'
    # 2 processes x 32 = the single run's batch of 64
    run_tool([
        'bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir',
        str(work_dir), '--deterministic', '--cfg-options',
        'train_dataloader.batch_size=32'
    ], env={'PORT': str(29500 + random.randint(1, 2000)), **PYTHONPATH})
    params = {(when, rank): load_params(
        work_dir / f'params_{when}_rank{rank}.npz')
        for when in ('before', 'after') for rank in (0, 1)}
    for key, before in params['before', 0].items():
        assert np.array_equal(before, params['before', 1][key]), key
        assert np.array_equal(params['after', 0][key],
                              params['after', 1][key]), \
            f'{key} differs between the ranks: no gradient all-reduce?'
    assert not all(np.array_equal(v, params['after', 0][k])
                   for k, v in params['before', 0].items())
    assert final_val_metrics(work_dir)['MPJPE'] < 0.6 * mean_pose_mpjpe(
        str(data_root))


def _kill_when(work_dir: Path, proc: subprocess.Popen, moment: str) -> str:
    """SIGKILL the process group of ``proc`` at ``moment``: 'random' (a
    random time within the epoch after epoch 2's checkpoint) or
    'checkpoint_write' (as soon as the atomic writer's temporary file of a
    checkpoint after epoch 1 shows up). Returns what happened, for messages.
    """
    deadline = time.time() + 300

    def wait_for(cond):
        while not cond():
            assert proc.poll() is None, 'training ended before the kill'
            assert time.time() < deadline
            time.sleep(0.001 if moment == 'checkpoint_write' else 0.02)

    wait_for(lambda: (work_dir / 'epoch_1.pth').exists())
    if moment == 'random':
        t1 = time.time()
        wait_for(lambda: (work_dir / 'epoch_2.pth').exists())
        delay = random.uniform(0, time.time() - t1)  # one epoch's time
        time.sleep(delay)
        what = f'killed {delay:.2f} s after epoch_2.pth appeared'
    else:
        wait_for(lambda: any(work_dir.glob('.tmp-*')))
        what = 'killed while a checkpoint was being written'
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return what


@pytest.mark.parametrize('moment', ['random', 'checkpoint_write'])
def test_sigkill_then_resume_ends_like_an_uninterrupted_run(
        data_root, single_run, tmp_path, moment):
    """Killed at a random moment or in the middle of a checkpoint write, the
    run resumes after its last complete epoch (not from scratch) and ends
    with the uninterrupted run's weights, random dropout masks included."""
    cfg, single_dir = single_run
    work_dir = tmp_path / 'wd'
    train = [PYTHON, 'tools/train.py', str(cfg), '--work-dir', str(work_dir),
             '--deterministic']
    proc = subprocess.Popen(train, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, **PYTHONPATH},
                            start_new_session=True)
    what = _kill_when(work_dir, proc, moment)
    if moment == 'checkpoint_write':  # SIGKILL runs no cleanup
        assert any(work_dir.glob('.tmp-*')), what
    complete = find_resumable_checkpoint(str(work_dir))
    last_epoch = int(re.findall(r'epoch_(\d+)\.pth$', complete)[0])
    killed_run = run_dirs(work_dir)[-1]

    proc = run_tool(train + ['--resume'], env=PYTHONPATH)
    assert f'resuming from {complete}' in proc.stdout, what
    resumed_run = run_dirs(work_dir)[-1]
    assert resumed_run != killed_run
    # the resumed run starts after the last complete epoch, per its log...
    log = (resumed_run / f'{resumed_run.name}.log').read_text()
    assert f'resumed epoch: {last_epoch}' in log, (what, log[-3000:])
    # ...and its scalars: its first training entry is in the next epoch
    epochs = [e['epoch'] for e in run_entries(resumed_run) if 'loss' in e]
    assert epochs and min(epochs) == last_epoch + 1, (what, epochs)
    assert max(epochs) == 4
    # the uninterrupted run's weights: the data order, the dropout masks and
    # the optimiser state all continued
    ours = load_params(work_dir / 'params_after_rank0.npz')
    for key, value in load_params(
            single_dir / 'params_after_rank0.npz').items():
        np.testing.assert_allclose(ours[key], value, rtol=1e-5, atol=1e-7,
                                   err_msg=f'{key} ({what})')
    resumed = final_val_metrics(work_dir)
    uninterrupted = final_val_metrics(single_dir)
    for key in ('MPJPE', 'P-MPJPE', 'N-MPJPE'):
        assert resumed[key] == pytest.approx(uninterrupted[key], abs=1e-3)


def test_resume_skips_a_truncated_latest_checkpoint(data_root, single_run,
                                                   tmp_path):
    cfg, single_dir = single_run
    work_dir = tmp_path / 'wd'
    work_dir.mkdir()
    # the run keeps its last two checkpoints: epoch 3 intact, epoch 4 cut
    (work_dir / 'epoch_3.pth').write_bytes(
        (single_dir / 'epoch_3.pth').read_bytes())
    good = (single_dir / 'epoch_4.pth').read_bytes()
    (work_dir / 'epoch_4.pth').write_bytes(good[:len(good) // 2])
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_4.pth'))
    proc = run_tool(['tools/train.py', str(cfg), '--work-dir',
                     str(work_dir), '--deterministic', '--resume'],
                    env=PYTHONPATH)
    assert f'resuming from {work_dir / "epoch_3.pth"}' in proc.stdout
    assert final_val_metrics(work_dir)['MPJPE'] == pytest.approx(
        final_val_metrics(single_dir)['MPJPE'], abs=1e-3)


def test_ddp_worker_death_ends_the_job_promptly(data_root, tmp_path):
    cfg = tiny_config(tmp_path / 'cfg.py', data_root,
                      train_cfg='dict(max_epochs=1000, val_interval=1000)')
    env = {**os.environ, 'PORT': str(31500 + random.randint(1, 2000)),
           'PATH': f'{Path(PYTHON).parent}:{os.environ["PATH"]}'}
    proc = subprocess.Popen(
        ['bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir',
         str(tmp_path / 'wd')], cwd=REPO, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.time() + 300
    while not (tmp_path / 'wd' / 'epoch_1.pth').exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.1)
    # the launch scripts exec torchrun, whose children are the two ranks
    workers = subprocess.run(['pgrep', '-P', str(proc.pid)],
                             capture_output=True, text=True).stdout.split()
    assert len(workers) == 2, workers
    killed_at = time.time()
    os.kill(int(workers[-1]), signal.SIGKILL)
    try:
        output, _ = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert time.time() - killed_at < 90
    assert proc.returncode != 0
    assert 'SIGKILL' in output or 'Signal 9' in output, output[-2000:]
