"""A small lifting model with every option of the released architecture,
the marker of the kernel tests and the exactness check of the fast paths,
shared by the runtime tests."""
import copy
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmpose.registry import MODELS

from mmcrossformer.entrypoints.runner import cpp_compiler
from mmcrossformer.ops import HAS_KERNELS

from ..helpers import REPO

#: tests of mmcrossformer.ops's kernels: they run wherever the README's
#: set-up could build them
needs_kernel = pytest.mark.skipif(
    not HAS_KERNELS and cpp_compiler() is None,
    reason='no C++ compiler: setup.py cannot build mmcrossformer.ops')


def saved_by_copy(script: str, capability: str, tmp_path) -> dict:
    """Run ``script`` (it saves its results to ``{path}``) in a fresh
    process whose kernels are capped at ``capability`` (PyTorch's
    ATEN_CPU_CAPABILITY: ``'avx512'``, ``'avx2'`` or ``'default'``; the
    kernels of mmcrossformer.ops obey it too) and return what it saved."""
    path = tmp_path / 'out.pt'
    proc = subprocess.run(
        [sys.executable, '-c', script.format(path=str(path))],
        env=dict(os.environ, ATEN_CPU_CAPABILITY=capability),
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return torch.load(path)


def small_model(seed: int = 0, fast: bool = False) -> torch.nn.Module:
    """Every option of the released architecture (the official config), in
    a one-layer, 27-frame network; the plain layers unless ``fast``
    (the configs' ``fast_inference``)."""
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'crossformer_h36m_81f_official.py'))
    cfg.model.backbone.update(
        num_frames=27, depth=1, drop_path_rate=0., fast_inference=fast)
    cfg.model.head.num_frames = 27
    with torch.random.fork_rng():  # leave the global generator as it was
        torch.manual_seed(seed)
        model = MODELS.build(cfg.model)
        model.init_weights()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # weights that make every branch matter
        for name, p in model.named_parameters():
            if 'layer_scales' in name:
                p.copy_(0.5 + 0.1 * torch.randn(p.shape, generator=g))
            elif 'pos_embed' in name:
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
    return model.eval()


def keypoints(batch: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 27, 17, 2, generator=g) * 0.5


def reference_output(model, x):
    with torch.no_grad():
        return model(x, None, 'tensor')


def spy_encode(backbone) -> list:
    """The batch size of every ``encode`` call of ``backbone``."""
    sizes = []
    encode = backbone.encode
    backbone.encode = lambda x: sizes.append(len(x)) or encode(x)
    return sizes


def assert_as_exact_as_plain(got: torch.Tensor, plain: torch.Tensor,
                             exact: torch.Tensor,
                             atol: float = 1e-5) -> None:
    """A fast path's ``got`` is within ``atol`` of the plain model's
    ``plain``, or at most twice as far as ``plain`` (plus ``atol``) from
    ``exact``, the plain model's fp64 result.

    The released architecture's CJI GroupNorm normalises every channel over
    the 17 joints; where a channel is nearly constant there (its variance at
    the 1e-5 eps floor), it multiplies any fp32 rounding before it by up to
    1 / sqrt(eps) = 316: there no two fp32 implementations agree to 1e-5
    (the tests' small model: the plain model 4.3e-5 from its fp64 copy;
    the demo test's 9-frame one 3.1-5.0e-5, with the fast path 3.6-6.4e-5
    from it), and the fast one must be as exact as the plain one, up to
    the factor 2 by which two fp32 roundings of the same ill-conditioned
    function may differ. A wrong fast path is far outside that (a tanh
    GELU in place of the exact one: 4e-4)."""
    deviation = (got - plain).abs().max().item()
    if deviation <= atol:
        return
    error = (got.double() - exact).abs().max().item()
    plain_error = (plain.double() - exact).abs().max().item()
    assert error <= 2 * plain_error + atol, (
        f'{deviation:.2e} from the plain model and {error:.2e} from the '
        f'fp64 result, where the plain model is {plain_error:.2e} from it')


def fp64_output(model, x: torch.Tensor, features: bool = False):
    """``model``'s (B, J, 3) poses (or its backbone's features) in fp64."""
    model = copy.deepcopy(model).double()
    with torch.no_grad():
        if features:
            return model.backbone(x.double())[0]
        return model(x.double(), None, 'tensor')
