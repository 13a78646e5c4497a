# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Command-line options shared by tools/train.py and tools/test.py, with
MMPose's names."""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction


def add_runner_args(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=10')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_runner_cfg(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with the options of
    :func:`add_runner_args` applied; the work dir defaults to
    ``work_dirs/<config name>``."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    return cfg
