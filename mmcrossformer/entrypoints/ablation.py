# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Seeded ablation studies (tools/analysis_tools/ablation.py): train and
test a list of configs for a list of seeds with the same number of optimizer
steps through ``tools/train.py`` and ``tools/test.py``, resumably, and
summarise the runs as a markdown table and a plot.

Layout of a study's work dir::

    WORK_DIR/ablation.log            progress of every invocation
    WORK_DIR/ablation.md, .png       table and plot of the finished runs
    WORK_DIR/ablation_curves.png     their training loss over the steps
    WORK_DIR/.lock                   held by the study and its subprocesses
    WORK_DIR/<label>/config.py       the config with the step budget
    WORK_DIR/<label>/seed_<S>/       work dir of one run: checkpoints,
        train.log, test.log, metrics.json, result.json (written last,
        atomically: a run with a result.json is complete)
"""
import copy
import fcntl
import glob
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from mmengine.config import Config

from ..engine import AtomicLocalBackend, is_readable_checkpoint

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
RESULT = 'result.json'
LR_SCHEDULES = ('config', 'cosine')


class StudyError(RuntimeError):
    """A study that cannot go on: a failed run, a work dir that belongs to a
    study with other settings, or one that another study is using."""


@dataclass(frozen=True)
class Run:
    """One training run of a study: a config (under its label) and a seed."""
    label: str
    config: str
    seed: int

    def dir(self, work_dir: str) -> str:
        return osp.join(work_dir, self.label, f'seed_{self.seed}')


def config_labels(configs: Sequence[str]) -> List[str]:
    """The label of each config: its file name without ``.py``.

    Raises:
        StudyError: when two configs have the same file name.
    """
    labels = [osp.splitext(osp.basename(c))[0] for c in configs]
    repeated = sorted({la for la in labels if labels.count(la) > 1})
    if repeated:
        raise StudyError(f'configs with the same file name {repeated}: the '
                         'runs of a study are stored under the file names')
    return labels


def plan_runs(configs: Sequence[str], seeds: Sequence[int]) -> List[Run]:
    """All (config, seed) runs, seed by seed, so that an interrupted study
    has the same number of runs of every config as far as it got."""
    if not configs or not seeds:
        raise StudyError('a study needs at least one config and one seed')
    if len(set(seeds)) != len(seeds):
        raise StudyError(f'repeated seeds in {list(seeds)}')
    labels = config_labels(configs)
    return [
        Run(label, config, seed) for seed in seeds
        for label, config in zip(labels, configs)
    ]


def budget_config(cfg: Config,
                  steps: int,
                  checkpoint_interval: int,
                  epoch_length: int,
                  lr_schedule: str = 'config') -> Config:
    """``cfg`` trained for exactly ``steps`` optimizer steps.

    The epoch loop becomes an ``IterBasedTrainLoop`` over the same data
    loader. With ``lr_schedule='config'`` the epoch-based parameter
    schedulers are converted to iterations with ``epoch_length``
    (``len(train_dataloader)``) steps per epoch, so the lr after ``i`` steps
    is the epoch schedule's value at epoch ``i / epoch_length`` (mmengine
    stretches begin and end; the factor of an exponential schedule becomes
    ``gamma ** (1 / epoch_length)`` per step here, which mmengine leaves per
    epoch). With ``'cosine'`` they are replaced by one cosine decay from the
    optimizer's lr to 1 % of it over the ``steps``: for budgets far shorter
    than the config's, where its schedule would barely move. Checkpoints
    are saved every ``checkpoint_interval`` steps and at the end; logs count
    iterations; validation (when not switched off) runs after the last
    step.
    """
    if min(steps, checkpoint_interval, epoch_length) < 1:
        raise StudyError(f'steps ({steps}), checkpoint interval '
                         f'({checkpoint_interval}) and epoch length '
                         f'({epoch_length}) must be positive')
    cfg = copy.deepcopy(cfg)
    if lr_schedule not in LR_SCHEDULES:
        raise StudyError(f'lr schedule {lr_schedule!r} is none of '
                         f'{LR_SCHEDULES}')
    cfg.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=steps, val_interval=steps)
    schedulers = cfg.get('param_scheduler') or []
    if lr_schedule == 'cosine':
        lr = cfg.optim_wrapper.optimizer.lr
        schedulers = [
            dict(type='CosineAnnealingLR', by_epoch=False, T_max=steps,
                 eta_min=lr / 100)
        ]
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    converted = []
    for s in schedulers:
        s = dict(s)
        if s.get('by_epoch', True):
            s['convert_to_iter_based'] = True
            if s['type'].startswith('Exponential'):
                s['gamma'] = s['gamma']**(1 / epoch_length)
        converted.append(s)
    cfg.param_scheduler = converted
    # the study evaluates the last step; no copies of the "best" one
    cfg.default_hooks.checkpoint.update(
        by_epoch=False, interval=checkpoint_interval, save_best=None)
    cfg.log_processor = dict(cfg.get('log_processor') or {}, by_epoch=False)
    cfg.log_processor.setdefault('type', 'LogProcessor')
    return cfg


def set_dataset_option(cfg: Config, key: str, value) -> None:
    """Set ``key`` of the innermost dataset (inside wrappers such as
    ``PlainAndMirroredDataset``) of the train, val and test dataloaders."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not cfg.get(loader):
            continue
        dataset = cfg[loader].dataset
        while 'dataset' in dataset:
            dataset = dataset.dataset
        dataset[key] = value


