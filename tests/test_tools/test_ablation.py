"""tools/analysis_tools/ablation.py: statistics and table by hand, the step
budget and lr schedules, and a study of 2 tiny configs x 2 seeds that is
killed (SIGKILL) after its first run and continued two runs at a time."""
import fcntl
import json
import math
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import matplotlib.image
import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.entrypoints.ablation import (StudyError, format_study,
                                                mean_std, plot_study,
                                                run_study, training_curve,
                                                write_study_configs)

from ..helpers import PYTHON, REPO, tiny_config


def fake(label: str, seed: int, mpjpe: float, p_mpjpe: float) -> dict:
    return dict(label=label, seed=seed,
                metrics={'MPJPE': mpjpe, 'P-MPJPE': p_mpjpe, 'N-MPJPE': 0.})


FAKE = [
    fake('poseformer', 0, 50., 40.),
    fake('crossformer', 0, 49., 39.),
    fake('poseformer', 1, 52., 41.),
    fake('crossformer', 1, 50., 42.),
    fake('poseformer', 2, 57., 42.),
]


def test_mean_and_sample_standard_deviation_by_hand():
    # mean 53; squared deviations 9 + 1 + 16 = 26; 26 / (3 - 1) = 13
    assert mean_std([50., 52., 57.]) == pytest.approx((53., math.sqrt(13)))
    mean, std = mean_std([4.])
    assert mean == 4. and math.isnan(std)


def test_table_of_fake_results_by_hand():
    table = format_study(FAKE)
    rows = [line for line in table.splitlines() if line.startswith('| ')]
    assert rows[0] == ('| config | runs | MPJPE (mm) | P-MPJPE (mm) | '
                       'poseformer − config, MPJPE (mm) |')
    # poseformer MPJPE 53 ± sqrt(13) = 3.61; P-MPJPE 41 ± 1
    assert rows[1] == '| poseformer | 3 | 53.00 ± 3.61 | 41.00 ± 1.00 |  |'
    # crossformer: 49.5 ± sqrt(0.5); P-MPJPE 40.5 ± sqrt(4.5) = 2.12;
    # gain 53 - 49.5 = 3.5 ± sqrt(13 / 3 + 0.5 / 2) = 2.14
    assert rows[2] == ('| crossformer | 2 | 49.50 ± 0.71 | 40.50 ± 2.12 | '
                       '3.50 ± 2.14 |')
    # every single run, in the order recorded
    assert rows[3] == '| config | seed | MPJPE (mm) | P-MPJPE (mm) |'
    assert rows[4:] == [
        '| poseformer | 0 | 50.00 | 40.00 |',
        '| crossformer | 0 | 49.00 | 39.00 |',
        '| poseformer | 1 | 52.00 | 41.00 |',
        '| crossformer | 1 | 50.00 | 42.00 |',
        '| poseformer | 2 | 57.00 | 42.00 |',
    ]


def test_table_names_a_missing_metric():
    with pytest.raises(StudyError, match="no 'MPJPE-action'.*poseformer"):
        format_study(FAKE, metrics=('MPJPE-action', ))


def test_plot_has_one_panel_per_metric(tmp_path):
    plot_study(FAKE, str(tmp_path / 'a.png'))
    plot_study(FAKE, str(tmp_path / 'b.png'), metrics=('MPJPE', ))
    two = matplotlib.image.imread(tmp_path / 'a.png')
    one = matplotlib.image.imread(tmp_path / 'b.png')
    assert two.shape[0] == one.shape[0] == round(3.6 * 90)
    assert two.shape[1] == round(2 * 4.2 * 90)
    assert two[..., :3].std() > 0.05  # not blank


def test_training_curve_of_a_resumed_run(tmp_path):
    """The killed attempt logged steps 10-40 and saved step 20; the resumed
    one logs 30-50 into a new directory: its entries replace the killed
    attempt's from step 30 on."""
    def log(name: str, entries: list) -> None:
        path = tmp_path / name / 'vis_data' / 'scalars.json'
        path.parent.mkdir(parents=True)
        path.write_text('\n'.join(json.dumps(e) for e in entries) + '\n')

    log('20261127_100000', [
        dict(iter=k, step=k, loss=1. / k, lr=1e-3) for k in (10, 20, 30, 40)
    ] + [dict(MPJPE=99., step=40)])
    log('20261127_110000',
        [dict(iter=k, step=k, loss=2. / k, lr=1e-3) for k in (30, 50)])
    assert training_curve(str(tmp_path)) == {
        10: 1 / 10, 20: 1 / 20, 30: 2 / 30, 50: 2 / 50}
    assert training_curve(str(tmp_path / 'missing')) == {}


