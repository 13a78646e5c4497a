# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Conversion of the authors' released CrossFormer checkpoints (their
VideoPose3D-based code, ``common/model_crossformer.py``) to this plugin's
``PoseLifter`` layout.

The released files are ``torch.save`` dicts whose ``model_pos`` entry is the
state dict of the network wrapped in ``nn.DataParallel`` (``module.`` key
prefix). The network they load into is built by
``configs/crossformer_h36m_81f_official.py``.
"""
import re
from typing import Dict, Mapping, Tuple

import torch
from torch import Tensor

# Tensors of the released network that its forward pass never uses.
UNUSED_KEYS: Tuple[str, ...] = (
    r'Spatial_patch_to_embedding1\.(weight|bias)',
    r'temporal_patch_to_embedding1\.(weight|bias)',
    r'Temporal_pos_embed',
    r'chennels_pos_embed',
    r'top_pos_embed',
    r'outer_tokens',
    r'outer_pos',
    r'outer_temp',
    r'inner_pos',
    r'inner_temp',
    r'spatial_embed',
    r'Temporal_embed',
    r'proj_norm(1|2|12|13)\.(weight|bias)',
    r'proj(12)?\.(weight|bias)',
    r'lins\.(weight|bias)',
    r'Temporal_norm\.(weight|bias)',
    r'channels_norm\.(weight|bias)',
    r'Temporal\.(weight|bias)',
    r'channels\.(weight|bias)',
    r'weighted_mean(1|2)\.(weight|bias)',
    r'(Spatial_blocks|blocks1)\.\d+\.gamma4',
    r'(Spatial_blocks|blocks1)\.\d+\.norm4\.(weight|bias)',
    r'Spatial_blocks\.\d+\.local_mp\.conv3\.(weight|bias)',
    r'Spatial_blocks\.\d+\.local_mp\.gn1\.(weight|bias)',
    r'Spatial_blocks\.\d+\.local_mp\.bn\.'
    r'(weight|bias|running_mean|running_var|num_batches_tracked)',
)

# Released name -> PoseLifter name, for every tensor the forward pass uses.
# The released block applies norm3 before its CJI/CFI and norm2 before its
# MLP, with layer scales gamma1 (attention), gamma3 (CJI/CFI), gamma2 (MLP).
_RENAMES: Tuple[Tuple[str, str], ...] = (
    (r'Spatial_patch_to_embedding\.', 'backbone.spatial_embed.'),
    (r'Spatial_pos_embed$', 'backbone.spatial_pos_embed'),
    (r'Spatial_norm\.', 'backbone.spatial_norm.'),
    (r'Temporal_norm1\.', 'backbone.temporal_norm.'),
    (r'Spatial_blocks\.(\d+)\.', r'backbone.spatial_blocks.\1.'),
    (r'blocks1\.(\d+)\.', r'backbone.temporal_blocks.\1.'),
    (r'weighted_mean\.', 'head.weighted_mean.'),
    (r'head\.0\.', 'head.norm.'),
    (r'head\.1\.', 'head.fc.'),
)
_BLOCK_RENAMES: Tuple[Tuple[str, str], ...] = (
    (r'\.norm2\.', '.norm3_.'),  # MLP pre-norm (temporary name)
    (r'\.norm3\.', '.norm2.'),  # CJI / CFI pre-norm
    (r'\.norm3_\.', '.norm3.'),
    (r'\.gamma1$', '.layer_scales.0'),
    (r'\.gamma3$', '.layer_scales.1'),
    (r'\.gamma2$', '.layer_scales.2'),
    (r'\.local_mp\.conv1\.', '.interaction.conv1.'),
    (r'\.local_mp\.gn\.', '.interaction.norm.'),
    (r'\.local_mp\.conv2\.', '.interaction.conv2.'),
    (r'\.local\.z\.', '.interaction.conv.'),
    (r'\.local\.gn\.', '.interaction.norm.'),
)
_CFI_THETA_PHI_G = re.compile(r'blocks1\.(\d+)\.local\.(t|p|g)\.weight$')
_BLOCK_KEY = re.compile(r'(Spatial_blocks|blocks1)\.\d+\.'
                        r'(norm[123]\.(weight|bias)|gamma[123]|'
                        r'attn\.(qkv\.weight|proj\.(weight|bias))|'
                        r'mlp\.fc[12]\.(weight|bias)|'
                        r'local_mp\.(conv1|gn|conv2)\.(weight|bias)|'
                        r'local\.(z\.weight|gn\.(weight|bias)))$')
_TOP_KEY = re.compile(r'(Spatial_patch_to_embedding|Spatial_norm|'
                      r'Temporal_norm1|weighted_mean|head\.[01])\.'
                      r'(weight|bias)$|Spatial_pos_embed$|'
                      r'Temporal_pos_embed1$')

CONVERT_HINT = ('convert it with `python tools/model_converters/'
                'crossformer_official_to_mmpose.py IN OUT` and load OUT with '
                'configs/crossformer_h36m_81f_official.py')


def is_official_state_dict(state_dict: Mapping[str, Tensor]) -> bool:
    """Whether ``state_dict`` is in the released layout (any prefix)."""
    return any(
        k.split('module.', 1)[-1].startswith(('Spatial_blocks.', 'blocks1.',
                                              'Spatial_patch_to_embedding'))
        for k in state_dict)


def _unused(key: str) -> bool:
    return any(re.fullmatch(p, key) for p in UNUSED_KEYS)


def official_to_plugin_key(key: str) -> str:
    """``PoseLifter`` name of a tensor of the released layout (no
    ``module.`` prefix), for the one-to-one keys: all used tensors but
    ``Temporal_pos_embed1`` (reshaped) and the CFI's ``local.{t,p,g}``
    (fused into ``interaction.theta_phi_g``)."""
    new = key
    if key.startswith(('Spatial_blocks.', 'blocks1.')):
        for pattern, repl in _BLOCK_RENAMES:
            new = re.sub(pattern, repl, new)
    for pattern, repl in _RENAMES:
        new = re.sub('^' + pattern, repl, new)
    return new


def convert_official_state_dict(
        state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Map a released ``model_pos`` state dict to ``PoseLifter`` names.

    Tensors the released forward never uses (:data:`UNUSED_KEYS`) are
    dropped. Loading the result with ``strict=True`` into the model of
    ``configs/crossformer_h36m_81f_official.py`` names any missing tensor.

    Raises:
        KeyError: naming every key that is neither used nor known unused.
    """
    sd = {k[len('module.'):] if k.startswith('module.') else k: v
          for k, v in state_dict.items()}
    unexpected = [
        k for k in sd if not (_unused(k) or _TOP_KEY.fullmatch(k) or
                              _BLOCK_KEY.fullmatch(k) or
                              _CFI_THETA_PHI_G.fullmatch(k))
    ]
    if unexpected:
        raise KeyError('not a released CrossFormer checkpoint: unexpected '
                       f'keys {sorted(unexpected)}')

    out: Dict[str, Tensor] = {}
    theta_phi_g: Dict[str, Dict[str, Tensor]] = {}
    for key, value in sd.items():
        if _unused(key):
            continue
        match = _CFI_THETA_PHI_G.fullmatch(key)
        if match:
            theta_phi_g.setdefault(match.group(1), {})[match.group(2)] = value
        elif key == 'Temporal_pos_embed1':  # one (1, 544) vector for all frames
            out['backbone.temporal_pos_embed'] = value.reshape(1, 1, -1)
        else:
            out[official_to_plugin_key(key)] = value
    for block, parts in theta_phi_g.items():
        absent = [f'blocks1.{block}.local.{p}.weight' for p in 'tpg'
                  if p not in parts]
        if absent:
            raise KeyError('incomplete released CrossFormer checkpoint: '
                           f'missing {absent}')
        out[f'backbone.temporal_blocks.{block}.interaction.theta_phi_g.'
            'weight'] = torch.cat([parts['t'], parts['p'], parts['g']])
    return out



