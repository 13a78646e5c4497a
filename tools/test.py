# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Evaluate a checkpoint with MMPose's interface (MPJPE, P-MPJPE, N-MPJPE in
millimetres, overall and per action).

    python tools/test.py configs/crossformer_h36m_81f.py CHECKPOINT
    tools/dist_test.sh configs/crossformer_h36m_81f.py CHECKPOINT 2
"""
import argparse
import os
import sys

os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')

from mmengine.runner import Runner  # noqa: E402

from mmcrossformer.engine import check_checkpoint  # noqa: E402
from mmcrossformer.entrypoints import (add_runner_args,  # noqa: E402
                                       format_metrics, load_runner_cfg,
                                       prepare_runner_cfg)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a pose lifter')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the metrics to this json file as well')
    parser.add_argument(
        '--bf16',
        action='store_true',
        help='run the backbone in bfloat16 (model.backbone.inference_dtype)')
    add_runner_args(parser)
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    cfg = load_runner_cfg(args)
    if args.bf16:
        cfg.model.backbone.inference_dtype = 'bf16'
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
