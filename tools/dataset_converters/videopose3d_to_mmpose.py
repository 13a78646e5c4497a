"""Convert VideoPose3D's Human3.6M npz files to MMPose's preprocessed layout.

    python tools/dataset_converters/videopose3d_to_mmpose.py \\
        --data-3d data_3d_h36m.npz \\
        --data-2d-cpn data_2d_h36m_cpn_ft_h36m_dbb.npz \\
        --data-2d-gt data_2d_h36m_gt.npz data/h36m

writes data/h36m/annotation_body3d/{cameras.pkl,fps50/h36m_{train,test}.npz}
and data/h36m/joint_2d_det_files/cpn_ft_h36m_dbb_{train,test}.npy.
"""
import argparse
import sys

from mmcrossformer.data_tools.videopose3d import (
    DEFAULT_MAX_LENGTH_MISMATCH, ConversionError, convert_videopose3d)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='output root (data_root)')
    parser.add_argument('--data-3d', required=True, help='data_3d_h36m.npz')
    parser.add_argument(
        '--data-2d-cpn',
        help='data_2d_h36m_cpn_ft_h36m_dbb.npz (without it, no detection '
        'files are written)')
    parser.add_argument(
        '--data-2d-gt',
        help='data_2d_h36m_gt.npz (without it, `part` is the distorted '
        'projection of the 3D joints)')
    parser.add_argument(
        '--subjects', nargs='+', help='subjects to convert (default: all)')
    parser.add_argument(
        '--max-length-mismatch',
        type=int,
        default=DEFAULT_MAX_LENGTH_MISMATCH,
        help='largest allowed 3D/2D length difference, in frames (sequences '
        'are cropped to the shorter)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        result = convert_videopose3d(
            args.data_3d,
            args.out_dir,
            cpn_2d=args.data_2d_cpn,
            gt_2d=args.data_2d_gt,
            subjects=args.subjects,
            max_length_mismatch=args.max_length_mismatch)
    except (ConversionError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    for subject, action, camera in result['skipped']:
        print(f'skipped {subject} {action!r} camera {camera} (known '
              'corrupted video)')
    for subject, action, camera, lengths in result['cropped']:
        print(f'cropped {subject} {action!r} camera {camera} to '
              f'{min(lengths.values())} frames (lengths {lengths})')
    for split, n in result['samples'].items():
        print(f'{split}: {n} samples written to {args.out_dir}')


if __name__ == '__main__':
    main()