def test_budget_config_and_a_work_dir_of_other_settings(tiny_study,
                                                       tmp_path):
    configs, _ = tiny_study
    written = write_study_configs(configs[:1], str(tmp_path), 100, 25,
                                  test_every=7)
    cfg = Config.fromfile(written['poseformer'])
    assert cfg.train_cfg == dict(
        type='IterBasedTrainLoop', max_iters=100, val_interval=100)
    assert cfg.default_hooks.checkpoint.interval == 25
    assert not cfg.default_hooks.checkpoint.by_epoch
    # x0.99 per epoch of len(train_dataloader) steps: 0.99^(1/len) per step
    epoch = len(Runner.build_dataloader(Config.fromfile(
        configs[0]).train_dataloader))
    [scheduler] = cfg.param_scheduler
    assert scheduler.convert_to_iter_based
    assert scheduler.gamma**epoch == pytest.approx(0.99)
    # every 7th test window: 2 subjects x 2 actions x 60 frames x 4 cameras
    assert cfg.test_dataloader.dataset.indices == list(range(0, 960, 7))
    # a cosine decay over the budget instead: from the lr to 1 % of it
    cosine = Config.fromfile(write_study_configs(
        configs[:1], str(tmp_path / 'cosine'), 100, 25,
        lr_schedule='cosine')['poseformer'])
    assert cosine.param_scheduler == [
        dict(type='CosineAnnealingLR', by_epoch=False, T_max=100,
             eta_min=pytest.approx(2e-5))
    ]
    with pytest.raises(StudyError, match="'linear' is none of"):
        write_study_configs(configs[:1], str(tmp_path / 'linear'), 100, 25,
                            lr_schedule='linear')
    # the same settings again: accepted; other ones: refused
    write_study_configs(configs[:1], str(tmp_path), 100, 25, test_every=7)
    with pytest.raises(StudyError, match='other settings'):
        write_study_configs(configs[:1], str(tmp_path), 200, 50,
                            test_every=7)
    with pytest.raises(StudyError, match='same file name'):
        write_study_configs(configs[:1] * 2, str(tmp_path / 'x'), 100, 25)


