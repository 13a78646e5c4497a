"""mmcrossformer.ops: the token-major attention kernel, built by the
README's set-up, against an fp64 attention computed by hand, in each of its
instruction-set copies; bad input refused by name; kept by torch.compile;
and what runs where it was not built."""
import copy
import textwrap
import warnings

import pytest
import torch
import torch.nn.functional as F

from mmcrossformer.entrypoints.runner import cpp_compiler
from mmcrossformer.ops import HAS_KERNELS
from mmcrossformer.runtime.fast_paths import TokenMajorAttention

from .common import needs_kernel, saved_by_copy, small_model


def attention_fp64(qkv: torch.Tensor, heads: int) -> torch.Tensor:
    """(3C, N, B) -> (C, N, B): softmax(q k^T / sqrt(width)) v per sequence
    and head, in fp64, written out."""
    C3, N, B = qkv.shape
    width = C3 // 3 // heads
    q, k, v = qkv.double().view(3, heads, width, N, B).unbind(0)
    scores = torch.einsum('hdib,hdjb->hijb', q, k) / width**0.5
    weights = torch.exp(scores - scores.amax(2, keepdim=True))
    weights = weights / weights.sum(2, keepdim=True)
    return torch.einsum('hijb,hdjb->hdib', weights, v).reshape(-1, N, B)


def assert_fp32_exact(got: torch.Tensor, exact: torch.Tensor) -> None:
    """Within 4 fp32 units in the last place of the largest output (what
    PyTorch's fused fp32 kernel gives on these inputs: 1.7-3.3e-6 at
    outputs up to 9.4)."""
    bound = 4 * torch.finfo(torch.float32).eps * exact.abs().max().item()
    error = (got.double() - exact).abs().max().item()
    assert error <= bound, f'{error:.2e} from fp64, allowed {bound:.2e}'


def test_the_kernel_is_built():
    """The README's set-up builds it wherever a C++ compiler is installed
    (a failed build would leave the fast paths on PyTorch's kernels)."""
    assert HAS_KERNELS or cpp_compiler() is None


# (sequences, tokens, heads, width): whole vector blocks and a tail (648 =
# 40 x 16 + 8 at AVX-512), a tail alone, one whole block, odd sizes
SHAPES = [(648, 17, 8, 4), (5, 17, 8, 4), (16, 17, 8, 4), (37, 9, 2, 3),
          (3, 1, 1, 1)]


