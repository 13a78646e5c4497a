"""mmcrossformer.ops: the CJI GroupNorm kernel (token_instance_norm) against
an fp64 normalisation written out, in fp32 and bf16 and in each of its
instruction-set copies; bad input refused by name; JointGroupNorm in and
out of CPU inference; kept by torch.compile; and what runs where it was not
built."""
import copy
import textwrap
import warnings

import pytest
import torch
from torch import nn

from mmcrossformer.entrypoints.runner import cpp_compiler
from mmcrossformer.runtime.fast_paths import (JointGroupNorm,
                                              use_plain_inference_)

from .common import needs_kernel, saved_by_copy, small_model

EPS = 1e-5


def norm_fp64(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
              eps: float = EPS) -> torch.Tensor:
    """(B, N, C): every channel of every sample normalised over its N
    tokens, scaled and shifted per channel, in fp64, written out."""
    x = x.double()
    mean = x.mean(1, keepdim=True)
    var = ((x - mean)**2).mean(1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * weight.double() + \
        bias.double()


def pytorch_group_norm(x: torch.Tensor, weight: torch.Tensor,
                       bias: torch.Tensor) -> torch.Tensor:
    """PyTorch's GroupNorm, one group per channel, on the channels-last
    view of (B, N, C), as the CJI runs it."""
    y = nn.functional.group_norm(
        x.transpose(1, 2).unsqueeze(2), x.shape[2], weight, bias, EPS)
    return y.squeeze(2).transpose(1, 2)


def inputs(B: int, N: int, C: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, N, C, generator=g) * 3 + torch.randn(C, generator=g)
    weight = 1 + 0.5 * torch.randn(C, generator=g)
    bias = torch.randn(C, generator=g)
    return x, weight, bias


def error(got: torch.Tensor, exact: torch.Tensor) -> float:
    return (got.double() - exact).abs().max().item()


def assert_bf16_rounded(got: torch.Tensor, exact: torch.Tensor) -> None:
    """Every bf16 value within one bf16 unit in the last place (8
    significant bits) of the fp64 one, plus 4 fp32 units of the largest."""
    fp32 = 4 * torch.finfo(torch.float32).eps * exact.abs().max()
    assert ((got.double() - exact).abs() <=
            2.0**-7 * exact.abs() + fp32).all()


# (samples, tokens, channels): whole vectors (32 channels: 2 at AVX-512)
# over 648 samples, channels left over after whole vectors (37) and fewer
# than one vector (3), one token, no sample
SHAPES = [(648, 17, 32), (5, 17, 37), (7, 17, 3), (4, 1, 32), (0, 17, 32)]


@needs_kernel
@pytest.mark.parametrize('B,N,C', SHAPES)
def test_kernel_matches_group_norm_fp32(B, N, C):
    """Within 4 fp32 units in the last place of the largest output, and no
    farther from fp64 than PyTorch's GroupNorm (one token: the variance is
    0 and every output its channel's bias, exactly)."""
    x, weight, bias = inputs(B, N, C)
    got = torch.ops.mmcrossformer.token_instance_norm(x, weight, bias, EPS)
    assert got.shape == x.shape and got.dtype == torch.float32
    if B == 0:
        return
    exact = norm_fp64(x, weight, bias)
    bound = 4 * torch.finfo(torch.float32).eps * exact.abs().max().item()
    assert error(got, exact) <= max(
        bound, error(pytorch_group_norm(x, weight, bias), exact))
    if N == 1:
        assert torch.equal(got, bias.expand_as(got))
    # every sample on its own
    torch.testing.assert_close(
        torch.ops.mmcrossformer.token_instance_norm(
            x[B // 2:B // 2 + 1], weight, bias, EPS), got[B // 2:B // 2 + 1],
        rtol=0, atol=0)


@needs_kernel
def test_kernel_on_nearly_constant_channels():
    """Channels whose spread across the tokens is near sqrt(eps), far
    below their mean (where the released model's GroupNorm amplifies
    rounding by up to 316, docs/benchmark.md): the kernel sums the tokens'
    differences to the first token (exact there), so its mean carries no
    rounding of the mean's size: 4e-7 from fp64 here, where PyTorch's
    GroupNorm (torch 2.14) is 0.8 from it."""
    g = torch.Generator().manual_seed(1)
    x = 5 + 3e-3 * torch.randn(64, 17, 32, generator=g)
    weight, bias = torch.ones(32), torch.zeros(32)
    exact = norm_fp64(x, weight, bias)
    got = torch.ops.mmcrossformer.token_instance_norm(x, weight, bias, EPS)
    pytorch = error(pytorch_group_norm(x, weight, bias), exact)
    assert error(got, exact) <= min(pytorch, 2e-6), (error(got, exact),
                                                     pytorch)


@needs_kernel
@pytest.mark.parametrize('B,N,C', SHAPES[:3])
def test_kernel_bf16(B, N, C):
    """bf16 in, bf16 out: the fp64 result rounded to bf16 (within one bf16
    unit in the last place, plus the fp32 arithmetic before the rounding),
    as PyTorch's fp32 GroupNorm of the widened input, rounded."""
    x, weight, bias = inputs(B, N, C)
    x = x.bfloat16()
    got = torch.ops.mmcrossformer.token_instance_norm(x, weight, bias, EPS)
    assert got.dtype == torch.bfloat16 and got.shape == x.shape
    assert_bf16_rounded(got, norm_fp64(x, weight, bias))
    via_fp32 = pytorch_group_norm(x.float(), weight, bias).bfloat16()
    assert (got == via_fp32).float().mean() > 0.99


@needs_kernel
@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16])
def test_kernel_keeps_nan_to_its_channel(dtype):
    """A NaN makes its channel of its sample NaN (not infinite, in bf16
    too) and nothing else."""
    x, weight, bias = inputs(3, 17, 32)
    x[1, 4, 7] = float('nan')
    got = torch.ops.mmcrossformer.token_instance_norm(
        x.to(dtype), weight, bias, EPS).float()
    nan = torch.zeros_like(got, dtype=torch.bool)
    nan[1, :, 7] = True
    assert torch.equal(got.isnan(), nan)
    assert torch.isfinite(got[~nan]).all()


CAPABILITY = textwrap.dedent('''
    import torch
    from mmcrossformer.ops import HAS_KERNELS
    assert HAS_KERNELS
    torch.manual_seed(0)
    x, w, b = torch.randn(53, 17, 37) * 3, torch.randn(37), torch.randn(37)
    out = {{str(dt): torch.ops.mmcrossformer.token_instance_norm(
        x.to(dt), w, b, 1e-5) for dt in (torch.float32, torch.bfloat16)}}
    torch.save(dict(x=x, w=w, b=b, out=out), {path!r})
''')


@needs_kernel
@pytest.mark.parametrize('capability', ['avx512', 'avx2', 'default'])
def test_every_instruction_set_copy(capability, tmp_path):
    """The AVX-512, AVX2 and baseline copies (ATEN_CPU_CAPABILITY caps the
    choice, as for PyTorch's kernels) normalise alike, fp32 and bf16."""
    saved = saved_by_copy(CAPABILITY, capability, tmp_path)
    exact = norm_fp64(saved['x'], saved['w'], saved['b'])
    fp32 = saved['out'][str(torch.float32)]
    assert error(fp32, exact) <= 4 * torch.finfo(
        torch.float32).eps * exact.abs().max().item()
    assert_bf16_rounded(saved['out'][str(torch.bfloat16)],
                        norm_fp64(saved['x'].bfloat16(), saved['w'],
                                  saved['b']))


@needs_kernel
@pytest.mark.parametrize('x,weight,message', [
    (torch.zeros(4, 17, 32, dtype=torch.float64), torch.ones(32),
     'float32 or bfloat16 CPU tensor'),
    (torch.zeros(4, 544), torch.ones(32),
     r'\(samples, tokens, channels\)'),
    (torch.zeros(4, 17, 32), torch.ones(31),
     'weight must be a float32 CPU tensor of 32 channels'),
    (torch.zeros(4, 17, 32), torch.ones(32, dtype=torch.bfloat16),
     'weight must be a float32 CPU tensor of 32 channels'),
])
def test_kernel_refuses_bad_input(x, weight, message):
    with pytest.raises(RuntimeError, match=message):
        torch.ops.mmcrossformer.token_instance_norm(x, weight,
                                                    torch.zeros(32), EPS)


def cji_norms(seed: int = 0):
    """The CJI GroupNorm of the fast small model (random affine
    parameters), the same as a plain nn.GroupNorm, and a channels-last
    (frames, channels, 1, joints) input."""
    model = small_model(fast=True)
    norm = model.backbone.spatial_blocks[0].interaction.norm
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        norm.weight.copy_(1 + 0.5 * torch.randn(32, generator=g))
        norm.bias.copy_(torch.randn(32, generator=g))
    plain = copy.deepcopy(norm)
    plain.__class__ = nn.GroupNorm
    x = torch.randn(45, 17, 32, generator=g).transpose(1, 2).unsqueeze(2)
    return norm, plain, x


def test_fast_inference_uses_it_plain_inference_not():
    """The configs' fast_inference makes the CJI's GroupNorm a
    JointGroupNorm; use_plain_inference_ gives nn.GroupNorm back; the
    temporal encoder's (CFI) GroupNorm stays as it is."""
    model = small_model(fast=True)
    assert type(model.backbone.spatial_blocks[0].interaction.norm) is \
        JointGroupNorm
    assert type(model.backbone.temporal_blocks[0].interaction.norm) is \
        nn.GroupNorm
    use_plain_inference_(model)
    assert type(model.backbone.spatial_blocks[0].interaction.norm) is \
        nn.GroupNorm


@needs_kernel
def test_joint_group_norm_in_and_out_of_inference():
    """CPU inference: the kernel, within 1e-6 of nn.GroupNorm, channels-last
    out as in; bf16 input gives bf16 out (fp32 inside); training and
    recorded gradients: nn.GroupNorm's own result, bit for bit."""
    norm, plain, x = cji_norms()
    with torch.no_grad():
        expected = plain(x)
        got = norm(x)
        assert got.is_contiguous(memory_format=torch.channels_last)
        torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-6)
        half = norm(x.bfloat16())
        assert half.dtype == torch.bfloat16
        torch.testing.assert_close(
            half, plain(x.bfloat16().float()).bfloat16(), rtol=2**-7, atol=0)
        assert torch.equal(norm.train()(x), plain.train()(x))
    norm.eval()
    x.requires_grad_(True)
    assert torch.equal(norm(x), plain(x))


