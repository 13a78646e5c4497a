# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Parameters and FLOPs of lifting configs, for one sample (paper Table 4).

    python tools/analysis_tools/get_flops.py configs/crossformer_h36m_81f.py
    python tools/analysis_tools/get_flops.py configs/poseformer_h36m_81f.py \
        configs/crossformer_h36m_81f.py

The counting rules are those of :mod:`mmcrossformer.runtime.complexity`
(mmengine's counter: one multiply-add is one FLOP; the second FLOPs column
adds the two products of the fused attention kernel).
"""
import argparse

import mmcrossformer  # noqa: F401  (registers the plugin)
from mmcrossformer.runtime.complexity import complexity
from mmpose.utils import register_all_modules


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
