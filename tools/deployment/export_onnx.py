# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Export a lifting config's network (backbone + head, fp32) to ONNX and
check it against PyTorch with onnxruntime.

    python tools/deployment/export_onnx.py CONFIG CHECKPOINT OUT.onnx

The ONNX model maps ``keypoints`` (batch, F, J, C) -- screen-normalised 2D
keypoints, as the ``VideoPoseLifting`` codec makes them -- to ``pose3d``
(batch, J, 3), the root-relative 3D pose of the target frame in metres
(no flip averaging; add the root and undo the codec yourself). The batch
axis is dynamic. Pass ``none`` as CHECKPOINT to export random weights.

The graph cannot refuse NaN keypoints (it returns NaN poses): run it through
``mmcrossformer.runtime.onnx_lifter.OnnxLifter``, which checks the input, or
check it yourself.
"""
import argparse
import sys

from mmengine.config import Config
from mmengine.runner import load_checkpoint

import mmcrossformer  # noqa: F401  (registers the plugin)
from mmcrossformer.runtime.onnx_export import check_onnx, export_onnx
from mmpose.registry import MODELS
from mmpose.utils import register_all_modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help="a checkpoint, or 'none'")
    parser.add_argument('out', help='the .onnx file to write')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument(
        '--atol',
        type=float,
        default=1e-4,
        help='largest difference to PyTorch accepted by the check (m)')
    parser.add_argument('--no-check', action='store_true')
    args = parser.parse_args()

    register_all_modules()
    cfg = Config.fromfile(args.config)
    model = MODELS.build(cfg.model)
    if args.checkpoint.lower() != 'none':
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    else:
        model.init_weights()
    model.eval()
    bb = model.backbone
    export_onnx(model, args.out, bb.num_frames, bb.num_joints,
                bb.in_channels, opset_version=args.opset)
    print(f'wrote {args.out}: keypoints (batch, {bb.num_frames}, '
          f'{bb.num_joints}, {bb.in_channels}) -> pose3d (batch, '
          f'{bb.num_joints}, 3)')
    if args.no_check:
        return
    try:
        diff = check_onnx(model, args.out)
    except ImportError:
        print('onnxruntime is not installed: not checked')
        return
    print(f'onnxruntime vs PyTorch: max abs difference {diff:.2e}')
    if not diff <= args.atol:
        print(f'difference above --atol {args.atol}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    main()