@needs_kernel
def test_compiled_norm_calls_the_kernel():
    """torch.compile keeps the kernel as one call (its fake tensor rule
    gives the shape) and computes what eager does."""
    from torch._inductor.utils import run_and_get_code
    norm, _, x = cji_norms()
    with torch.no_grad():
        eager = norm(x)
        got, code = run_and_get_code(torch.compile(norm), x)
    assert 'mmcrossformer.token_instance_norm' in '\n'.join(code)
    torch.testing.assert_close(got, eager, rtol=0, atol=0)


@pytest.mark.skipif(cpp_compiler() is None,
                    reason='no C++ compiler: torch.compile cannot run here')
def test_without_the_kernel(monkeypatch):
    """Where mmcrossformer.ops was not built: eager and compiled CPU
    inference compute nn.GroupNorm's result (bf16 input in fp32, returned
    in bf16), eager code saying once how to build the kernel."""
    from mmcrossformer import ops
    monkeypatch.setattr(ops, 'HAS_KERNELS', False)
    monkeypatch.setattr(ops, 'WHY_NOT', "No module named '_ext'")
    monkeypatch.setattr(ops, '_warned', False)
    norm, plain, x = cji_norms()
    with torch.no_grad():
        expected = plain(x)
        with pytest.warns(UserWarning, match='is not built .No module named '
                          "'_ext'.*pip install --no-build-isolation"):
            torch.testing.assert_close(norm(x), expected, rtol=0, atol=0)
        with warnings.catch_warnings():
            warnings.simplefilter('error')  # once per process
            half = norm(x.bfloat16())
        assert torch.equal(half, plain(x.bfloat16().float()).bfloat16())
        torch._dynamo.reset()
        from torch._inductor.utils import run_and_get_code
        got, code = run_and_get_code(torch.compile(norm), x)
    assert 'token_instance_norm' not in '\n'.join(code)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
