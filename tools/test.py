# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Evaluate a checkpoint with MMPose's interface (MPJPE, P-MPJPE, N-MPJPE in
millimetres, overall and per action).

    python tools/test.py configs/crossformer_h36m_81f.py CHECKPOINT
    tools/dist_test.sh configs/crossformer_h36m_81f.py CHECKPOINT 2
"""
import argparse
import sys

from mmengine.runner import Runner

# importing mmcrossformer makes mmengine load checkpoints with
# weights_only=True: mmcrossformer/engine/safe_load.py
from mmcrossformer.engine import check_checkpoint
from mmcrossformer.entrypoints import (add_runner_args, format_metrics,
                                       load_runner_cfg, prepare_runner_cfg)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a pose lifter')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the metrics to this json file as well')
    add_runner_args(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    cfg = load_runner_cfg(args)
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
