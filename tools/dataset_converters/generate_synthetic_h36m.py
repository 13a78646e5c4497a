"""Write a synthetic Human3.6M in MMPose's preprocessed layout.

    python tools/dataset_converters/generate_synthetic_h36m.py data/h36m_synth

Nothing is rewritten when OUT_DIR already holds the output of the same
arguments (see ``synthetic_h36m.json`` there); ``--force`` regenerates.
"""
import argparse
import os

from mmcrossformer.data_tools.h36m_layout import ALL_SUBJECTS
from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.data_tools.synthetic.h36m_motions import ACTIONS


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'out_dir',
        help='output root (the data_root of the '
        'Human36mDataset configs)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--frames',
        type=int,
        default=300,
        help='frames (50 fps) per sequence and camera')
    parser.add_argument(
        '--subactions',
        type=int,
        default=2,
        help="sequences per action and subject ('Walking', "
        "'Walking 1', ...)")
    parser.add_argument(
        '--subjects',
        nargs='+',
        default=list(ALL_SUBJECTS),
        choices=ALL_SUBJECTS)
    parser.add_argument(
        '--actions', nargs='+', default=list(ACTIONS), choices=list(ACTIONS))
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if the manifest matches')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    result = generate_h36m(
        args.out_dir,
        seed=args.seed,
        frames=args.frames,
        subactions=args.subactions,
        subjects=args.subjects,
        actions=args.actions,
        force=args.force)
    if result['skipped']:
        print(f'{args.out_dir} is up to date (same arguments); nothing '
              'written. Use --force to regenerate.')
    else:
        print(f"Generated in {result['seconds']:.1f} s:")
    for rel, size in result['files'].items():
        print(f'  {os.path.join(args.out_dir, rel)}  {size / 2**20:.1f} MiB')
    for split, n in result['samples'].items():
        print(f'  {split}: {n} samples (frames x 4 cameras)')


if __name__ == '__main__':
    main()