def test_a_locked_work_dir_is_refused(tmp_path):
    with open(tmp_path / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(StudyError, match='in use'):
            run_study([str(REPO / 'configs' / 'poseformer_h36m_9f.py')], [0],
                      str(tmp_path), 10)


STEPS, INTERVAL = 30, 10


def run_study_to_the_end(cmd: list, timeout: float = 1500) -> str:
    """Run the study in a session of its own (so that a timeout ends its
    current run as well); its output."""
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, out[-5000:]
    return out


@pytest.fixture(scope='module')
def tiny_study(tmp_path_factory):
    """Two one-layer configs on a small generated Human3.6M."""
    tmp = tmp_path_factory.mktemp('ablation')
    root = tmp / 'data'
    generate_h36m(str(root), frames=60, subactions=1,
                  actions=('Walking', 'Greeting'))
    configs = [
        tiny_config(tmp / 'poseformer.py', root, base='poseformer_h36m_9f'),
        tiny_config(tmp / 'crossformer.py', root)
    ]
    return [str(c) for c in configs], tmp / 'study'


def test_killed_study_continues_without_retraining(tiny_study):
    configs, work_dir = tiny_study
    cmd = [PYTHON, 'tools/analysis_tools/ablation.py', *configs, '--seeds',
           '0', '1', '--steps', str(STEPS), '--checkpoint-interval',
           str(INTERVAL), '--work-dir', str(work_dir), '--cpu']
    first = work_dir / 'poseformer' / 'seed_0'
    second = work_dir / 'crossformer' / 'seed_0'
    # a session of its own: the kill reaches the study and its current run
    proc = subprocess.Popen(cmd, cwd=REPO, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        for line in proc.stdout:  # until the first run is recorded
            if re.search(r'\[1/4\] poseformer seed 0: MPJPE', line):
                break
        else:
            pytest.fail(f'the study ended early ({proc.wait()})')
        deadline = time.time() + 600
        while not (second / f'iter_{INTERVAL}.pth').exists():
            assert time.time() < deadline, 'no checkpoint of the second run'
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
    assert not (second / 'result.json').exists()
    assert not (second / f'iter_{STEPS}.pth').exists(), \
        'the second run finished before the kill'
    kept = {p: p.stat().st_mtime_ns for p in first.rglob('*') if p.is_file()}
    # the orphaned run, if it is still going, holds the lock: wait for it
    with open(work_dir / '.lock') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)

    # continued with evaluation by tools/train.py's validation (no
    # tools/test.py processes for the remaining runs), two runs at a time
    out = run_study_to_the_end(cmd + ['--validate', '--jobs', '2'])
    assert '[1/4] poseformer seed 0: done before, skipped' in out
    # the third run started before the second one ended
    assert out.index('[3/4] poseformer seed 1: training') < out.index(
        '[2/4] crossformer seed 0: MPJPE')
    assert {p: p.stat().st_mtime_ns
            for p in first.rglob('*') if p.is_file()} == kept
    assert '[2/4] crossformer seed 0: training 30 steps (resuming)' in out
    train_log = (second / 'train.log').read_text()
    assert '--resume' in train_log and 'resuming from' in train_log

    results = {}
    for run_dir in sorted(work_dir.glob('*/seed_*')):
        result = json.loads((run_dir / 'result.json').read_text())
        results[result['label'], result['seed']] = result['metrics']
        # exactly the budget: the last checkpoint is the one of step 30
        steps = [int(re.findall(r'\d+', p.name)[0])
                 for p in run_dir.glob('iter_*.pth')]
        assert max(steps) == STEPS
        if run_dir == first:
            assert result['evaluated_by'] == 'tools/test.py'
            assert result['metrics'] == json.loads(
                (run_dir / 'metrics.json').read_text())
        else:
            assert result['evaluated_by'] == 'tools/train.py validation'
            assert not (run_dir / 'test.log').exists()
    assert len(results) == 4
    # the validation after the last step gives tools/test.py's numbers
    run_dir = work_dir / 'crossformer' / 'seed_1'
    out_file = run_dir / 'check.json'
    subprocess.run([
        PYTHON, 'tools/test.py', str(work_dir / 'crossformer' / 'config.py'),
        str(run_dir / f'iter_{STEPS}.pth'), '--work-dir',
        str(run_dir / 'check'), '--out', str(out_file)], cwd=REPO,
        check=True, capture_output=True, timeout=600)
    tested = json.loads(out_file.read_text())
    for metric in ('MPJPE', 'P-MPJPE'):
        assert tested[metric] == pytest.approx(
            results['crossformer', 1][metric], abs=1e-4)
    for label in ('poseformer', 'crossformer'):  # the seed reaches the run
        assert results[label, 0]['MPJPE'] != results[label, 1]['MPJPE']
    table = (work_dir / 'ablation.md').read_text()
    for (label, seed), metrics in results.items():
        assert (f'| {label} | {seed} | {metrics["MPJPE"]:.2f} | '
                f'{metrics["P-MPJPE"]:.2f} |') in table
    assert (work_dir / 'ablation.png').stat().st_size > 1000
    assert (work_dir / 'ablation_curves.png').stat().st_size > 1000
    # the curves read the resumed run's losses at every logged step
    assert sorted(training_curve(str(second))) == [10, 20, 30]
    # (in this test: under pytest-xdist a second test could run on another
    # worker, without the study)
    assert_lr_decays_per_iteration(work_dir)


def assert_lr_decays_per_iteration(work_dir: Path) -> None:
    """The epoch schedule (x0.99 per epoch) converted to iterations: the lr
    logged at step k is 2e-3 x 0.99^(k / steps per epoch), not constant."""
    run_dir = work_dir / 'crossformer' / 'seed_1'
    cfg = Config.fromfile(work_dir / 'crossformer' / 'config.py')
    epoch = len(Runner.build_dataloader(cfg.train_dataloader))
    scalars = sorted(run_dir.glob('*/vis_data/scalars.json'))[-1]
    logged = [json.loads(line) for line in scalars.read_text().splitlines()]
    logged = [(e['iter'], e['lr']) for e in logged if 'lr' in e]
    assert [k for k, _ in logged] == [10, 20, 30]
    for k, lr in logged:
        assert 2e-3 * 0.99**(k / epoch) <= lr <= 2e-3 * 0.99**(
            (k - 1) / epoch), (k, lr, epoch)
