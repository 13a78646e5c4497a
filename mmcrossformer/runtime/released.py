# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The authors' released CrossFormer (``common/model_crossformer.py`` of
their repository, not part of this one), built beside this plugin's model
with the same weights, for side-by-side benchmarks."""
import importlib.util

import torch
from mmengine.config import Config
from torch import nn

from ..models.official import (convert_official_state_dict,
                               convert_to_official_state_dict)


def build_released(path: str, cfg: Config) -> nn.Module:
    """The released ``PoseTransformer`` of the file ``path`` (it needs timm
    and einops) for the window and widths of ``cfg.model.backbone``."""
    spec = importlib.util.spec_from_file_location('released_crossformer',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bb = cfg.model.backbone
    return module.PoseTransformer(
        num_frame=bb.num_frames,
        num_joints=bb.get('num_joints', 17),
        in_chans=bb.get('in_channels', 2),
        embed_dim_ratio=bb.get('embed_dim', 32),
        depth=bb.get('depth', 4),
        num_heads=bb.get('num_heads', 8),
        drop_path_rate=bb.get('drop_path_rate', 0.1))


def share_weights(model: nn.Module, released: nn.Module,
                  from_model: bool) -> None:
    """Give both networks the same weights: ``model``'s (``from_model``,
    e.g. after loading a checkpoint into it) or the released
    initialisation. The released tensors its forward never uses keep their
    values.

    Raises:
        ValueError: if ``model`` is not the released architecture
            (``configs/crossformer_h36m_81f_official.py``).
    """
    try:
        if from_model:
            state = dict(released.state_dict())
            state.update(convert_to_official_state_dict(model.state_dict()))
            released.load_state_dict(state, strict=True)
            back = convert_official_state_dict(released.state_dict())
            for key, value in model.state_dict().items():
                if not torch.equal(back[key], value):
                    raise RuntimeError(f'weights differ after transfer: {key}')
        else:
            model.load_state_dict(
                convert_official_state_dict(released.state_dict()),
                strict=True)
    except (KeyError, RuntimeError) as e:
        raise ValueError(
            'the config does not build the released architecture, so the '
            'two cannot share weights; use configs/crossformer_h36m_81f_'
            f'official.py ({str(e).splitlines()[0]})') from e


class ReleasedForward(nn.Module):
    """(B, F, J, 2) -> (B, J, 3) of the released model (which zeroes frames
    of its input in place, hence the clone)."""

    def __init__(self, released: nn.Module) -> None:
        super().__init__()
        self.ref = released

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ref(x.clone()).reshape(x.shape[0], x.shape[2], 3)


__all__ = ['ReleasedForward', 'build_released', 'share_weights']