def _build_dataset(cfg: Config, loader: str):
    """The dataset of ``cfg[loader]``, built in this process."""
    import importlib

    from mmengine.registry import init_default_scope
    from mmpose.registry import DATASETS
    for name in (cfg.get('custom_imports') or {}).get('imports', []):
        importlib.import_module(name)
    init_default_scope(cfg.get('default_scope', 'mmpose'))
    dataset_cfg = copy.deepcopy(cfg[loader].dataset)
    dataset_cfg.pop('indices', None)
    return DATASETS.build(dataset_cfg)


def train_epoch_length(cfg: Config) -> int:
    """``len(train_dataloader)`` of a single-process run."""
    n, batch = len(_build_dataset(cfg, 'train_dataloader')), \
        cfg.train_dataloader.batch_size
    drop_last = cfg.train_dataloader.get('drop_last', False)
    return n // batch if drop_last else math.ceil(n / batch)


def strided_test_indices(cfg: Config, every: int) -> List[int]:
    """Every ``every``-th sample of the config's test dataset (``indices``
    of the dataset config): a subset spread evenly over all subjects,
    actions and cameras."""
    return list(range(0, len(_build_dataset(cfg, 'test_dataloader')),
                      every))


def write_study_configs(configs: Sequence[str],
                        work_dir: str,
                        steps: int,
                        checkpoint_interval: int,
                        cfg_options: Optional[dict] = None,
                        test_every: int = 1,
                        dataset_options: Optional[dict] = None,
                        lr_schedule: str = 'config') -> Dict[str, str]:
    """Write ``WORK_DIR/<label>/config.py`` for every config: the config with
    ``cfg_options`` merged, the ``dataset_options`` of
    :func:`set_dataset_option` set, and the step budget of
    :func:`budget_config`;
    with ``test_every`` > 1 tested (and validated) on every
    ``test_every``-th test sample (:func:`strided_test_indices`); the lr
    schedule as ``lr_schedule`` of :func:`budget_config` says.

    Returns:
        dict: label -> path of the written config.

    Raises:
        StudyError: when a config.py already there differs (the work dir
            holds runs of other settings, whose results must not be mixed).
    """
    paths = {}
    for label, config in zip(config_labels(configs), configs):
        cfg = Config.fromfile(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        for key, value in (dataset_options or {}).items():
            set_dataset_option(cfg, key, value)
        if test_every > 1:
            indices = strided_test_indices(cfg, test_every)
            cfg.test_dataloader.dataset.indices = indices
            cfg.val_dataloader.dataset.indices = indices
        text = budget_config(cfg, steps, checkpoint_interval,
                             train_epoch_length(cfg),
                             lr_schedule).pretty_text
        path = osp.join(work_dir, label, 'config.py')
        if osp.isfile(path):
            with open(path) as f:
                if f.read() != text:
                    raise StudyError(
                        f'{path} was written with other settings (config, '
                        '--steps, --cfg-options or --data-root changed): '
                        'use another --work-dir for the new study')
        else:
            AtomicLocalBackend().put_text(text, path)
        paths[label] = path
    return paths


def load_result(run_dir: str) -> Optional[dict]:
    """The recorded result of a complete run, or None."""
    path = osp.join(run_dir, RESULT)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def final_checkpoint(run_dir: str, steps: int) -> Optional[str]:
    """The readable checkpoint of the last step, when training finished."""
    path = osp.join(run_dir, f'iter_{steps}.pth')
    return path if is_readable_checkpoint(path) else None


def has_checkpoint(run_dir: str) -> bool:
    """Whether an earlier attempt left checkpoints to resume from."""
    return any(
        re.fullmatch(r'iter_\d+\.pth', name) for name in os.listdir(run_dir))


def train_command(config: str,
                  run: Run,
                  run_dir: str,
                  validate: bool = False,
                  python: str = sys.executable) -> List[str]:
    """``tools/train.py`` for one run; with ``--resume`` (the newest complete
    checkpoint in the run dir) when an interrupted attempt left one; with
    ``validate``, the config's validation after the last step."""
    cmd = [
        python,
        osp.join(REPO, 'tools', 'train.py'), config, '--work-dir', run_dir
    ] + ([] if validate else ['--no-validate']) + [
        '--cfg-options', f'randomness.seed={run.seed}'
    ]
    if osp.isdir(run_dir) and has_checkpoint(run_dir):
        cmd.append('--resume')
    return cmd


def final_val_metrics(run_dir: str, steps: int) -> Optional[dict]:
    """The metrics of the validation after step ``steps`` that
    ``tools/train.py`` logged (``*/vis_data/scalars.json``: the first entry
    with ``MPJPE`` after the training entry of that step), or None."""
    found = None
    for path in sorted(glob.glob(osp.join(run_dir, '*', 'vis_data',
                                          'scalars.json'))):
        last_step = False
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'iter' in entry:
                    last_step = entry['iter'] == steps
                elif last_step and 'MPJPE' in entry:
                    found = {k: v for k, v in entry.items() if k != 'step'}
                    last_step = False
    return found


def test_command(config: str, checkpoint: str, run_dir: str,
                 python: str = sys.executable) -> List[str]:
    """``tools/test.py`` of a run's final checkpoint."""
    return [
        python,
        osp.join(REPO, 'tools', 'test.py'), config, checkpoint, '--work-dir',
        run_dir, '--out',
        osp.join(run_dir, 'metrics.json')
    ]


_RUNNING: set = set()  # the subprocesses of the runs going on now
_RUNNING_LOCK = threading.Lock()
_STOPPING = threading.Event()  # the study is ending: start no process


def _call(cmd: List[str], log_file: str, env: Dict[str, str],
          pass_fds: Tuple[int, ...]) -> float:
    """Run ``cmd``, appending its output to ``log_file``; the seconds it
    took."""
    start = time.time()
    with open(log_file, 'a') as log:
        log.write(f'$ {" ".join(cmd)}\n')
        log.flush()
        with _RUNNING_LOCK:
            if _STOPPING.is_set():
                raise StudyError('the study is ending')
            proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                pass_fds=pass_fds)
            _RUNNING.add(proc)
        with proc:
            try:
                code = proc.wait()
            finally:
                with _RUNNING_LOCK:
                    _RUNNING.discard(proc)
    if code != 0:
        with open(log_file) as f:
            tail = f.read()[-3000:]
        raise StudyError(f'{cmd[1]} failed with exit status {code}; the end '
                         f'of {log_file}:\n{tail}')
    return time.time() - start


