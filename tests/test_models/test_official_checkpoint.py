"""Released CrossFormer checkpoints: conversion and output equivalence.

The test writes a checkpoint in the released layout (DataParallel ``module.``
keys, the unused tensors included), converts it with the command-line tool
and compares ``PoseLifter(mode='tensor')`` with an independent functional
re-implementation of the released forward pass, in float64.
"""
import subprocess
import sys
from typing import Dict

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor

from mmcrossformer.models.official import (convert_official_state_dict,
                                           is_official_state_dict)
from mmpose.registry import MODELS

from ..helpers import REPO

FRAMES, JOINTS, DIM, DEPTH, HEADS = 81, 17, 32, 4, 8
OFFICIAL_CFG = REPO / 'configs' / 'crossformer_h36m_81f_official.py'


def released_shapes() -> Dict[str, tuple]:
    """Every tensor of the released 81-frame network and its shape."""
    T = JOINTS * DIM  # 544
    shapes = {
        'Spatial_pos_embed': (1, JOINTS, DIM),
        'Temporal_pos_embed1': (1, T),
        'Spatial_patch_to_embedding.weight': (DIM, 2),
        'Spatial_patch_to_embedding.bias': (DIM, ),
        'Spatial_norm.weight': (DIM, ),
        'Spatial_norm.bias': (DIM, ),
        'Temporal_norm1.weight': (T, ),
        'Temporal_norm1.bias': (T, ),
        'weighted_mean.weight': (1, FRAMES, 1),
        'weighted_mean.bias': (1, ),
        'head.0.weight': (T, ),
        'head.0.bias': (T, ),
        'head.1.weight': (JOINTS * 3, T),
        'head.1.bias': (JOINTS * 3, ),
        # never used by the forward pass
        'Temporal_pos_embed': (1, T),
        'chennels_pos_embed': (DIM, JOINTS),
        'top_pos_embed': (1, T),
        'outer_tokens': (1, JOINTS, DIM),
        'outer_pos': (1, JOINTS, DIM),
        'outer_temp': (1, 1, T),
        'inner_pos': (1, JOINTS, 16),
        'inner_temp': (1, 1, 136),
        'spatial_embed': (1, 11, DIM),
        'Temporal_embed': (1, 352),
        'Spatial_patch_to_embedding1.weight': (16, 2),
        'temporal_patch_to_embedding1.weight': (136, T),
        'proj_norm1.weight': (16, ),
        'proj.weight': (DIM, 16),
        'proj12.weight': (T, 136),
        'proj_norm13.bias': (T, ),
        'lins.weight': (DIM, 2),
        'Temporal_norm.weight': (T, ),
        'channels_norm.weight': (JOINTS, ),
        'Temporal.weight': (352, ),
        'channels.bias': (11, ),
        'weighted_mean1.weight': (JOINTS, JOINTS, 1),
        'weighted_mean2.bias': (11, ),
    }
    for prefix, width, hidden in (('Spatial_blocks', DIM, 4 * DIM),
                                  ('blocks1', T, 4 * T)):
        for i in range(DEPTH):
            b = f'{prefix}.{i}.'
            for norm in ('norm1', 'norm2', 'norm3'):
                shapes[b + norm + '.weight'] = (width, )
                shapes[b + norm + '.bias'] = (width, )
            for gamma in ('gamma1', 'gamma2', 'gamma3'):
                shapes[b + gamma] = (width, )
            shapes[b + 'gamma4'] = (FRAMES, )
            shapes[b + 'norm4.weight'] = (FRAMES, )
            shapes[b + 'attn.qkv.weight'] = (3 * width, width)
            shapes[b + 'attn.proj.weight'] = (width, width)
            shapes[b + 'attn.proj.bias'] = (width, )
            shapes[b + 'mlp.fc1.weight'] = (hidden, width)
            shapes[b + 'mlp.fc1.bias'] = (hidden, )
            shapes[b + 'mlp.fc2.weight'] = (width, hidden)
            shapes[b + 'mlp.fc2.bias'] = (width, )
            if prefix == 'Spatial_blocks':
                for conv in ('conv1', 'conv2'):
                    shapes[b + f'local_mp.{conv}.weight'] = (DIM, DIM, 5)
                    shapes[b + f'local_mp.{conv}.bias'] = (DIM, )
                shapes[b + 'local_mp.gn.weight'] = (DIM, )
                shapes[b + 'local_mp.gn.bias'] = (DIM, )
                shapes[b + 'local_mp.conv3.weight'] = (JOINTS, JOINTS, 5)
                shapes[b + 'local_mp.gn1.bias'] = (DIM, )
                shapes[b + 'local_mp.bn.running_var'] = (DIM, )
                shapes[b + 'local_mp.bn.num_batches_tracked'] = ()
            else:
                for conv in 'tpg':
                    shapes[b + f'local.{conv}.weight'] = (FRAMES, FRAMES, 3)
                shapes[b + 'local.z.weight'] = (FRAMES, FRAMES // 3, 3)
                shapes[b + 'local.gn.weight'] = (FRAMES, )
                shapes[b + 'local.gn.bias'] = (FRAMES, )
    return shapes


def released_state_dict(seed: int = 0) -> Dict[str, Tensor]:
    """Random float64 weights in the released layout (no prefix)."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for key, shape in released_shapes().items():
        value = torch.randn(shape, generator=g, dtype=torch.float64)
        if key.endswith('weight') and ('norm' in key or '.gn.' in key
                                       or key.startswith('head.0')):
            value = 1 + 0.1 * value
        elif 'gamma' in key:
            value = 0.5 + 0.1 * value  # far from 1e-5 so every branch counts
        elif value.ndim >= 2 and 'embed' not in key:
            value = value / value.shape[1]**0.5 / value[0].numel()**0.25
        else:
            value = 0.1 * value
        sd[key] = value
    return sd


# ---- the released forward, re-implemented with torch.nn.functional ---------
def _ln(x: Tensor, sd: dict, name: str) -> Tensor:
    return F.layer_norm(x, x.shape[-1:], sd[name + '.weight'],
                        sd[name + '.bias'], eps=1e-5)


def _attention(x: Tensor, sd: dict, b: str) -> Tensor:
    B, N, C = x.shape
    hd = C // HEADS
    qkv = (x @ sd[b + 'attn.qkv.weight'].T).reshape(B, N, 3, HEADS, hd)
    q, k, v = qkv.permute(2, 0, 3, 1, 4)
    attn = torch.softmax(q @ k.transpose(-2, -1) * hd**-0.5, dim=-1)
    out = (attn @ v).transpose(1, 2).reshape(B, N, C)
    return out @ sd[b + 'attn.proj.weight'].T + sd[b + 'attn.proj.bias']


def _cji(x: Tensor, sd: dict, b: str) -> Tensor:
    y = x.permute(0, 2, 1)
    y = F.conv1d(y, sd[b + 'local_mp.conv1.weight'],
                 sd[b + 'local_mp.conv1.bias'], padding=2)
    y = F.gelu(y)
    y = F.group_norm(y, DIM, sd[b + 'local_mp.gn.weight'],
                     sd[b + 'local_mp.gn.bias'])
    y = F.conv1d(y, sd[b + 'local_mp.conv2.weight'],
                 sd[b + 'local_mp.conv2.bias'], padding=2)
    return y.permute(0, 2, 1) + x


def _cfi(x: Tensor, sd: dict, b: str) -> Tensor:
    t, p, g = (F.conv1d(x, sd[b + f'local.{n}.weight'], padding=1)
               for n in 'tpg')
    B, C, W = t.shape
    out = []
    for ts, ps, gs in zip(t.split(C // 3, 1), p.split(C // 3, 1),
                          g.split(C // 3, 1)):
        att = torch.bmm(ps.reshape(B, 1, -1), gs.reshape(B, -1, 1))
        out.append(torch.bmm(att, ts.reshape(B, 1, -1)).reshape(B, C // 3, W))
    y = F.conv1d(torch.cat(out, 1), sd[b + 'local.z.weight'], padding=1,
                 groups=3)
    y = F.group_norm(y, 3, sd[b + 'local.gn.weight'], sd[b + 'local.gn.bias'])
    return y + x


def _block(x: Tensor, sd: dict, b: str, local) -> Tensor:
    x = x + sd[b + 'gamma1'] * _attention(_ln(x, sd, b + 'norm1'), sd, b)
    x = x + sd[b + 'gamma3'] * local(_ln(x, sd, b + 'norm3'), sd, b)
    h = F.gelu(
        _ln(x, sd, b + 'norm2') @ sd[b + 'mlp.fc1.weight'].T +
        sd[b + 'mlp.fc1.bias'])
    h = h @ sd[b + 'mlp.fc2.weight'].T + sd[b + 'mlp.fc2.bias']
    return x + sd[b + 'gamma2'] * h


def released_forward(sd: dict, x: Tensor) -> Tensor:
    """(B, 81, 17, 2) -> (B, 17, 3), as the released PoseTransformer."""
    x = x.clone()
    x[:, 10:16] = 0
    B, Fr, J, _ = x.shape
    z = x.reshape(B * Fr, J, 2) @ sd['Spatial_patch_to_embedding.weight'].T
    z = z + sd['Spatial_patch_to_embedding.bias'] + sd['Spatial_pos_embed']
    for i in range(DEPTH):
        z = _block(z, sd, f'Spatial_blocks.{i}.', _cji)
    z = _ln(z, sd, 'Spatial_norm').reshape(B, Fr, -1)
    z = z + sd['Temporal_pos_embed1']
    for i in range(DEPTH):
        z = _block(z, sd, f'blocks1.{i}.', _cfi)
    z = _ln(z, sd, 'Temporal_norm1')
    z = F.conv1d(z, sd['weighted_mean.weight'], sd['weighted_mean.bias'])
    z = _ln(z, sd, 'head.0') @ sd['head.1.weight'].T + sd['head.1.bias']
    return z.reshape(B, J, 3)


# ---- tests ------------------------------------------------------------------
def build_official_model():
    model = MODELS.build(Config.fromfile(OFFICIAL_CFG).model)
    return model.double().eval()


def test_converted_checkpoint_reproduces_released_outputs(tmp_path):
    sd = released_state_dict()
    src, dst = tmp_path / 'released.bin', tmp_path / 'converted.pth'
    torch.save(dict(epoch=80, model_pos={'module.' + k: v
                                         for k, v in sd.items()}), src)
    subprocess.run([
        sys.executable,
        str(REPO / 'tools/model_converters/crossformer_official_to_mmpose.py'),
        str(src), str(dst)
    ], check=True, cwd=REPO)

    model = build_official_model()
    ckpt = torch.load(dst, map_location='cpu', weights_only=True)
    model.load_state_dict(ckpt['state_dict'], strict=True)

    x = torch.randn(3, FRAMES, JOINTS, 2, dtype=torch.float64,
                    generator=torch.Generator().manual_seed(1))
    x_before = x.clone()
    with torch.no_grad():
        ours = model(x, None, mode='tensor')
    expected = released_forward(sd, x)
    assert torch.equal(x, x_before), 'the forward pass must not edit inputs'
    assert ours.shape == (3, JOINTS, 3)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-9)
    # every stage matters: the zeroed frames 10-15 do not, the others do
    x2 = x.clone()
    x2[:, 12] += 1
    x3 = x.clone()
    x3[:, 40] += 1
    with torch.no_grad():
        assert torch.equal(model(x2, None, mode='tensor'), ours)
        assert not torch.allclose(model(x3, None, mode='tensor'), ours)


def test_converter_names_unexpected_and_missing_keys():
    sd = released_state_dict()
    with pytest.raises(KeyError, match='blocks1.0.surprise'):
        convert_official_state_dict({**sd, 'blocks1.0.surprise': sd['proj.weight']})
    incomplete = {k: v for k, v in sd.items() if k != 'blocks1.2.local.p.weight'}
    with pytest.raises(KeyError, match=r'blocks1\.2\.local\.p\.weight'):
        convert_official_state_dict(incomplete)
    no_head = convert_official_state_dict(
        {k: v for k, v in sd.items() if not k.startswith('head.1')})
    result = build_official_model().load_state_dict(no_head, strict=False)
    assert set(result.missing_keys) == {'head.fc.weight', 'head.fc.bias'}


def test_converter_cli_rejects_a_file_that_is_not_a_released_checkpoint(
        tmp_path):
    src = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'backbone.x': torch.zeros(1)}), src)
    proc = subprocess.run([
        sys.executable,
        str(REPO / 'tools/model_converters/crossformer_official_to_mmpose.py'),
        str(src), str(tmp_path / 'out.pth')
    ], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode != 0
    assert 'no "model_pos" entry' in proc.stderr
    assert not (tmp_path / 'out.pth').exists()


def test_released_layout_is_recognised():
    sd = released_state_dict()
    assert is_official_state_dict({'module.' + k: v for k, v in sd.items()})
    assert not is_official_state_dict(convert_official_state_dict(sd))
