"""Shared test helpers."""
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

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
