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
model's chunks at 1 thread: ``docs/benchmark.md``). ``torch.compile`` keeps
it as one call.

Importing this module registers the operator where it was built;
``import mmcrossformer`` does not import it.
"""
import torch
from torch import Tensor

try:
    from . import _ext  # noqa: F401  registers the operator
except ImportError:  # not built, or built against another torch
    HAS_KERNELS = False
else:
    HAS_KERNELS = True

    @torch.library.register_fake('mmcrossformer::token_major_attention')
    def _(qkv: Tensor, heads: int) -> Tensor:
        return qkv.new_empty(qkv.shape[0] // 3, *qkv.shape[1:])


__all__ = ['HAS_KERNELS']