# PoseLifter name -> released name (the inverse of _RENAMES / _BLOCK_RENAMES;
# the interaction layers differ between the spatial CJI and temporal CFI).
_REVERSE_RENAMES: Tuple[Tuple[str, str], ...] = (
    (r'backbone\.spatial_embed\.', 'Spatial_patch_to_embedding.'),
    (r'backbone\.spatial_pos_embed$', 'Spatial_pos_embed'),
    (r'backbone\.spatial_norm\.', 'Spatial_norm.'),
    (r'backbone\.temporal_norm\.', 'Temporal_norm1.'),
    (r'backbone\.spatial_blocks\.(\d+)\.', r'Spatial_blocks.\1.'),
    (r'backbone\.temporal_blocks\.(\d+)\.', r'blocks1.\1.'),
    (r'head\.weighted_mean\.', 'weighted_mean.'),
    (r'head\.norm\.', 'head.0.'),
    (r'head\.fc\.', 'head.1.'),
)
_REVERSE_BLOCK_RENAMES: Tuple[Tuple[str, str], ...] = (
    (r'\.norm2\.', '.norm3_.'),
    (r'\.norm3\.', '.norm2.'),
    (r'\.norm3_\.', '.norm3.'),
    (r'\.layer_scales\.0$', '.gamma1'),
    (r'\.layer_scales\.1$', '.gamma3'),
    (r'\.layer_scales\.2$', '.gamma2'),
)
_REVERSE_INTERACTION = {
    'Spatial_blocks': ((r'\.interaction\.conv1\.', '.local_mp.conv1.'),
                       (r'\.interaction\.norm\.', '.local_mp.gn.'),
                       (r'\.interaction\.conv2\.', '.local_mp.conv2.')),
    'blocks1': ((r'\.interaction\.conv\.', '.local.z.'),
                (r'\.interaction\.norm\.', '.local.gn.')),
}
_PLUGIN_THETA_PHI_G = re.compile(
    r'backbone\.temporal_blocks\.(\d+)\.interaction\.theta_phi_g\.weight$')