@needs_kernel
@pytest.mark.parametrize('B,N,heads,width', SHAPES)
def test_kernel_matches_attention(B, N, heads, width):
    g = torch.Generator().manual_seed(B)
    qkv = torch.randn(3 * heads * width, N, B, generator=g) * 2
    got = torch.ops.mmcrossformer.token_major_attention(qkv, heads)
    assert got.shape == (heads * width, N, B) and got.dtype == torch.float32
    assert_fp32_exact(got, attention_fp64(qkv, heads))
    # every sequence on its own
    one = torch.ops.mmcrossformer.token_major_attention(
        qkv[..., B // 2:B // 2 + 1].contiguous(), heads)
    torch.testing.assert_close(one, got[..., B // 2:B // 2 + 1], rtol=0,
                               atol=1e-6)


@needs_kernel
def test_kernel_softmax_saturates_without_nan():
    """Scores hundreds apart: weights that underflow to 0 and one that is
    1, as in exact arithmetic, and no farther from fp64 than PyTorch's fused
    fp32 kernel (scores of thousands carry fp32 rounding of 1e-4: 1.3e-3
    at outputs up to 122 for both); a non-contiguous input is taken too."""
    g = torch.Generator().manual_seed(0)
    qkv = torch.randn(3 * 32, 17, 40, generator=g) * 30
    got = torch.ops.mmcrossformer.token_major_attention(
        qkv.transpose(1, 2).contiguous().transpose(1, 2), 8)
    assert torch.isfinite(got).all()
    exact = attention_fp64(qkv, 8)
    q, k, v = qkv.view(3, 8, 4, 17, 40).permute(0, 4, 1, 3, 2).unbind(0)
    fused = F.scaled_dot_product_attention(q, k, v).permute(1, 3, 2, 0)
    fused_error = (fused.reshape(32, 17, 40).double() - exact).abs().max()
    assert (got.double() - exact).abs().max() <= 1.1 * fused_error


CAPABILITY = textwrap.dedent('''
    import torch
    from mmcrossformer.ops import HAS_KERNELS
    assert HAS_KERNELS
    torch.manual_seed(0)
    qkv = torch.randn(96, 17, 53) * 2
    out = torch.ops.mmcrossformer.token_major_attention(qkv, 8)
    torch.save(dict(qkv=qkv, out=out), {path!r})
''')


@needs_kernel
@pytest.mark.parametrize('capability', ['avx512', 'avx2', 'default'])
def test_every_instruction_set_copy(capability, tmp_path):
    """The AVX-512, AVX2 and baseline copies (ATEN_CPU_CAPABILITY caps the
    choice, as for PyTorch's kernels) give the same attention."""
    saved = saved_by_copy(CAPABILITY, capability, tmp_path)
    assert_fp32_exact(saved['out'], attention_fp64(saved['qkv'], 8))


@needs_kernel
@pytest.mark.parametrize('qkv,heads,message', [
    (torch.zeros(96, 17, 4, dtype=torch.float64), 8, 'float32 CPU tensor'),
    (torch.zeros(96, 68), 8, r'\(3 \* channels, tokens, sequences\)'),
    (torch.zeros(90, 17, 4), 8, '90 rows are not 3 x 8 heads'),
])
def test_kernel_refuses_bad_input(qkv, heads, message):
    with pytest.raises(RuntimeError, match=message):
        torch.ops.mmcrossformer.token_major_attention(qkv, heads)


@needs_kernel
def test_compiled_attention_calls_the_kernel():
    """torch.compile keeps the kernel as one call (its fake tensor rule
    gives the shape) and computes what eager does."""
    from torch._inductor.utils import run_and_get_code
    attn = small_model().backbone.spatial_blocks[0].attn
    attn.__class__ = TokenMajorAttention
    x = torch.randn(40, 17, 32)
    with torch.no_grad():
        eager = attn(x)
        got, code = run_and_get_code(torch.compile(attn), x)
    assert 'mmcrossformer.token_major_attention' in '\n'.join(code)
    torch.testing.assert_close(got, eager, rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(cpp_compiler() is None,
                    reason='no C++ compiler: torch.compile cannot run here')
def test_without_the_kernel(monkeypatch):
    """Where mmcrossformer.ops was not built (pip install without a C++
    compiler): eager CPU inference computes Attention's result (PyTorch's
    fused kernel) and says once how to build the kernel; compiled code
    computes the element-wise token-major formulation."""
    from mmcrossformer import ops
    monkeypatch.setattr(ops, 'HAS_KERNELS', False)
    monkeypatch.setattr(ops, 'WHY_NOT', "No module named '_ext'")
    monkeypatch.setattr(ops, '_warned', False)
    attn = small_model().backbone.spatial_blocks[0].attn
    token_major = copy.deepcopy(attn)
    token_major.__class__ = TokenMajorAttention
    x = torch.randn(40, 17, 32)
    with torch.no_grad():
        expected = attn(x)
        with pytest.warns(UserWarning, match='is not built .No module named '
                          "'_ext'.*pip install --no-build-isolation"):
            torch.testing.assert_close(token_major(x), expected, rtol=0,
                                       atol=0)
        with warnings.catch_warnings():
            warnings.simplefilter('error')  # once per process
            token_major(x)
        torch._dynamo.reset()
        from torch._inductor.utils import run_and_get_code
        got, code = run_and_get_code(torch.compile(token_major), x)
    assert 'token_major_attention' not in '\n'.join(code)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
