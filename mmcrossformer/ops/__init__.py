# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Compiled CPU kernels of mmcrossformer, built by ``setup.py`` from
``csrc/`` (the README's set-up builds them; ``pip install`` skips them where
they do not compile, e.g. without a C++ compiler, and the callers then use
PyTorch's kernels).

``torch.ops.mmcrossformer.token_major_attention(qkv, heads)``: multi-head
self-attention of many short sequences in fp32 on the CPU, ``qkv``
(3 * C, N, B) -> (C, N, B), the B sequences innermost (see
:class:`~mmcrossformer.runtime.fast_paths.TokenMajorAttention`). Vectors
run along the sequences, so the spatial encoder's 17-token, 4-channel heads
fill them (about 6x PyTorch's fused attention kernel on the 81-frame
model's chunks at 1 thread: ``docs/benchmark.md``).

``torch.ops.mmcrossformer.token_instance_norm(x, weight, bias, eps)``:
every channel of every sample of ``x`` (B, N, C), fp32 or bf16, normalised
over its N tokens, then scaled and shifted per channel (see
:class:`~mmcrossformer.runtime.fast_paths.JointGroupNorm`, the CJI's
GroupNorm over the joints); vectors run along the channels.

``torch.ops.mmcrossformer.row_layer_norm(x, weight, bias, eps)``: LayerNorm
of float32 ``x`` (..., C) over its last dimension, for the spatial
encoder's narrow (32-channel) tokens, where PyTorch's kernel spends most of
its time per row (see :class:`~mmcrossformer.runtime.fast_paths.
RowLayerNorm`; eager only: ``torch.compile`` fuses LayerNorm itself).

``torch.compile`` keeps each as one call. Importing this module registers
the operators where they were built;
``import mmcrossformer`` does not import it.
"""
import warnings

import torch
from torch import Tensor

try:
    from . import _ext  # noqa: F401  registers the operator
except ImportError as error:  # not built, or built against another torch
    HAS_KERNELS, WHY_NOT = False, str(error)
else:
    HAS_KERNELS, WHY_NOT = True, ''

    @torch.library.register_fake('mmcrossformer::token_major_attention')
    def _(qkv: Tensor, heads: int) -> Tensor:
        return qkv.new_empty(qkv.shape[0] // 3, *qkv.shape[1:])

    @torch.library.register_fake('mmcrossformer::token_instance_norm')
    def _(x: Tensor, weight: Tensor, bias: Tensor, eps: float) -> Tensor:
        return x.new_empty(x.shape)

    @torch.library.register_fake('mmcrossformer::row_layer_norm')
    def _(x: Tensor, weight: Tensor, bias: Tensor, eps: float) -> Tensor:
        return x.new_empty(x.shape)


def init_thread() -> None:
    """Make this thread's first parallel call in the kernels now (on tiny
    inputs). That call sets the thread's torch thread count from the
    process-wide one (ATen's ``lazy_init_num_threads``, compiled into each
    extension); a thread that sets its own count afterwards keeps it."""
    if HAS_KERNELS:
        torch.ops.mmcrossformer.token_major_attention(
            torch.zeros(12, 2, 64), 1)
        torch.ops.mmcrossformer.token_instance_norm(
            torch.zeros(64, 2, 16), torch.ones(16), torch.zeros(16), 1e-5)


_warned = False


def warn_not_built() -> None:
    """Warn, once per process, that CPU inference runs without the kernels
    and how to build them."""
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            'mmcrossformer.ops is not built (' + WHY_NOT + '): CPU '
            "inference runs the spatial attention and the CJI's GroupNorm "
            "through PyTorch's kernels (same results, slower). Build it "
            'with a C++ compiler: '
            'pip install --no-build-isolation -e /path/to/mmcrossformer',
            stacklevel=3)


__all__ = ['HAS_KERNELS', 'WHY_NOT', 'init_thread', 'warn_not_built']
