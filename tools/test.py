# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Evaluate a checkpoint with MMPose's interface (MPJPE, P-MPJPE, N-MPJPE in
millimetres, overall and per action).

    python tools/test.py configs/crossformer_h36m_81f.py CHECKPOINT \
        [--out metrics.json] [--dump predictions.pkl] [--show-dir vis] \
        [--bf16] [--compile auto|on|off]
    tools/dist_test.sh configs/crossformer_h36m_81f.py CHECKPOINT 2
    GPUS=8 tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT
"""
import argparse
import sys

from mmengine.runner import Runner

# importing mmcrossformer makes mmengine load checkpoints with
# weights_only=True: mmcrossformer/engine/safe_load.py
from mmcrossformer.engine import check_checkpoint
from mmcrossformer.entrypoints import (COMPILE_MIN_FRAMES, add_runner_args,
                                       compile_test_model, format_metrics,
                                       load_runner_cfg, prepare_runner_cfg)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Evaluate a pose lifter')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='dump the metrics to this json file as well')
    parser.add_argument(
        '--dump',
        help='dump the predictions (with their ground truth and meta '
        'information) to this pickle file for offline evaluation')
    parser.add_argument(
        '--show-dir',
        help='draw the predicted 3D poses of the test samples over their '
        'ground truth, one PNG per sample, into this folder')
    parser.add_argument(
        '--interval',
        type=int,
        default=1,
        help='with --show-dir: draw every INTERVAL-th sample')
    parser.add_argument(
        '--bf16',
        action='store_true',
        help='run the backbone in bfloat16 (model.backbone.inference_dtype)')
    parser.add_argument(
        '--compile',
        choices=['auto', 'on', 'off'],
        default='auto',
        help='run the backbone\'s CPU inference through torch.compile '
        '(within 1e-5 of the eager model, faster; the first batch compiles, '
        '10-35 s); auto: on the CPU with one torch thread (with more, the '
        'eager model\'s single-threaded workers are faster) when the test '
        f'windows hold at least {COMPILE_MIN_FRAMES} frames in all')
    add_runner_args(parser)
    args = parser.parse_args()
    if args.dump and not args.dump.endswith(('.pkl', '.pickle')):
        parser.error(f'--dump {args.dump}: the file must end in .pkl')
    return args


def add_outputs(cfg, args: argparse.Namespace) -> None:
    """``--dump``: mmengine's ``DumpResults`` after the metrics (as MMPose's
    tools/test.py); ``--show-dir``: :class:`Pose3dVisualizationHook` as the
    visualization hook."""
    if args.dump:
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        cfg.test_evaluator = [
            *evaluators,
            dict(type='DumpResults', out_file_path=args.dump)
        ]
    if args.show_dir:
        cfg.default_hooks.visualization = dict(
            type='Pose3dVisualizationHook',
            out_dir=args.show_dir,
            interval=args.interval)


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
    add_outputs(cfg, args)
    runner = Runner.from_cfg(cfg)
    try:
        compile_test_model(runner, args.compile)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
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
