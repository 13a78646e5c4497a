"""Shared test helpers."""
import io
import json
import os
import pickle
import pickletools
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def tiny_config(path: Path, data_root: Path, base: str = 'crossformer_h36m_9f',
                **overrides: str) -> Path:
    """Write a config that inherits ``configs/<base>.py`` with a one-layer
    model, small batches and no worker processes, for end-to-end tests.
    ``overrides`` are extra top-level assignments (Python source)."""
    lines = [
        f"_base_ = ['{REPO / 'configs' / base}.py']",
        "model = dict(backbone=dict(depth=1, drop_path_rate=0.))",
        f"data_root = '{data_root}/'",
        "train_cfg = dict(max_epochs=4, val_interval=4)",
        "optim_wrapper = dict(optimizer=dict(lr=2e-3))",
        "default_hooks = dict(logger=dict(interval=10))",
        "train_dataloader = dict(batch_size=64, num_workers=0, "
        "persistent_workers=False, "
        "dataset=dict(dataset=dict(data_root=data_root)))",
        "val_dataloader = dict(batch_size=256, num_workers=0, "
        "persistent_workers=False, dataset=dict(data_root=data_root))",
        "test_dataloader = val_dataloader",
    ] + [f'{k} = {v}' for k, v in overrides.items()]
    path.write_text('\n'.join(lines) + '\n')
    return path


def run_tool(args: List[str], timeout: float = 600,
             env: Optional[Dict[str, str]] = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run ``python tools/<args>`` (or a shell script) from the repository."""
    cmd = [PYTHON] + args if args[0].endswith('.py') else args
    full_env = {**os.environ, 'PATH': f'{Path(PYTHON).parent}:'
                f'{os.environ["PATH"]}', **(env or {})}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, env=full_env)
    if check and proc.returncode != 0:
        raise AssertionError(f'{cmd} failed ({proc.returncode}):\n'
                             f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


def read_json(path: Path) -> dict:
    with open(path) as f:
        return json.load(f)


def load_h36m_split(root: Path, split: str) -> dict:
    """The arrays of ``h36m_<split>.npz`` under a Human3.6M-layout root."""
    with np.load(root / 'annotation_body3d' / 'fps50' /
                 f'h36m_{split}.npz') as d:
        return {k: d[k] for k in d.files}


def load_h36m_cameras(root: Path) -> dict:
    with open(root / 'annotation_body3d' / 'cameras.pkl', 'rb') as f:
        return pickle.load(f)


#: The smallest CrossFormer of ``configs/crossformer_h36m_9f.py`` (9 frames,
#: 8 channels per joint, one layer each), as ``--cfg-options``.
TINY_LIFTER = {
    'model.backbone.embed_dim': 8,
    'model.backbone.depth': 1,
    'model.backbone.num_heads': 2,
    'model.head.in_channels': 17 * 8,
}


def small_h36m(root: Path, subjects: Tuple[str, ...]) -> str:
    """Write a small synthetic Human3.6M (40 frames, one subaction of
    Walking and Greeting per subject) under ``root``; its ``data_root``."""
    from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
    generate_h36m(str(root), frames=40, subactions=1, subjects=subjects,
                  actions=('Walking', 'Greeting'))
    return str(root) + '/'


def train_tiny_lifter(tmp: Path) -> Tuple[Path, Path]:
    """Train the :data:`TINY_LIFTER` CrossFormer for two epochs with
    ``tools/train.py`` on a small synthetic Human3.6M; its checkpoints hold
    the message hub, the optimizer and :class:`RandomStateHook`'s state.
    Returns the config and the work dir (``epoch_1.pth``, ``epoch_2.pth``).
    """
    from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
    data_root = tmp / 'h36m'
    generate_h36m(str(data_root), frames=40, subactions=1,
                  actions=('Walking', 'Purchases'))
    cfg = tiny_config(
        tmp / 'tiny.py', data_root,
        model='dict(backbone=dict(depth=1, embed_dim=8, num_heads=2, '
        'drop_path_rate=0.1), head=dict(in_channels=136))',
        train_cfg='dict(max_epochs=2, val_interval=2)')
    work_dir = tmp / 'work_dir'
    run_tool(['tools/train.py', str(cfg), '--work-dir', str(work_dir),
              '--deterministic'])
    return cfg, work_dir


def pickle_globals(path) -> set:
    """The GLOBAL / STACK_GLOBAL names in the pickle of a torch file
    (Python 2's ``__builtin__`` read as ``builtins``, as unpicklers do)."""
    with zipfile.ZipFile(path) as archive:
        pkl = next(n for n in archive.namelist() if n.endswith('data.pkl'))
        data = archive.read(pkl)
    names, strings = set(), []
    for op, arg, _ in pickletools.genops(io.BytesIO(data)):
        if op.name == 'GLOBAL':
            names.add(arg.replace(' ', '.'))
        elif op.name in ('SHORT_BINUNICODE', 'BINUNICODE', 'UNICODE'):
            strings.append(arg)
        elif op.name == 'STACK_GLOBAL':
            names.add('.'.join(strings[-2:]))
    return {n.replace('__builtin__.', 'builtins.') for n in names}


def run_script(script: str, argv: List[str]) -> int:
    """Run ``REPO/script`` as ``__main__`` in this process (no interpreter
    start-up and imports, unlike :func:`run_tool`) with ``argv``. Returns
    its exit status; a ``sys.exit('message')`` is printed to stderr as the
    interpreter would."""
    import runpy
    saved = sys.argv
    sys.argv = [str(REPO / script), *argv]
    try:
        runpy.run_path(str(REPO / script), run_name='__main__')
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            return 1
        return e.code or 0
    finally:
        sys.argv = saved
    return 0
