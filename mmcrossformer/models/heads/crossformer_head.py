# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Regression head of CrossFormer (paper section 3.4)."""
from typing import List, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from mmpose.evaluation.functional import keypoint_mpjpe
from mmpose.models.heads.base_head import BaseHead
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils.tensor_utils import to_numpy
from mmpose.utils.typing import (ConfigType, OptConfigType, OptSampleList,
                                 Predictions)


def flip_pose3d(pose: Tensor, flip_indices: Sequence[int]) -> Tensor:
    """Mirror root-relative 3D poses (B, J, 3) horizontally: negate x and
    swap left and right joints."""
    flipped = pose[:, list(flip_indices)].clone()
    flipped[..., 0] = -flipped[..., 0]
    return flipped


@MODELS.register_module()
class CrossFormerHead(BaseHead):
    """Weighted mean over the frames (a 1D convolution F -> 1), LayerNorm and
    a linear map to the root-relative 3D pose of the target frame: the centre
    frame, or the last one when the data is cut causally.

    Args:
        num_frames (int): Frames F of the backbone features.
        in_channels (int): Feature width per frame (J*D, 544 for 17 joints).
        num_joints (int): Output joints J.
        loss (dict): Loss config; the paper trains with MPJPE (Eq. 10).
        decoder (dict, optional): Lifting codec that restores the predicted
            pose to the dataset's coordinates (``VideoPoseLifting``).
        init_cfg (dict | list[dict], optional): Initialisation config;
            by default PyTorch's constructor initialisation, as the released
            model was trained.

    Inputs: a tuple whose last element is (B, F, in_channels).
    Outputs: (B, J, 3).
    """

    def __init__(self,
                 num_frames: int,
                 in_channels: int,
                 num_joints: int,
                 loss: ConfigType = dict(type='MPJPELoss'),
                 decoder: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        if init_cfg is None:
            init_cfg = self.default_init_cfg
        super().__init__(init_cfg)
        self.num_frames = num_frames
        self.num_joints = num_joints
        self.loss_module = MODELS.build(loss)
        self.decoder = KEYPOINT_CODECS.build(
            decoder) if decoder is not None else None
        self.weighted_mean = nn.Conv1d(num_frames, 1, kernel_size=1)
        self.norm = nn.LayerNorm(in_channels)
        self.fc = nn.Linear(in_channels, num_joints * 3)

    def forward(self, feats: Union[Tuple[Tensor], Tensor]) -> Tensor:
        """((B, F, in_channels), ) -> (B, J, 3)."""
        x = feats[-1] if isinstance(feats, (tuple, list)) else feats
        x = self.weighted_mean(x).squeeze(1)  # (B, in_channels)
        x = self.fc(self.norm(x))
        return x.reshape(-1, self.num_joints, 3)

    def predict(self,
                feats: Union[Tuple[Tensor], List[Tuple[Tensor]]],
                batch_data_samples: OptSampleList,
                test_cfg: ConfigType = {}) -> Predictions:
        """Decode the predicted poses; with ``test_cfg.flip_test``, ``feats``
        holds the features of the input and of its mirror image, and the
        prediction is the mean of the first and the mirrored second."""
        if test_cfg.get('flip_test', False):
            if not (isinstance(feats, list) and len(feats) == 2):
                raise ValueError('flip test expects [features, features of '
                                 'the flipped input]')
            flip_indices = batch_data_samples[0].metainfo['flip_indices']
            coords = (self.forward(feats[0]) +
                      flip_pose3d(self.forward(feats[1]), flip_indices)) / 2
        else:
            coords = self.forward(feats)

        if batch_data_samples[0].metainfo.get('target_root') is not None:
            target_root = torch.stack([
                torch.from_numpy(d.metainfo['target_root'])
                for d in batch_data_samples
            ])
        else:
            target_root = torch.empty((len(batch_data_samples), 0))
        return self.decode((coords, target_root))

    def loss(self,
             feats: Tuple[Tensor],
             batch_data_samples: OptSampleList,
             train_cfg: ConfigType = {}) -> dict:
        """MPJPE loss between the prediction and the root-relative target."""
        pred = self.forward(feats)
        target = torch.cat([
            d.gt_instance_labels.lifting_target_label
            for d in batch_data_samples
        ]).reshape(pred.shape)
        weight = torch.cat([
            d.gt_instance_labels.lifting_target_weight
            for d in batch_data_samples
        ]).reshape(pred.shape[:2])
        loss = self.loss_module(pred, target, weight.unsqueeze(-1))
        mpjpe = keypoint_mpjpe(
            pred=to_numpy(pred.float()),  # bf16 under autocast
            gt=to_numpy(target),
            mask=to_numpy(weight) > 0)
        return dict(loss_pose3d=loss, mpjpe=torch.tensor(mpjpe,
                                                         device=pred.device))

    @property
    def default_init_cfg(self) -> dict:
        return dict(type='PyTorchDefault')


__all__ = ['CrossFormerHead', 'flip_pose3d']
