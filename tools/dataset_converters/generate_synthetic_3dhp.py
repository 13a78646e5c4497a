# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Write a small synthetic MPI-INF-3DHP in MMPose 0.x's preprocessed layout
(training S1-S8 x Seq1-2 x cameras, test TS1-TS6), for
configs/crossformer_3dhp_9f.py::

    python tools/dataset_converters/generate_synthetic_3dhp.py \
        data/synthetic_3dhp
    python tools/train.py configs/crossformer_3dhp_9f.py --cfg-options \
        train_dataloader.dataset.dataset.data_root=data/synthetic_3dhp/ \
        val_dataloader.dataset.data_root=data/synthetic_3dhp/ \
        test_dataloader.dataset.data_root=data/synthetic_3dhp/

Seeded and deterministic: the same arguments write byte-identical files.
"""
import argparse
import os.path as osp

from mmcrossformer.data_tools.synthetic.mpi_inf_3dhp import (DEFAULT_TRAIN_CAMS,
                                                   generate_3dhp)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'out_dir',
        nargs='?',
        default='data/synthetic_3dhp',
        help='output root (gets annotations/); default %(default)s')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--train-frames',
        type=int,
        default=64,
        help='frames per training (subject, sequence, camera) video')
    parser.add_argument(
        '--test-frames',
        type=int,
        default=96,
        help='frames per test sequence, before the invalid ones are dropped')
    parser.add_argument(
        '--cams',
        type=int,
        nargs='+',
        default=list(DEFAULT_TRAIN_CAMS),
        help='training cameras (the real set has 0 1 2 4 5 6 7 8)')
    parser.add_argument(
        '--invalid-frac',
        type=float,
        default=0.05,
        help='fraction of each test sequence dropped as invalid frames')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    counts = generate_3dhp(
        args.out_dir,
        seed=args.seed,
        train_frames=args.train_frames,
        test_frames=args.test_frames,
        cams=args.cams,
        invalid_frac=args.invalid_frac)
    print(f'Wrote {counts["train"]} training and {counts["test"]} test '
          f'frames to {osp.join(args.out_dir, "annotations")}')


if __name__ == '__main__':
    main()
