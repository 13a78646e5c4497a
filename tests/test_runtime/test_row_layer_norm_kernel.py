"""mmcrossformer.ops: the spatial encoder's LayerNorm kernel
(row_layer_norm) against an fp64 LayerNorm written out, in each of its
instruction-set copies; bad input refused by name; RowLayerNorm in and out
of eager CPU inference, and where the fast paths put it."""
import copy
import textwrap

import pytest
import torch
from torch import nn

from mmcrossformer.runtime.fast_paths import (RowLayerNorm,
                                              build_fast_lifter,
                                              use_plain_inference_,
                                              use_pytorch_spatial_kernels_)

from .common import keypoints, needs_kernel, saved_by_copy, small_model

EPS = 1e-5


def layer_norm_fp64(x, weight, bias, eps=EPS):
    """Every row of x (..., C) normalised over its C values, scaled and
    shifted per channel, in fp64, written out."""
    x = x.double()
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean)**2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight.double() + \
        bias.double()


def inputs(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    C = shape[-1]
    x = torch.randn(*shape, generator=g) * 3 + torch.randn(C, generator=g)
    return x, 1 + 0.5 * torch.randn(C, generator=g), torch.randn(
        C, generator=g)


def error(got, exact):
    return (got.double() - exact).abs().max().item()


# rows of whole vectors (32 channels: 2 at AVX-512) over a chunk's 11,016
# tokens, the temporal width (544), channels left over after whole vectors
# (37), fewer than one vector (3), one channel, no row
SHAPES = [(648, 17, 32), (8, 81, 544), (5, 37), (7, 3), (4, 1), (0, 32)]


@needs_kernel
@pytest.mark.parametrize('shape', SHAPES)
def test_kernel_matches_layer_norm(shape):
    """Within 4 fp32 units in the last place of the largest output, and no
    farther from fp64 than PyTorch's LayerNorm (one channel: the variance
    is 0 and every output its bias, exactly); every row on its own."""
    x, weight, bias = inputs(*shape)
    got = torch.ops.mmcrossformer.row_layer_norm(x, weight, bias, EPS)
    assert got.shape == x.shape and got.dtype == torch.float32
    if x.numel() == 0:
        return
    exact = layer_norm_fp64(x, weight, bias)
    pytorch = nn.functional.layer_norm(x, shape[-1:], weight, bias, EPS)
    bound = 4 * torch.finfo(torch.float32).eps * exact.abs().max().item()
    assert error(got, exact) <= max(bound, error(pytorch, exact))
    if shape[-1] == 1:
        assert torch.equal(got, bias.expand_as(got))
    rows, flat = x.reshape(-1, shape[-1]), got.reshape(-1, shape[-1])
    middle = len(rows) // 2
    assert torch.equal(
        torch.ops.mmcrossformer.row_layer_norm(rows[middle:middle + 1],
                                               weight, bias, EPS),
        flat[middle:middle + 1])


@needs_kernel
def test_kernel_keeps_nan_to_its_row():
    x, weight, bias = inputs(6, 32)
    x[2, 5] = float('nan')
    got = torch.ops.mmcrossformer.row_layer_norm(x, weight, bias, EPS)
    nan = torch.zeros_like(got, dtype=torch.bool)
    nan[2] = True
    assert torch.equal(got.isnan(), nan)
    assert torch.isfinite(got[~nan]).all()


CAPABILITY = textwrap.dedent('''
    import torch
    from mmcrossformer.ops import HAS_KERNELS
    assert HAS_KERNELS
    torch.manual_seed(0)
    out = {{}}
    for C in (32, 37, 3):
        x, w, b = torch.randn(53, C) * 3 + 1, torch.randn(C), torch.randn(C)
        out[C] = (x, w, b, torch.ops.mmcrossformer.row_layer_norm(
            x, w, b, 1e-5))
    torch.save(out, {path!r})
''')


@needs_kernel
@pytest.mark.parametrize('capability', ['avx512', 'avx2', 'default'])
def test_every_instruction_set_copy(capability, tmp_path):
    """The AVX-512, AVX2 and baseline copies (ATEN_CPU_CAPABILITY caps the
    choice, as for PyTorch's kernels) normalise alike."""
    for x, w, b, got in saved_by_copy(CAPABILITY, capability,
                                      tmp_path).values():
        exact = layer_norm_fp64(x, w, b)
        assert error(got, exact) <= 4 * torch.finfo(
            torch.float32).eps * exact.abs().max().item()


@needs_kernel
@pytest.mark.parametrize('x,weight,message', [
    (torch.zeros(4, 32, dtype=torch.bfloat16), torch.ones(32),
     'x must be a float32 CPU tensor'),
    (torch.zeros(()), torch.ones(32), 'channel dimension'),
    (torch.zeros(4, 32), torch.ones(31),
     'weight must be a float32 CPU tensor of 32 channels'),
    (torch.zeros(4, 32), torch.ones(32, dtype=torch.float64),
     'weight must be a float32 CPU tensor of 32 channels'),
])
def test_kernel_refuses_bad_input(x, weight, message):
    with pytest.raises(RuntimeError, match=message):
        torch.ops.mmcrossformer.row_layer_norm(x, weight, torch.zeros(32),
                                               EPS)


def test_where_the_fast_paths_put_it():
    """fast_inference and the fast lifters make the spatial encoder's
    LayerNorms RowLayerNorm; the temporal ones, the head's and the plain
    model stay nn.LayerNorm; undone by use_plain_inference_ and
    use_pytorch_spatial_kernels_."""

    def kinds(bb):
        return ({type(getattr(b, n)) for b in bb.spatial_blocks
                 for n in ('norm1', 'norm2', 'norm3')} |
                {type(bb.spatial_norm)},
                {type(getattr(b, n)) for b in bb.temporal_blocks
                 for n in ('norm1', 'norm2', 'norm3')} |
                {type(bb.temporal_norm)})

    model = small_model(fast=True)
    assert kinds(model.backbone) == ({RowLayerNorm}, {nn.LayerNorm})
    assert type(model.head.norm) is nn.LayerNorm
    lifter = build_fast_lifter(small_model(), 'fp32')
    assert kinds(lifter.net.backbone) == ({RowLayerNorm}, {nn.LayerNorm})
    assert kinds(small_model().backbone) == ({nn.LayerNorm}, {nn.LayerNorm})
    assert kinds(use_plain_inference_(copy.deepcopy(model)).backbone) == (
        {nn.LayerNorm}, {nn.LayerNorm})
    assert kinds(use_pytorch_spatial_kernels_(model).backbone) == (
        {nn.LayerNorm}, {nn.LayerNorm})


@needs_kernel
def test_row_layer_norm_in_and_out_of_inference(monkeypatch):
    """Eager CPU inference calls the kernel (within 1e-6 of nn.LayerNorm);
    training and recorded gradients are nn.LayerNorm's own result, bit for
    bit, as is bf16 input."""
    norm = small_model(fast=True).backbone.spatial_blocks[0].norm1
    with torch.no_grad():
        norm.weight.copy_(1 + 0.5 * torch.randn(32))
        norm.bias.copy_(torch.randn(32))
    plain = copy.deepcopy(norm)
    plain.__class__ = nn.LayerNorm
    calls = []
    kernel = torch.ops.mmcrossformer.row_layer_norm
    monkeypatch.setattr(torch.ops.mmcrossformer, 'row_layer_norm',
                        lambda *a: calls.append(1) or kernel(*a),
                        raising=False)
    x = torch.randn(45, 17, 32)
    with torch.no_grad():
        torch.testing.assert_close(norm(x), plain(x), rtol=1e-6, atol=1e-6)
        assert calls == [1]
        assert torch.equal(norm(x.bfloat16()), plain(x.bfloat16()))
        assert torch.equal(norm.train()(x), plain.train()(x))
    norm.eval()
    x.requires_grad_(True)
    assert torch.equal(norm(x), plain(x))
    assert calls == [1]


def test_fast_model_with_it_is_as_exact_as_plain():
    from .common import assert_as_exact_as_plain, fp64_output
    plain = small_model()
    x = keypoints(5)
    with torch.no_grad():
        got = small_model(fast=True)(x, None, 'tensor')
        ref = plain(x, None, 'tensor')
    assert_as_exact_as_plain(got, ref, fp64_output(plain, x))
