"""Convert the raw MPI-INF-3DHP files to the layout MpiInf3dhpDataset reads,
with the test set's universal skeleton and valid-frame flags.

    python tools/dataset_converters/mpi_inf_3dhp_raw_to_mmpose.py \\
        --train-dir mpi_inf_3dhp --test-dir mpi_inf_3dhp_test_set \\
        data/mpi_inf_3dhp

reads TRAIN_DIR/S*/Seq*/annot.mat and TEST_DIR/TS*/annot_data.mat and writes
data/mpi_inf_3dhp/annotations/{mpi_inf_3dhp_train.npz,
mpi_inf_3dhp_test_all.npz, cameras_train.pkl, cameras_test.pkl}
(configs/crossformer_3dhp_9f_poseformer.py trains and tests on them).
"""
import argparse

from mmcrossformer.data_tools.mpi_inf_3dhp_raw import (TRAIN_CAMS,
                                                       convert_test,
                                                       convert_train)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='output root (data_root)')
    parser.add_argument('--train-dir', help='holds S1/Seq1/annot.mat, ...')
    parser.add_argument('--test-dir', help='holds TS1/annot_data.mat, ...')
    parser.add_argument(
        '--cams',
        type=int,
        nargs='+',
        default=list(TRAIN_CAMS),
        help='training cameras (default: %(default)s)')
    args = parser.parse_args()
    if not (args.train_dir or args.test_dir):
        parser.error('give --train-dir, --test-dir or both')
    return args


def main() -> None:
    args = parse_args()
    if args.train_dir:
        n = convert_train(args.train_dir, args.out_dir, args.cams)
        print(f'training set: {n} frames')
    if args.test_dir:
        counts = convert_test(args.test_dir, args.out_dir)
        print(f'test set: {counts["frames"]} frames, {counts["valid"]} '
              'valid')


if __name__ == '__main__':
    main()