def _kill_running() -> None:
    """End the runs going on now (the study is ending)."""
    with _RUNNING_LOCK:
        _STOPPING.set()
        for proc in _RUNNING:
            proc.kill()


class StudyLog:
    """Progress lines with UTC time, printed and appended to a file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()  # runs report from their threads

    def __call__(self, message: str) -> None:
        line = time.strftime('%H:%M:%S', time.gmtime()) + ' ' + message
        with self._lock:
            print(line, flush=True)
            with open(self.path, 'a') as f:
                f.write(line + '\n')


def run_study(configs: Sequence[str],
              seeds: Sequence[int],
              work_dir: str,
              steps: int,
              checkpoint_interval: Optional[int] = None,
              cfg_options: Optional[dict] = None,
              test_every: int = 1,
              dataset_options: Optional[dict] = None,
              validate: bool = False,
              cpu: bool = False,
              metrics: Sequence[str] = ('MPJPE', 'P-MPJPE'),
              python: str = sys.executable,
              lr_schedule: str = 'config',
              jobs: int = 1) -> List[dict]:
    """Train and test every config for every seed with ``steps`` optimizer
    steps, skipping the runs recorded as complete and resuming interrupted
    ones. The table and plot of :func:`write_report` are rewritten after
    every run, so an interrupted study leaves those of its complete runs.

    Args:
        configs: config files; runs are stored under their file names.
        seeds: ``randomness.seed`` of the runs.
        work_dir: the study's work dir (see the module docstring).
        steps: optimizer steps of every run.
        checkpoint_interval: steps between checkpoints (resume points);
            default ``ceil(steps / 4)``.
        cfg_options: overrides merged into every config (``--cfg-options``).
        test_every: test on every ``test_every``-th test sample.
        dataset_options: options of the innermost datasets of every config
            (:func:`set_dataset_option`), e.g. ``data_root``.
        validate: evaluate with the validation of ``tools/train.py`` after
            the last step (the configs validate on the test split) instead
            of a separate ``tools/test.py`` process, which saves its start-
            up; ``tools/test.py`` still runs when that result is missing.
        cpu: hide CUDA devices from the runs.
        metrics: metrics of the table and plot.
        python: the interpreter of the subprocesses.
        lr_schedule: ``'config'`` or ``'cosine'`` (:func:`budget_config`).
        jobs: runs at the same time, in plan order. Unless the environment
            sets ``OMP_NUM_THREADS``, each run gets ``os.cpu_count() //
            jobs`` torch threads (at least one).

    Returns:
        list[dict]: the results of all runs in plan order (see
        :func:`load_result`).

    Raises:
        StudyError: on a failed run, a work dir of other settings, or a work
            dir in use by another study or by a run of a killed one.
    """
    runs = plan_runs(configs, seeds)
    if jobs < 1:
        raise StudyError(f'jobs must be positive, not {jobs}')
    work_dir = osp.abspath(work_dir)  # the runs start in the repository
    interval = checkpoint_interval or math.ceil(steps / 4)
    os.makedirs(work_dir, exist_ok=True)
    lock = open(osp.join(work_dir, '.lock'), 'w')
    try:
        # the runs inherit the lock: a run orphaned by a killed study keeps
        # the work dir locked until it ends
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise StudyError(f'{work_dir} is in use by another study, or by a run '
                         'of a killed study that is still going; wait for it '
                         'or end it') from None
    try:
        paths = write_study_configs(configs, work_dir, steps, interval,
                                    cfg_options, test_every, dataset_options,
                                    lr_schedule)
        env = dict(os.environ)
        if cpu:
            env['CUDA_VISIBLE_DEVICES'] = ''
        if jobs > 1 and 'OMP_NUM_THREADS' not in env:
            env['OMP_NUM_THREADS'] = str(max(1, (os.cpu_count() or 1) // jobs))
        log = StudyLog(osp.join(work_dir, 'ablation.log'))
        _STOPPING.clear()
        found = {r: load_result(r.dir(work_dir)) for r in runs}
        results: Dict[Run, dict] = {
            r: result
            for r, result in found.items() if result is not None
        }
        log(f'study of {len(configs)} configs x {len(seeds)} seeds, {steps} '
            f'steps each, {jobs} at a time, in {work_dir}: {len(results)} of '
            f'{len(runs)} runs done')
        names = {
            r: f'[{i}/{len(runs)}] {r.label} seed {r.seed}'
            for i, r in enumerate(runs, 1)
        }
        for run in results:
            log(f'{names[run]}: done before, skipped')
        if results:
            write_report([results[r] for r in runs if r in results], work_dir,
                         metrics)
        todo = [r for r in runs if r not in results]
        durations: List[float] = []

        def train_and_test(run: Run) -> Tuple[dict, float]:
            start = time.time()
            result = _train_and_test(run, paths[run.label],
                                     run.dir(work_dir), steps, validate, env,
                                     (lock.fileno(), ), log, names[run],
                                     python)
            return result, time.time() - start

        pool = ThreadPoolExecutor(jobs)
        pending = {pool.submit(train_and_test, r): r for r in todo}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    run = pending.pop(future)
                    result, seconds = future.result()
                    results[run] = result
                    durations.append(seconds)
                    left = len(runs) - len(results)
                    eta = sum(durations) / len(durations) * left / jobs
                    log(f'{names[run]}: MPJPE '
                        f'{result["metrics"]["MPJPE"]:.2f} mm in '
                        f'{seconds:.0f} s; {left} runs left, about '
                        f'{eta / 60:.1f} min')
                    write_report([results[r] for r in runs if r in results],
                                 work_dir, metrics)
        except BaseException:  # a failed run, SIGTERM, Ctrl-C: end them all
            for future in pending:
                future.cancel()
            _kill_running()
            raise
        finally:
            pool.shutdown(wait=True)
        return [results[r] for r in runs]
    finally:
        lock.close()


def _train_and_test(run: Run, config: str, run_dir: str, steps: int,
                    validate: bool, env: Dict[str, str],
                    pass_fds: Tuple[int, ...],
                    log: Callable[[str], None], name: str,
                    python: str) -> dict:
    """Train (or finish training) and test one run; record its result."""
    os.makedirs(run_dir, exist_ok=True)
    train_log = osp.join(run_dir, 'train.log')
    checkpoint = final_checkpoint(run_dir, steps)
    train_seconds = 0.
    if checkpoint is None:
        cmd = train_command(config, run, run_dir, validate, python)
        log(f'{name}: training {steps} steps' +
            (' (resuming)' if '--resume' in cmd else ''))
        train_seconds = _call(cmd, train_log, env, pass_fds)
        checkpoint = final_checkpoint(run_dir, steps)
        if checkpoint is None:
            raise StudyError(f'training ended without {run_dir}/iter_{steps}'
                             f'.pth; see {train_log}')
    else:
        log(f'{name}: trained before, testing')
    metrics = final_val_metrics(run_dir, steps) if validate else None
    test_seconds = 0.
    if metrics is None:
        test_seconds = _call(
            test_command(config, checkpoint, run_dir, python),
            osp.join(run_dir, 'test.log'), env, pass_fds)
        with open(osp.join(run_dir, 'metrics.json')) as f:
            metrics = json.load(f)
    result = dict(
        label=run.label,
        config=run.config,
        seed=run.seed,
        steps=steps,
        metrics=metrics,
        evaluated_by='tools/test.py' if test_seconds else
        'tools/train.py validation',
        train_seconds=round(train_seconds, 1),
        test_seconds=round(test_seconds, 1))
    AtomicLocalBackend().put_text(
        json.dumps(result, indent=2), osp.join(run_dir, RESULT))
    return result


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (n - 1 in the denominator; NaN
    for a single value)."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, float('nan')
    return mean, math.sqrt(sum((v - mean)**2 for v in values) / (n - 1))


def group_results(results: Sequence[dict],
                  metric: str) -> Dict[str, Dict[int, float]]:
    """label -> seed -> value of ``metric``, labels in first-seen order."""
    groups: Dict[str, Dict[int, float]] = {}
    for r in results:
        if metric not in r['metrics']:
            raise StudyError(f'no {metric!r} in the metrics of {r["label"]} '
                             f'seed {r["seed"]}: {sorted(r["metrics"])}')
        groups.setdefault(r['label'], {})[r['seed']] = r['metrics'][metric]
    return groups


def _fmt(value: float) -> str:
    return '–' if math.isnan(value) else f'{value:.2f}'


def format_study(results: Sequence[dict],
                 metrics: Sequence[str] = ('MPJPE', 'P-MPJPE')) -> str:
    """Markdown: a summary table (runs, mean ± sample standard deviation of
    every metric, the first config's mean minus this one's with its standard
    error sqrt(s1²/n1 + s2²/n2)) and a table of every single run."""
    grouped = {m: group_results(results, m) for m in metrics}
    labels = list(grouped[metrics[0]])
    first = labels[0]
    head = ['config', 'runs'] + [f'{m} (mm)' for m in metrics] + [
        f'{first} − config, {metrics[0]} (mm)'
    ]
    lines = ['| ' + ' | '.join(head) + ' |', '|---' * len(head) + '|']
    base = list(grouped[metrics[0]][first].values())
    for label in labels:
        cells = [label, str(len(grouped[metrics[0]][label]))]
        for m in metrics:
            mean, std = mean_std(list(grouped[m][label].values()))
            cells.append(f'{_fmt(mean)} ± {_fmt(std)}')
        if label == first:
            cells.append('')
        else:
            values = list(grouped[metrics[0]][label].values())
            (m1, s1), (m2, s2) = mean_std(base), mean_std(values)
            se = math.sqrt(s1**2 / len(base) + s2**2 / len(values))
            cells.append(f'{_fmt(m1 - m2)} ± {_fmt(se)}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    lines += ['', '| config | seed | ' + ' | '.join(
        f'{m} (mm)' for m in metrics) + ' |', '|---' * (len(metrics) + 2) +
        '|']
    for r in results:
        lines.append(f'| {r["label"]} | {r["seed"]} | ' + ' | '.join(
            f'{r["metrics"][m]:.2f}' for m in metrics) + ' |')
    return '\n'.join(lines) + '\n'


def plot_study(results: Sequence[dict],
               path: str,
               metrics: Sequence[str] = ('MPJPE', 'P-MPJPE')) -> None:
    """A PNG with one panel per metric: every run as a point (one marker
    per seed), and per config the mean with an interval of ± one sample
    standard deviation."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    seeds = sorted({r['seed'] for r in results})
    markers = 'os^Dv<>p*h'
    fig, axes = plt.subplots(
        1, len(metrics), figsize=(4.2 * len(metrics), 3.6), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        groups = group_results(results, metric)
        for x, values in enumerate(groups.values()):
            for k, seed in enumerate(seeds):
                if seed in values:
                    ax.plot(
                        x - 0.15 + 0.3 * k / max(1, len(seeds) - 1),
                        values[seed],
                        markers[k % len(markers)],
                        color='tab:blue',
                        alpha=0.7,
                        label=f'seed {seed}' if x == 0 else None)
            mean, std = mean_std(list(values.values()))
            ax.errorbar(
                x + 0.3,
                mean,
                yerr=0 if math.isnan(std) else std,
                fmt='_',
                color='black',
                markersize=14,
                capsize=4,
                label='mean ± std' if x == 0 else None)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels(list(groups), rotation=20, ha='right', fontsize=8)
        ax.set_ylabel(f'{metric} (mm)')
        ax.grid(axis='y', alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def training_curve(run_dir: str) -> Dict[int, float]:
    """step -> training loss that ``tools/train.py`` logged for a run
    (``*/vis_data/scalars.json``; a resumed run logs into a new directory,
    whose entries replace those of the killed attempt from the same step
    on)."""
    curve: Dict[int, float] = {}
    for path in sorted(glob.glob(osp.join(run_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            entries = [json.loads(line) for line in f]
        steps = [e['iter'] for e in entries if 'loss' in e and 'iter' in e]
        if steps:  # the killed attempt's later steps were redone
            curve = {k: v for k, v in curve.items() if k < min(steps)}
        curve.update(
            (e['iter'], e['loss']) for e in entries
            if 'loss' in e and 'iter' in e)
    return curve


def plot_training_curves(results: Sequence[dict], work_dir: str,
                         path: str) -> None:
    """A PNG of the training loss (MPJPE of the training batches, mm, log
    scale) over the steps: per config the mean over its seeds, and the
    seeds' range as a band."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    labels = list(dict.fromkeys(r['label'] for r in results))
    for label in labels:
        curves = [
            training_curve(Run(label, '', r['seed']).dir(work_dir))
            for r in results if r['label'] == label
        ]
        steps = sorted(set.intersection(*(set(c) for c in curves)))
        if not steps:
            continue
        losses = 1000 * np.array([[c[k] for k in steps] for c in curves])
        line, = ax.plot(steps, losses.mean(0), label=label)
        ax.fill_between(steps, losses.min(0), losses.max(0),
                        color=line.get_color(), alpha=0.2)
    ax.set_yscale('log')
    for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
        axis(matplotlib.ticker.FormatStrFormatter('%g'))
    ax.set_xlabel('optimizer step')
    ax.set_ylabel('training loss, MPJPE (mm)')
    ax.grid(alpha=0.3, which='both')
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_report(results: Sequence[dict], work_dir: str,
                 metrics: Sequence[str] = ('MPJPE', 'P-MPJPE')
                 ) -> Tuple[str, str, str]:
    """Write ``ablation.md``, ``ablation.png`` and ``ablation_curves.png``
    (:func:`plot_training_curves`) into the work dir; their paths."""
    md, png, curves = (
        osp.join(work_dir, name)
        for name in ('ablation.md', 'ablation.png', 'ablation_curves.png'))
    AtomicLocalBackend().put_text(format_study(results, metrics), md)
    plot_study(results, png, metrics)
    plot_training_curves(results, work_dir, curves)
    return md, png, curves
