# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""ONNX export of a lifting model's network (backbone + head, fp32) and its
check against PyTorch with onnxruntime.

The ONNX model maps ``keypoints`` (batch, F, J, C) -- screen-normalised 2D
keypoints, as the ``VideoPoseLifting`` codec makes them -- to ``pose3d``
(batch, J, 3), the root-relative 3D pose of the target frame (no flip
averaging). The batch axis is dynamic. Needs torch >= 2.5 (the ``dynamo``
argument of ``torch.onnx.export``).
"""
import copy
import warnings

import numpy as np
import torch
from torch import nn

from .forward import LiftingForward


def export_onnx(model: nn.Module,
                path: str,
                num_frames: int,
                num_joints: int,
                in_channels: int,
                opset_version: int = 17) -> None:
    """Write the fp32 lifting forward of ``model`` to ``path`` (input
    ``keypoints`` (batch, F, J, C), output ``pose3d`` (batch, J, 3); the
    batch axis is dynamic)."""
    net = LiftingForward(copy.deepcopy(model)).cpu().float().eval()
    example = torch.zeros(2, num_frames, num_joints, in_channels)
    with torch.no_grad(), warnings.catch_warnings():
        # the exporter traces: the input check's shape comparisons are fixed
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(
            net, (example, ),
            path,
            dynamo=False,
            opset_version=opset_version,
            input_names=['keypoints'],
            output_names=['pose3d'],
            dynamic_axes={
                'keypoints': {
                    0: 'batch'
                },
                'pose3d': {
                    0: 'batch'
                }
            })


def check_onnx(model: nn.Module,
               path: str,
               batch_size: int = 3,
               seed: int = 0) -> float:
    """Largest absolute difference between onnxruntime running ``path``
    (through :class:`~mmcrossformer.runtime.onnx_lifter.OnnxLifter`, which
    refuses bad input) and PyTorch running ``model`` on a random batch
    (raises ImportError without onnxruntime)."""
    from .onnx_lifter import OnnxLifter
    bb = model.backbone
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(
        batch_size, bb.num_frames, bb.num_joints, bb.in_channels,
        generator=g) * 0.5
    with torch.no_grad():
        expected = LiftingForward(model).eval()(x).numpy()
    got = OnnxLifter(path)(x.numpy())
    return float(np.abs(got - expected).max())


__all__ = ['check_onnx', 'export_onnx']
