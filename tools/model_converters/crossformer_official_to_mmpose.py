# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Convert a released CrossFormer checkpoint (the authors' VideoPose3D-based
code) to an MMPose checkpoint for configs/crossformer_h36m_81f_official.py.

    python tools/model_converters/crossformer_official_to_mmpose.py \
        released.bin crossformer_h36m_81f_official.pth
"""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config

from mmcrossformer.engine import atomic_save
from mmcrossformer.engine.safe_load import UnsafeCheckpointError, safe_load
from mmcrossformer.models.official import convert_official_state_dict

DEFAULT_CONFIG = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    'crossformer_h36m_81f_official.py')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('src', help='released checkpoint (a dict with '
                        '"model_pos")')
    parser.add_argument('dst', help='output MMPose checkpoint')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='config whose model must load the result with strict=True')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if not osp.isfile(args.src):
        sys.exit(f'error: {args.src} does not exist')
    try:
        # weights_only=True; the released files' numpy RandomState allowed
        ckpt = safe_load(args.src, map_location='cpu')
    except UnsafeCheckpointError as e:
        sys.exit(f'error: {e}')
    except Exception as e:  # truncated file, not a torch file, ...
        sys.exit(f'error: cannot read {args.src} as a torch checkpoint: {e}')
    if not isinstance(ckpt, dict) or 'model_pos' not in ckpt:
        keys = list(ckpt)[:10] if isinstance(ckpt, dict) else type(ckpt)
        sys.exit(f'error: {args.src} is not a released CrossFormer '
                 f'checkpoint: no "model_pos" entry (found {keys})')
    try:
        state_dict = convert_official_state_dict(ckpt['model_pos'])
    except KeyError as e:
        sys.exit(f'error: {e.args[0]}')

    from mmpose.registry import MODELS
    from mmpose.utils import register_all_modules
    register_all_modules()
    import mmcrossformer  # noqa: F401
    model = MODELS.build(Config.fromfile(args.config).model)
    result = model.load_state_dict(state_dict, strict=False)
    if result.missing_keys or result.unexpected_keys:
        sys.exit(f'error: the converted weights do not fit {args.config}: '
                 f'missing {result.missing_keys}, unexpected '
                 f'{result.unexpected_keys}')

    os.makedirs(osp.dirname(osp.abspath(args.dst)), exist_ok=True)
    atomic_save(
        dict(
            state_dict=state_dict,
            meta=dict(
                converted_from=osp.basename(args.src),
                config=osp.basename(args.config))), args.dst)
    print(f'wrote {args.dst}: {len(state_dict)} tensors, '
          f'{sum(v.numel() for v in state_dict.values()) / 1e6:.2f} M values')
    return 0


if __name__ == '__main__':
    sys.exit(main())
