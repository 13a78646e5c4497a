# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Parameters and FLOPs of lifting configs, for one sample (paper Table 4).

    python tools/analysis_tools/get_flops.py configs/crossformer_h36m_81f.py
    python tools/analysis_tools/get_flops.py configs/poseformer_h36m_81f.py \
        configs/crossformer_h36m_81f.py

FLOPs are counted by mmengine's counter (fvcore's rules: one multiply-add is
one FLOP; linear layers, convolutions, matrix products and normalisations are
counted, element-wise activations are not) in `mode='tensor'`, without flip
averaging. The counter has no rule for the fused attention kernel
(`scaled_dot_product_attention`): the first FLOPs column leaves its two
products (Q K^T and A V) out, as module-level counters do; the second column
adds them (N^2 * C multiply-adds each, N tokens of width C).
"""
import argparse
from typing import Any, Dict, List

import torch
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.config import Config

from mmpose.registry import MODELS
from mmpose.utils import register_all_modules


def _sdpa_flops(inputs: List[Any], outputs: List[Any]) -> int:
    """Q K^T and A V of ``scaled_dot_product_attention``: q, k are
    (..., N, C), v is (..., N, Cv)."""
    q, k, v = (i.type().sizes() for i in inputs[:3])
    batch = 1
    for size in q[:-2]:
        batch *= size
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def complexity(config: str) -> Dict[str, float]:
    """Frames, parameters and FLOPs (without / with the attention products)
    of the config's model for one sample."""
    model = MODELS.build(Config.fromfile(config).model).eval()
    bb = model.backbone
    x = torch.zeros(1, bb.num_frames, bb.num_joints, bb.in_channels)
    flops = []
    for attention in (False, True):
        analyzer = FlopAnalyzer(model, (x, None, 'tensor'))
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(
            False)
        if attention:
            analyzer.set_op_handle(
                'aten::scaled_dot_product_attention', _sdpa_flops)
        flops.append(analyzer.total())
    return dict(
        frames=bb.num_frames,
        params=parameter_count(model)[''],
        flops=flops[0],
        flops_with_attention=flops[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('configs', nargs='+')
    args = parser.parse_args()
    register_all_modules()
    print('| config | frames | parameters (M) | FLOPs (M) | '
          'FLOPs with attention products (M) |')
    print('|---|---|---|---|---|')
    for config in args.configs:
        c = complexity(config)
        print(f'| {config} | {c["frames"]} | {c["params"] / 1e6:.2f} | '
              f'{c["flops"] / 1e6:.0f} | '
              f'{c["flops_with_attention"] / 1e6:.0f} |')


if __name__ == '__main__':
    main()
