# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The network of a lifting model as one tensor function, for the fast
paths and the ONNX export."""
import torch
from torch import Tensor, nn


class LiftingForward(nn.Module):
    """Backbone + head of a ``PoseLifter``: (B, F, J, C) -> (B, J, 3), the
    root-relative pose of the target frame (no flip averaging, no decoding).
    """

    def __init__(self, model: nn.Module, fp32_head: bool = False) -> None:
        super().__init__()
        self.backbone = model.backbone
        self.head = model.head
        self.fp32_head = fp32_head

    def forward(self, keypoints: Tensor) -> Tensor:
        feats = self.backbone(keypoints)
        if not self.fp32_head:
            return self.head(feats)
        # the head is cheap and sets the output precision: keep it in fp32
        with torch.autocast(keypoints.device.type, enabled=False):
            return self.head(tuple(f.float() for f in feats))


__all__ = ['LiftingForward']
