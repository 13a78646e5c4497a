# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Train a lifting model with MMPose's interface.

    python tools/train.py configs/crossformer_h36m_81f.py
    tools/dist_train.sh configs/crossformer_h36m_81f.py 2
"""
import argparse
import sys

from mmengine.runner import Runner

# importing mmcrossformer makes mmengine load checkpoints (resume, load_from)
# with weights_only=True: mmcrossformer/engine/safe_load.py
from mmcrossformer.engine import check_checkpoint, find_resumable_checkpoint
from mmcrossformer.entrypoints import (add_runner_args, load_runner_cfg,
                                       prepare_runner_cfg)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a pose lifter')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--amp', action='store_true', help='automatic mixed precision')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='do not evaluate checkpoints during training')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate with the total batch size')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='deterministic algorithms and a fixed seed (default 0)')
    parser.add_argument('--seed', type=int, help='random seed')
    add_runner_args(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_runner_cfg(args)
    if args.resume == 'auto':
        # the newest checkpoint that is complete, not whatever was written
        # last: a job killed while saving must still resume
        latest = find_resumable_checkpoint(cfg.work_dir)
        cfg.resume, cfg.load_from = latest is not None, latest
        print(f'resuming from {latest}' if latest else
              f'no complete checkpoint in {cfg.work_dir}: starting afresh')
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True
    if args.deterministic or args.seed is not None:
        cfg.randomness = dict(
            seed=args.seed if args.seed is not None else 0,
            deterministic=args.deterministic)
    try:
        if cfg.get('load_from'):
            check_checkpoint(cfg.load_from, cfg.model)
        prepare_runner_cfg(cfg, ['train_dataloader', 'val_dataloader'])
    except ValueError as e:
        sys.exit(f'error: {e}')
    Runner.from_cfg(cfg).train()


if __name__ == '__main__':
    main()
