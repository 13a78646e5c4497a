# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Correlation of the 2D detection errors and of the 3D motion between
neighbouring joints and neighbouring frames of a Human3.6M-layout dataset
(MMPose's preprocessed files, real or generated): the structure that CJI
and CFI can exploit.

    python tools/analysis_tools/joint_frame_structure.py data/synthetic_h36m
"""
import argparse

from mmcrossformer.data_tools.structure import (load_h36m_split,
                                                structure_stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('data_root')
    parser.add_argument('--split', default='train', choices=['train', 'test'])
    args = parser.parse_args()
    s = structure_stats(*load_h36m_split(args.data_root, args.split))
    print(f'| correlation ({args.split}) | 2D detection error | 3D velocity |')
    print('|---|---|---|')
    for key, name in (('bones', 'joints joined by a bone'),
                      ('index_neighbours', 'joint indices 1-2 apart'),
                      ('others', 'other joint pairs'),
                      ('lag1', 'frames 1 apart'), ('lag4', 'frames 4 apart')):
        print(f'| {name} | {s[f"noise_{key}"]:.3f} | '
              f'{s[f"motion_{key}"]:.3f} |')
    print(f'| RMS | {s["noise_rms_px"]:.2f} px | '
          f'{s["motion_rms_mm"]:.2f} mm/frame |')


if __name__ == '__main__':
    main()
