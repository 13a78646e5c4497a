# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Seeded ablation study: train and test configs x seeds with the same number
of optimizer steps (tools/train.py, tools/test.py), then write a markdown
table and a plot of all runs.

    python tools/analysis_tools/ablation.py configs/poseformer_h36m_9f.py \
        configs/table5/row2_cji.py configs/table5/row6_cfi.py \
        configs/crossformer_h36m_9f.py --seeds 0 1 2 --steps 600 \
        --work-dir work_dirs/ablation [--jobs 2] [--lr-schedule cosine]

Run it again with the same arguments to continue a killed study: complete
runs are skipped, an interrupted one resumes from its last checkpoint. More
seeds or configs can be added to a study later; other settings need another
work dir. Results: WORK_DIR/ablation.md, WORK_DIR/ablation.png and
WORK_DIR/ablation_curves.png.
"""
import argparse
import os.path as osp
import signal
import sys

from mmengine.config import DictAction

from mmcrossformer.entrypoints.ablation import (LR_SCHEDULES, StudyError,
                                                run_study)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+', help='config files')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2],
        help='randomness.seed of the runs')
    parser.add_argument(
        '--steps', type=int, required=True,
        help='optimizer steps of every run')
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument(
        '--checkpoint-interval', type=int,
        help='steps between checkpoints (resume points); default steps / 4')
    parser.add_argument(
        '--data-root',
        help='data_root of the train, val and test datasets (inside '
        'dataset wrappers)')
    parser.add_argument(
        '--dataset-type',
        help='type of the train, val and test datasets (inside dataset '
        'wrappers), e.g. FastHuman36mDataset')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='overrides for every config, e.g. '
        'train_dataloader.batch_size=128')
    parser.add_argument(
        '--test-every', type=int, default=1,
        help='test on every N-th test sample only (evenly over subjects, '
        'actions and cameras), to save time')
    parser.add_argument(
        '--validate', action='store_true',
        help="evaluate with tools/train.py's validation after the last step "
        '(the configs validate on the test split) instead of a separate '
        'tools/test.py process')
    parser.add_argument(
        '--cpu', action='store_true', help='hide CUDA devices from the runs')
    parser.add_argument(
        '--lr-schedule', choices=LR_SCHEDULES, default='config',
        help="config: the config's schedule, epochs converted to steps; "
        "cosine: from the config's lr to 1 %% of it over --steps, for budgets "
        "far shorter than the config's")
    parser.add_argument(
        '--jobs', type=int, default=1,
        help='runs at the same time; each gets cpu_count / jobs torch '
        'threads unless OMP_NUM_THREADS is set')
    parser.add_argument(
        '--metrics', nargs='+', default=['MPJPE', 'P-MPJPE'],
        help='metrics of the table and plot (keys of tools/test.py --out)')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    dataset_options = {}
    if args.data_root:
        dataset_options['data_root'] = osp.abspath(args.data_root) + '/'
    if args.dataset_type:
        dataset_options['type'] = args.dataset_type
    # on SIGTERM (e.g. from `timeout`) end the current run with the study
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run_study(args.configs, args.seeds, args.work_dir, args.steps,
                  args.checkpoint_interval, args.cfg_options, args.test_every,
                  dataset_options, args.validate, args.cpu, args.metrics,
                  lr_schedule=args.lr_schedule, jobs=args.jobs)
    except StudyError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    md = osp.join(args.work_dir, 'ablation.md')
    with open(md) as f:
        print('\n' + f.read())
    print(f'table: {md}\nplot: {osp.splitext(md)[0]}.png\n'
          f'training curves: {osp.splitext(md)[0]}_curves.png')
    return 0


if __name__ == '__main__':
    sys.exit(main())