def plugin_to_official_key(key: str) -> str:
    """Released name of a ``PoseLifter`` tensor, the inverse of
    :func:`official_to_plugin_key` (same one-to-one keys).

    Raises:
        KeyError: if ``key`` has no counterpart in the released network.
    """
    new = key
    for pattern, repl in _REVERSE_RENAMES:
        new = re.sub('^' + pattern, repl, new)
    prefix = new.split('.', 1)[0]
    if prefix in _REVERSE_INTERACTION:
        for pattern, repl in _REVERSE_BLOCK_RENAMES + \
                _REVERSE_INTERACTION[prefix]:
            new = re.sub(pattern, repl, new)
    if not (_TOP_KEY.fullmatch(new) or _BLOCK_KEY.fullmatch(new)) or \
            new == 'Temporal_pos_embed1':
        raise KeyError(f'{key!r} has no one-to-one counterpart in the '
                       'released CrossFormer')
    return new


def convert_to_official_state_dict(
        state_dict: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Map a ``PoseLifter`` state dict of the released architecture
    (``configs/crossformer_h36m_81f_official.py``) to the released names
    and shapes: the inverse of :func:`convert_official_state_dict`. The
    tensors the released forward never uses (:data:`UNUSED_KEYS`) are not
    produced; take them from the released model when loading it.

    Raises:
        KeyError: naming a tensor without a released counterpart.
    """
    out: Dict[str, Tensor] = {}
    for key, value in state_dict.items():
        match = _PLUGIN_THETA_PHI_G.fullmatch(key)
        if match:
            for part, weight in zip('tpg', value.chunk(3)):
                out[f'blocks1.{match.group(1)}.local.{part}.weight'] = weight
        elif key == 'backbone.temporal_pos_embed':
            out['Temporal_pos_embed1'] = value.reshape(1, -1)
        else:
            out[plugin_to_official_key(key)] = value
    return out
