# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Parameters and FLOPs of a lifting model for one sample (paper Table 4),
used by ``tools/analysis_tools/get_flops.py`` and ``benchmark.py``.

FLOPs are counted by mmengine's counter (fvcore's rules: one multiply-add is
one FLOP; linear layers, convolutions, matrix products and normalisations are
counted, element-wise activations are not) in ``mode='tensor'``, without
flip averaging. The counter has no rule for the fused attention kernel
(``scaled_dot_product_attention``): ``flops`` leaves its two products
(Q K^T and A V) out, as module-level counters do; ``flops_with_attention``
adds them (N^2 * C multiply-adds each, N tokens of width C).
"""
from typing import Any, Dict, List, Union

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config
from torch import nn

from mmpose.registry import MODELS


def _sdpa_flops(inputs: List[Any], outputs: List[Any]) -> int:
    """Q K^T and A V of ``scaled_dot_product_attention``: q, k are
    (..., N, C), v is (..., N, Cv)."""
    q, k, v = (i.type().sizes() for i in inputs[:3])
    batch = 1
    for size in q[:-2]:
        batch *= size
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def model_complexity(model: nn.Module) -> Dict[str, float]:
    """Frames, parameters and FLOPs (without / with the attention products)
    of a lifting model (``backbone`` with ``num_frames``, ``num_joints``,
    ``in_channels``) for one sample."""
    model = model.eval()
    bb = model.backbone
    x = torch.zeros(1, bb.num_frames, bb.num_joints, bb.in_channels)
    flops = []
    for attention in (False, True):
        analyzer = FlopAnalyzer(model, (x, None, 'tensor'))
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(
            False)
        if attention:
            analyzer.set_op_handle('aten::scaled_dot_product_attention',
                                   _sdpa_flops)
        flops.append(analyzer.total())
    return dict(
        frames=bb.num_frames,
        params=parameter_count(model)[''],
        flops=flops[0],
        flops_with_attention=flops[1])


def complexity(config: Union[str, Config]) -> Dict[str, float]:
    """:func:`model_complexity` of the model of a config (file or object;
    the plugin must be registered)."""
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    return model_complexity(MODELS.build(cfg.model))


__all__ = ['complexity', 'model_complexity']
