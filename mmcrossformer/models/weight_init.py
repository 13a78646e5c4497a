# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Initialisations that the configs name in ``init_cfg``.

* ``dict(type='PyTorchDefault')``: the initialisation of the released
  CrossFormer (``run_crossformer.py`` calls no initialiser): every layer as
  its PyTorch constructor left it and the positional embeddings zero (they
  are created with ``torch.zeros``).
* :data:`TRUNC_NORMAL_INIT`: the timm ViT initialisation, an option:
  truncated normal (std 0.02) Linear weights and positional embeddings, zero
  biases, LayerNorm weights one.
"""
from torch import nn

from mmengine.model.weight_init import trunc_normal_
from mmengine.registry import WEIGHT_INITIALIZERS


@WEIGHT_INITIALIZERS.register_module(name='PyTorchDefault')
class PyTorchDefaultInit:
    """Leave the module as its constructors initialised it: ``nn.Linear`` and
    ``nn.Conv1d`` Kaiming-uniform weights with fan-in uniform biases,
    ``LayerNorm`` / ``GroupNorm`` ones and zeros, parameters created with
    ``torch.zeros`` (the positional embeddings) zero."""

    def __call__(self, module: nn.Module) -> None:
        pass


@WEIGHT_INITIALIZERS.register_module(name='PosEmbedTruncNormal')
class PosEmbedTruncNormalInit:
    """Draw every parameter whose name ends in ``pos_embed`` from a normal
    distribution truncated to [-2, 2] (timm's ``trunc_normal_``).

    Args:
        std (float): Standard deviation.
    """

    def __init__(self, std: float = .02) -> None:
        self.std = std

    def __call__(self, module: nn.Module) -> None:
        for name, param in module.named_parameters():
            if name.endswith('pos_embed'):
                trunc_normal_(param, std=self.std)


#: the timm ViT initialisation of CrossFormer (not the released one):
#: ``model = dict(backbone=dict(init_cfg=TRUNC_NORMAL_INIT),
#: head=dict(init_cfg=TRUNC_NORMAL_INIT))``
TRUNC_NORMAL_INIT = [
    dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
    dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    dict(type='PosEmbedTruncNormal', std=.02),
]

__all__ = [
    'PosEmbedTruncNormalInit', 'PyTorchDefaultInit', 'TRUNC_NORMAL_INIT'
]
