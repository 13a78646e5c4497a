# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Evaluate a checkpoint with MMPose's interface (MPJPE, P-MPJPE, N-MPJPE in
millimetres, overall and per action).

    python tools/test.py configs/crossformer_h36m_81f.py CHECKPOINT
    tools/dist_test.sh configs/crossformer_h36m_81f.py CHECKPOINT 2
"""
import argparse
import os
import os.path as osp
import sys

os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from mmcrossformer.utils import (check_checkpoint,  # noqa: E402
                                 format_metrics, prepare_runner_cfg)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a pose lifter')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument(
        '--out', help='dump the metrics to this json file as well')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. test_dataloader.batch_size=64')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> int:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs',
        osp.splitext(osp.basename(args.config))[0])
    try:
        check_checkpoint(args.checkpoint, cfg.model)
        prepare_runner_cfg(cfg, ['test_dataloader'])
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    cfg.load_from = args.checkpoint
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    if runner.rank == 0:
        print(format_metrics(metrics))
        if args.out:
            import json
            with open(args.out, 'w') as f:
                json.dump(metrics, f, indent=2)
    return 0


if __name__ == '__main__':
    sys.exit(main())
