# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Write golden outputs of the authors' released CrossFormer network, for
tests/test_models/test_official_golden.py.

    python tools/model_converters/make_official_golden.py \
        CrossFormer/common/model_crossformer.py \
        tests/fixtures/official_golden.npz

Builds ``PoseTransformer`` of the given ``model_crossformer.py`` (the
authors' file; it needs ``timm`` and ``einops``) exactly as their
``run_crossformer.py`` does for the 81-frame model, fills every tensor of its
state dict with seeded random values (:func:`released_random_weights`),
runs the released forward pass in float64 on fixed random 2D poses and
saves the numbers only: the released state-dict layout (names, shapes,
dtypes), the seed, a checksum per tensor, the inputs and the outputs.

The released network is fixed at 81 frames and 17 x 32 channels (its code
hard-codes 544 and 81), so its weights cannot be made small; instead of its
15 M random values the fixture stores the seed they are drawn from with
numpy's legacy ``RandomState``, whose stream numpy keeps stable across
versions; the checksums prove that the test regenerated the same weights.
"""
import argparse
import importlib.util
import json
from typing import Dict, Tuple

import numpy as np

SEED = 2024
BATCH = 2


def released_random_weights(layout: Dict[str, Tuple[Tuple[int, ...], str]],
                            seed: int = SEED) -> Dict[str, np.ndarray]:
    """Random float64 values for every floating tensor of ``layout`` (name ->
    (shape, dtype name)), in sorted name order from ``RandomState(seed)``;
    integer buffers are zero. Scales keep every branch of the network in
    play: norm weights near 1, layer scales near 0.5 (not the released
    1e-5, which would hide the attention, CJI/CFI and MLP branches), matrices
    scaled by their fan-in."""
    rs = np.random.RandomState(seed)
    out = {}
    for name in sorted(layout):
        shape, dtype = tuple(layout[name][0]), layout[name][1]
        if not dtype.startswith('float'):
            out[name] = np.zeros(shape, np.dtype(dtype))
            continue
        value = rs.standard_normal(shape)
        if name.endswith('weight') and ('norm' in name or '.gn' in name
                                        or name.startswith('head.0')):
            value = 1 + 0.1 * value
        elif 'gamma' in name:
            value = 0.5 + 0.1 * value
        elif value.ndim >= 2 and 'embed' not in name:
            value = value / np.sqrt(value[0].size)
        else:
            value = 0.1 * value
        out[name] = value
    return out


def golden_inputs(seed: int = SEED) -> np.ndarray:
    """(2, 81, 17, 2) 2D poses in the screen-normalised range, float32
    (exact in float64, the precision the network runs in)."""
    return np.random.RandomState(seed + 1).uniform(
        -1, 1, (BATCH, 81, 17, 2)).astype(np.float32)


def checksums(weights: Dict[str, np.ndarray]) -> np.ndarray:
    """Per tensor (sorted names): sum and sum of squares, float64."""
    return np.array([[weights[k].sum(), np.square(weights[k]).sum()]
                     for k in sorted(weights)], np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('model_file', help="the authors' "
                        'common/model_crossformer.py')
    parser.add_argument('out', help='output .npz')
    args = parser.parse_args()

    import torch
    spec = importlib.util.spec_from_file_location('model_crossformer',
                                                  args.model_file)
    released = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(released)
    # as run_crossformer.py builds model_pos (evaluation: no drop path)
    model = released.PoseTransformer(
        num_frame=81, num_joints=17, in_chans=2, embed_dim_ratio=32, depth=4,
        num_heads=8, mlp_ratio=2., qkv_bias=True, qk_scale=None,
        drop_path_rate=0)
    state = model.state_dict()
    layout = {k: (list(v.shape), str(v.dtype).replace('torch.', ''))
              for k, v in state.items()}
    weights = released_random_weights(layout)
    model.double().eval()  # float64 before loading: no rounding to float32
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})

    inputs = golden_inputs()
    with torch.no_grad():
        # the released forward zeroes frames 10-15 of its input in place
        outputs = model(torch.from_numpy(inputs).double()).numpy()
    assert outputs.shape == (BATCH, 1, 17, 3), outputs.shape
    np.savez_compressed(
        args.out,
        layout=np.array(json.dumps(layout)),
        seed=np.array(SEED),
        checksums=checksums(weights),
        inputs=inputs,
        outputs=outputs[:, 0])
    print(f'wrote {args.out}: {len(layout)} tensors, outputs '
          f'{outputs.shape}, |out| mean {np.abs(outputs).mean():.3f}')


if __name__ == '__main__':
    main()
