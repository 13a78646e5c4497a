"""End to end on generated Human3.6M-layout data: train, test, distributed
training (2 CPU processes, gloo), resume after SIGKILL, DDP worker death."""
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.evaluation import mean_pose_mpjpe

from ..helpers import PYTHON, REPO, read_json, run_tool, tiny_config

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


@pytest.fixture(scope='module')
def single_run(data_root, tmp_path_factory):
    """One uninterrupted deterministic single-process run."""
    tmp = tmp_path_factory.mktemp('single')
    cfg = tiny_config(tmp / 'cfg.py', data_root)
    run_tool(['tools/train.py', str(cfg), '--work-dir', str(tmp / 'wd'),
              '--deterministic'])
    return cfg, tmp / 'wd'


def test_train_then_test_far_below_mean_pose(data_root, single_run,
                                             tmp_path):
    cfg, work_dir = single_run
    checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
    out = tmp_path / 'metrics.json'
    proc = run_tool(['tools/test.py', str(cfg), checkpoint, '--out',
                     str(out)])
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


def test_two_process_ddp_reaches_single_process_metrics(
        data_root, single_run, tmp_path):
    _, single_dir = single_run
    cfg = tiny_config(tmp_path / 'cfg.py', data_root)
    # 2 processes x 32 = the single run's batch of 64
    run_tool([
        'bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir',
        str(tmp_path / 'wd'), '--deterministic', '--cfg-options',
        'train_dataloader.batch_size=32'
    ], env={'PORT': str(29500 + random.randint(1, 2000))})
    single = final_val_metrics(single_dir)['MPJPE']
    ddp = final_val_metrics(tmp_path / 'wd')['MPJPE']
    assert ddp == pytest.approx(single, rel=0.25)
    assert ddp < 0.6 * mean_pose_mpjpe(str(data_root))


def test_sigkill_then_resume_ends_like_an_uninterrupted_run(
        data_root, single_run, tmp_path):
    cfg, single_dir = single_run
    work_dir = tmp_path / 'wd'
    train = [PYTHON, 'tools/train.py', str(cfg), '--work-dir', str(work_dir),
             '--deterministic']
    proc = subprocess.Popen(train, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    while not (work_dir / 'epoch_2.pth').exists():
        assert proc.poll() is None and time.time() < deadline
        time.sleep(0.05)
    time.sleep(random.uniform(0, 1.0))  # any moment of epoch 3
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    run_tool(train + ['--resume'])
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
                     str(work_dir), '--deterministic', '--resume'])
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
