# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Fast paths of a lifting model (``PoseLifter`` with a CrossFormer backbone
and head): oneDNN linear layers, bf16 and ``torch.compile`` for inference,
oneDNN linear layers for fp32 training (ONNX export: :mod:`.onnx_export`).

    from mmcrossformer.runtime.fast_paths import build_fast_lifter
    lifter = build_fast_lifter(model, dtype='bf16', compile=True)
    pose3d = lifter(keypoints)   # (B, F, J, C) -> (B, J, 3), float32

Every path computes what ``model(keypoints, None, 'tensor')`` computes, on
the CPU in chunks of about ``INFERENCE_CHUNK_FRAMES`` frames per thread
(``chunk``; every sample is computed on its own):

* ``'fp32'``: the model as it is, with its linear layers on the CPU run by
  oneDNN (:class:`OneDNNLinear`: PyTorch's default, MKL, uses AVX2 code on
  non-Intel CPUs, about half of oneDNN's AVX-512 speed) and the MLP's GELU
  fused into the preceding linear layer.
* ``'bf16'``: backbone convolution and linear weights stored in bfloat16 (no
  cast per call), matrix products and convolutions in bfloat16 (oneDNN's
  AVX512-BF16/AMX kernels, ``torch.autocast`` for the rest); normalisations,
  layer scales, the residual stream and the head stay in float32. Where the
  device has no native bf16, :func:`bf16_supported` is False and the
  benchmark leaves the path out.
* ``compile=True``: ``torch.compile`` (inductor; on the CPU it emits C++ and
  needs a compiler) with freezing, which folds the weights into the graph
  as constants and fuses LayerNorm, layer scales, residual additions,
  GroupNorm and the CFI kernel into few loops around the oneDNN calls.

On the CPU every path runs the spatial attention as a
:class:`TokenMajorAttention` and the CJI's GroupNorm as a
:class:`JointGroupNorm` (kernels of :mod:`mmcrossformer.ops`).

:func:`compile_cpu_inference_` compiles the CPU inference of a model in
place instead (no freezing: weights loaded later are used), which
``tools/test.py --compile`` does.

Importing this module registers the custom operators
``mmcrossformer::onednn_linear`` (``torch.library.custom_op``, torch >= 2.4)
and, where they were built, ``mmcrossformer::token_major_attention`` and
``mmcrossformer::token_instance_norm``
(:mod:`mmcrossformer.ops`); ``import mmcrossformer`` does not import it.
"""
import contextlib
import copy
from typing import Callable, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import ops
from ..models.backbones.crossformer import (Attention, CrossFormer,
                                            CrossJointInteraction,
                                            chunk_samples)
from ..models.inputs import check_finite_keypoints
from .cpu_workers import in_chunks, map_windows
from .forward import LiftingForward

DTYPES = {'fp32': torch.float32, 'bf16': torch.bfloat16}


def bf16_supported(device: Union[str, torch.device] = 'cpu') -> bool:
    """Whether ``device`` runs bfloat16 matrix products natively."""
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == 'cpu':
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return False


def cast_matmul_weights_(module: nn.Module, dtype: torch.dtype) -> nn.Module:
    """Store the weights and biases of every linear layer and convolution of
    ``module`` in ``dtype``, in place; normalisation parameters, layer
    scales and positional embeddings keep their precision."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, OneDNNLinear, nn.modules.conv._ConvNd)):
            m.to(dtype)
    return module


@torch.library.custom_op('mmcrossformer::onednn_linear', mutates_args=())
def onednn_linear(x: Tensor, weight: Tensor, bias: Optional[Tensor],
                  attr: str) -> Tensor:
    """``torch.ops.mkldnn._linear_pointwise`` as an op that ``torch.compile``
    keeps as it is (inductor lowers the mkldnn op only for weights it packed
    itself) and fuses the element-wise work around."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, attr, [],
                                              'none')


@onednn_linear.register_fake
def _(x: Tensor, weight: Tensor, bias: Optional[Tensor], attr: str) -> Tensor:
    return x.new_empty(x.shape[:-1] + (weight.shape[0], ))


class OneDNNLinear(nn.Module):
    """Inference-only ``nn.Linear`` (optionally followed by GELU) through
    oneDNN's fused linear kernel, ``torch.ops.mkldnn._linear_pointwise``.

    PyTorch runs fp32 ``nn.Linear`` on the CPU through MKL, which on
    non-Intel CPUs (the AMD EPYC of our measurements) takes its AVX2 code:
    about half the FLOP/s of oneDNN's AVX-512 kernels. oneDNN also applies
    the GELU of the MLP as a post-op, saving a pass over the hidden
    activations. Same fp32 (or bf16) arithmetic; no autograd.
    """

    def __init__(self, linear: nn.Linear, gelu: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach(), False)
        self.bias = None if linear.bias is None else nn.Parameter(
            linear.bias.detach(), False)
        self.attr = 'gelu' if gelu else 'none'

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype != self.weight.dtype:
            x = x.to(self.weight.dtype)
        return onednn_linear(x, self.weight, self.bias, self.attr)

    def extra_repr(self) -> str:
        return (f'in_features={self.weight.shape[1]}, '
                f'out_features={self.weight.shape[0]}, post_op={self.attr}')


def _onednn_fp32(x: Tensor, weight: Tensor) -> bool:
    """Whether a product of ``x`` with ``weight`` can take oneDNN's fp32
    kernel: both fp32 on the CPU, outside autocast."""
    return x.device.type == 'cpu' and x.dtype == torch.float32 and \
        weight.dtype == torch.float32 and not torch.is_autocast_enabled('cpu')


class OneDNNEvalLinear(nn.Linear):
    """``nn.Linear`` (same parameters and state dict), optionally followed
    by the exact GELU (``gelu``), whose fp32 CPU products run through
    oneDNN's fused kernel (GELU as a post-op) whenever no gradient is
    recorded (``torch.no_grad``/``inference_mode``: testing, inference);
    with gradients, on GPUs, in bf16, under autocast and when traced (ONNX
    export) it computes
    ``nn.Linear`` (then GELU) as PyTorch does. The ``fast_inference``
    option of the ``CrossFormer`` backbone makes its linear layers so."""

    gelu = False

    def forward(self, x: Tensor) -> Tensor:
        if not torch.is_grad_enabled() and _onednn_fp32(x, self.weight) \
                and not torch.jit.is_tracing():  # exporters see nn.Linear
            return onednn_linear(x, self.weight, self.bias,
                                 'gelu' if self.gelu else 'none')
        y = self._linear(x)
        return F.gelu(y) if self.gelu else y

    def _linear(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + (', gelu=True' if self.gelu else '')


def use_onednn_eval_linear_(module: nn.Module) -> nn.Module:
    """Make every ``nn.Linear`` of ``module`` an :class:`OneDNNEvalLinear`,
    in place (same parameters, state dict and training arithmetic), folding
    the exact GELU of each MLP (modules with ``fc1``, ``act``, ``fc2``)
    into its ``fc1``. Nothing changes where oneDNN is missing."""
    if not onednn_available('cpu'):
        return module
    for m in list(module.modules()):
        if type(getattr(m, 'fc1', None)) is nn.Linear and isinstance(
                getattr(m, 'act', None), nn.GELU) and \
                m.act.approximate == 'none':
            m.fc1.__class__ = OneDNNEvalLinear
            m.fc1.gelu = True
            m.act = nn.Identity()
    for m in module.modules():
        if type(m) is nn.Linear:
            m.__class__ = OneDNNEvalLinear
    return module


def use_plain_inference_(module: nn.Module) -> nn.Module:
    """Undo the ``fast_inference`` option of the CrossFormer backbones of
    ``module``, in place: ``nn.Linear`` layers and the MLPs' ``nn.GELU``
    back (undoing :func:`use_onednn_eval_linear_`), the spatial attention
    an :class:`Attention` and the CJI's GroupNorm an ``nn.GroupNorm``
    (:func:`use_pytorch_spatial_kernels_`), batches encoded at once."""
    use_pytorch_spatial_kernels_(module)
    for m in module.modules():
        if hasattr(m, 'chunk_frames'):
            m.chunk_frames = 0
        if isinstance(getattr(m, 'fc1', None), OneDNNEvalLinear) and \
                m.fc1.gelu:
            m.act = nn.GELU()
        if isinstance(m, OneDNNEvalLinear):
            m.gelu = False
            m.__class__ = nn.Linear
            del m.gelu
    return module


class _OneDNNLinearFn(torch.autograd.Function):
    """y = x W^T + b with oneDNN kernels in both directions: the forward and
    the input gradient through ``mkldnn._linear_pointwise``, the weight
    gradient too (on transposed copies, still faster than MKL here)."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor,
                bias: Optional[Tensor]) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return torch.ops.mkldnn._linear_pointwise(x, weight, bias, 'none',
                                                  [], 'none')

    @staticmethod
    def backward(ctx, grad: Tensor):
        x, weight = ctx.saved_tensors
        grad2 = grad.reshape(-1, grad.shape[-1])
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.ops.mkldnn._linear_pointwise(
                grad2, weight.t().contiguous(), None, 'none', [],
                'none').reshape(x.shape)
        if ctx.needs_input_grad[1]:
            grad_w = torch.ops.mkldnn._linear_pointwise(
                grad2.t().contiguous(),
                x.reshape(-1, x.shape[-1]).t().contiguous(), None, 'none',
                [], 'none')
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad2.sum(0)
        return grad_x, grad_w, grad_b


class OneDNNTrainLinear(OneDNNEvalLinear):
    """``nn.Linear`` (same parameters and state dict) whose fp32 products run
    through oneDNN in the forward and the backward pass on the CPU; other
    devices, dtypes and autocast use ``nn.Linear``."""

    def _linear(self, x: Tensor) -> Tensor:
        if not _onednn_fp32(x, self.weight):
            return super()._linear(x)
        return _OneDNNLinearFn.apply(x, self.weight, self.bias)


def use_onednn_train_linear_(module: nn.Module) -> nn.Module:
    """Make every ``nn.Linear`` (and :class:`OneDNNEvalLinear`) of
    ``module`` a :class:`OneDNNTrainLinear`, in place, keeping its
    parameters (optimisers holding them, checkpoints and state dicts are
    unaffected)."""
    for m in module.modules():
        if type(m) in (nn.Linear, OneDNNEvalLinear):
            m.__class__ = OneDNNTrainLinear
    return module


class FP32GroupNorm(nn.GroupNorm):
    """GroupNorm computed in fp32 whatever its input (PyTorch's CPU kernel for
    bf16 inputs is several times slower than the fp32 one)."""

    def forward(self, x: Tensor) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return super().forward(x.float())


def fp32_norm_and_attention_(module: nn.Module) -> nn.Module:
    """For the bf16 path on the CPU: GroupNorm and the attention products
    (not the projections) in fp32, in place. Both are faster so here: the
    bf16 GroupNorm kernel is slow, and the attention of the spatial encoder
    (17 tokens, 4 channels per head) gains nothing from bf16 products but
    pays for the casts."""
    for m in module.modules():
        if type(m) is nn.GroupNorm:
            m.__class__ = FP32GroupNorm
        elif isinstance(m, Attention):
            m.fp32_products = True
    return module


def cpu_inference(module: nn.Module, x: Tensor,
                  dtypes: Tuple[torch.dtype, ...]) -> bool:
    """Whether ``module`` runs ``x`` in CPU inference, where the kernels of
    :mod:`mmcrossformer.ops` apply: eval mode, no autograd, not traced
    (exporters see PyTorch's modules), a CPU tensor of one of ``dtypes``."""
    return not (module.training or torch.is_grad_enabled()
                or torch.jit.is_tracing()) and x.device.type == 'cpu' and \
        x.dtype in dtypes


class TokenMajorAttention(Attention):
    """:class:`Attention` (same parameters and arithmetic) for many short
    sequences with narrow heads, the spatial encoder's: 17 joints, 4
    channels per head, B x F sequences. In CPU inference (eval mode, no
    autograd, not traced, fp32 or bf16) it runs token-major; otherwise
    (training, GPUs, ONNX export, fp64) it is :class:`Attention`.

    The fused kernel of :class:`Attention` solves one 17 x 17 x 4 problem
    per sequence and head, far too small for its vector loops. Here the
    projection writes the queries, keys and values as (3 x dim, tokens,
    sequences), the sequences innermost, and the products and the softmax
    run along the sequences in full vectors: eager and compiled through the
    ``mmcrossformer::token_major_attention`` kernel of
    :mod:`mmcrossformer.ops` (about 6x the fused kernel on the 81-frame
    model's chunks); where that was not built, compiled code computes them
    element-wise (inductor fuses them into vector loops: 1.7x the fused
    kernel at 1 thread, 2x at 2) and eager code keeps the fused kernel (an
    eager element-wise step would be a pass over a (heads, N, N, B)
    tensor). In fp32 also under a bf16 autocast (the layers are 32 wide).
    """

    def forward(self, x: Tensor) -> Tensor:
        """(B, N, dim) -> (B, N, dim)."""
        if not cpu_inference(self, x, (torch.float32, torch.bfloat16)):
            return super().forward(x)
        if not (ops.HAS_KERNELS or torch.compiler.is_compiling()):
            ops.warn_not_built()
            return super().forward(x)
        B, N, C = x.shape
        heads, width = self.num_heads, C // self.num_heads
        with torch.autocast(x.device.type, enabled=False):
            tokens = x.float().transpose(0, 1).reshape(N * B, C).t()
            weight = self.qkv.weight.float()
            qkv = weight @ tokens if self.qkv.bias is None else torch.addmm(
                self.qkv.bias.float()[:, None], weight, tokens)
            if ops.HAS_KERNELS:  # (3 * dim, N, B) -> (dim, N, B)
                y = torch.ops.mmcrossformer.token_major_attention(
                    qkv.view(3 * C, N, B), heads)
            else:  # 3 x (heads, width, N, B) -> (heads, width, N, B)
                q, k, v = qkv.view(3, heads, width, N, B).unbind(0)
                q = q * width**-0.5
                scores = (q[:, :, :, None] * k[:, :, None]).sum(1)
                attn = scores.softmax(2)  # (heads, N, N, B)
                y = (attn[:, None] * v[:, :, None]).sum(3)
            y = F.linear(
                y.reshape(C, N * B).t(), self.proj.weight.float(),
                None if self.proj.bias is None else self.proj.bias.float())
        return y.view(N, B, C).transpose(0, 1).to(x.dtype)


class JointGroupNorm(nn.GroupNorm):
    """The CJI's GroupNorm (one group per channel, every channel normalised
    over the joints of its frame; same parameters, state dict and
    arithmetic) on channels-last (frames, channels, 1, joints) input. In CPU
    inference (eval mode, no autograd, not traced, fp32 or bf16) it runs the
    ``mmcrossformer::token_instance_norm`` kernel of :mod:`mmcrossformer.ops`
    on the (frames, joints, channels) memory of that input: PyTorch's
    GroupNorm kernel is several times slower on this layout
    (``docs/benchmark.md``). bf16 input is normalised in fp32 and returned
    in bf16 (the convolution after it takes bf16). Otherwise (training,
    GPUs, ONNX export, fp64) it is ``nn.GroupNorm``.
    """

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, 1, N) -> (B, C, 1, N)."""
        if not cpu_inference(self, x, (torch.float32, torch.bfloat16)):
            return super().forward(x)
        if not ops.HAS_KERNELS:
            if not torch.compiler.is_compiling():
                ops.warn_not_built()
            with torch.autocast(x.device.type, enabled=False):
                return super().forward(x.float()).to(x.dtype)
        # channels-last (B, C, 1, N) is the memory of a (B, N, C) tensor
        y = torch.ops.mmcrossformer.token_instance_norm(
            x.squeeze(2).transpose(1, 2), self.weight.float(),
            self.bias.float(), self.eps)
        return y.transpose(1, 2).unsqueeze(2)


class RowLayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` (same parameters, state dict and arithmetic) over
    the narrow tokens of the spatial encoder (32 channels). In eager CPU
    inference (eval mode, no autograd, not traced or compiled, fp32) it
    runs the ``mmcrossformer::row_layer_norm`` kernel of
    :mod:`mmcrossformer.ops`: PyTorch's LayerNorm kernel spends most of
    its time per row on rows this short (``docs/benchmark.md``). Otherwise
    (training, GPUs, ONNX export, ``torch.compile``, which fuses it, other
    dtypes) it is ``nn.LayerNorm``."""

    def forward(self, x: Tensor) -> Tensor:
        if not (cpu_inference(self, x, (torch.float32, )) and ops.HAS_KERNELS)\
                or torch.compiler.is_compiling():
            return super().forward(x)
        return torch.ops.mmcrossformer.row_layer_norm(x, self.weight,
                                                      self.bias, self.eps)


def use_spatial_kernels_(backbone: nn.Module) -> nn.Module:
    """Run the spatial encoder of a CrossFormer ``backbone`` (its
    ``spatial_blocks`` and ``spatial_norm``) through the CPU kernels of
    :mod:`mmcrossformer.ops` in inference, in place (same parameters, state
    dict and training arithmetic): its attention a
    :class:`TokenMajorAttention`, its CJI's GroupNorm over the joints a
    :class:`JointGroupNorm`, its LayerNorms (with weight and bias)
    :class:`RowLayerNorm`. The temporal encoder's attention (81 tokens, 68
    channels per head) stays with the fused kernel."""
    norms = [getattr(backbone, 'spatial_norm', None)] + [
        getattr(block, name, None)
        for block in getattr(backbone, 'spatial_blocks', ())
        for name in ('norm1', 'norm2', 'norm3')
    ]
    for norm in norms:
        if type(norm) is nn.LayerNorm and norm.weight is not None and \
                norm.bias is not None and len(norm.normalized_shape) == 1:
            norm.__class__ = RowLayerNorm
    for block in getattr(backbone, 'spatial_blocks', ()):
        if isinstance(block.attn, Attention):
            block.attn.__class__ = TokenMajorAttention
        norm = getattr(block.interaction, 'norm', None)
        if isinstance(block.interaction, CrossJointInteraction) and \
                block.interaction.norm_over_joints and \
                type(norm) in (nn.GroupNorm, FP32GroupNorm) and norm.affine:
            norm.__class__ = JointGroupNorm
    return backbone


def use_pytorch_spatial_kernels_(module: nn.Module) -> nn.Module:
    """Make every :class:`TokenMajorAttention` of ``module`` an
    :class:`Attention` again (PyTorch's fused kernel), every
    :class:`JointGroupNorm` an ``nn.GroupNorm`` and every
    :class:`RowLayerNorm` an ``nn.LayerNorm``, in place; undoes
    :func:`use_spatial_kernels_`."""
    for m in module.modules():
        if isinstance(m, TokenMajorAttention):
            m.__class__ = Attention
        elif isinstance(m, JointGroupNorm):
            m.__class__ = nn.GroupNorm
        elif isinstance(m, RowLayerNorm):
            m.__class__ = nn.LayerNorm
    return module


class CompiledCPUCrossFormer(CrossFormer):
    """A :class:`~mmcrossformer.models.backbones.CrossFormer` whose CPU
    inference (eval mode, no autograd) encodes through ``torch.compile``
    (:func:`compile_cpu_inference_`); everything else is the eager backbone.

    Batches are encoded in chunks of
    :func:`~mmcrossformer.models.backbones.crossformer.chunk_samples`
    windows, the last one padded with copies of its last window (every
    window is encoded on its own), so the code is compiled once, for one
    shape; its first call compiles (10-35 s on 2 cores).
    """

    def encode_in_chunks(self, x: Tensor) -> Tensor:
        if x.device.type != 'cpu' or self.training or len(x) == 0 or \
                torch.is_grad_enabled() or torch.jit.is_tracing() or \
                torch.compiler.is_compiling():
            return super().encode_in_chunks(x)
        n = chunk_samples(x.shape[1])
        # pad with copies of the last window to whole chunks; always a new
        # tensor (a view of a tensor made outside inference_mode would
        # compile apart from one made inside it)
        padded = torch.cat([x, x[-1:].expand(-len(x) % n, -1, -1, -1)])
        y = torch.cat([
            self._compiled_encode(self, part) for part in padded.split(n)
        ])
        return y[:len(x)]


def compile_cpu_inference_(model: nn.Module) -> nn.Module:
    """Make the CPU inference of every CrossFormer backbone of ``model``
    compiled, in place (same parameters and state dict; within 1e-5 of the
    eager backbone): its spatial encoder through the CPU kernels
    (:func:`use_spatial_kernels_`), the backbone a
    :class:`CompiledCPUCrossFormer` (training runs eager).
    Weights are read at every call (no freezing), so checkpoints loaded
    afterwards are used.
    ``tools/test.py`` does this on the CPU (``--compile``)."""
    for m in model.modules():
        if type(m) is CrossFormer:
            use_spatial_kernels_(m)
            m.__class__ = CompiledCPUCrossFormer
            # compiled at its first call
            m._compiled_encode = torch.compile(
                CrossFormer.encode, dynamic=False)
    return model


def onednn_available(device: Union[str, torch.device] = 'cpu') -> bool:
    """Whether :class:`OneDNNLinear` can run on ``device``."""
    return torch.device(device).type == 'cpu' and \
        torch.backends.mkldnn.is_available() and \
        hasattr(torch.ops.mkldnn, '_linear_pointwise')


def use_onednn_linear_(module: nn.Module) -> nn.Module:
    """Replace every ``nn.Linear`` of ``module`` by :class:`OneDNNLinear`,
    in place, folding ``GELU`` (exact) into the preceding linear layer of
    each MLP (modules with ``fc1``, ``act``, ``fc2``)."""
    for m in list(module.modules()):
        if isinstance(getattr(m, 'fc1', None), nn.Linear) and isinstance(
                getattr(m, 'act', None), nn.GELU) and \
                m.act.approximate == 'none':
            m.fc1 = OneDNNLinear(m.fc1, gelu=True)
            m.act = nn.Identity()
    for m in list(module.modules()):
        for name, child in list(m.named_children()):
            if isinstance(child, nn.Linear):  # OneDNNEvalLinear included
                setattr(m, name,
                        OneDNNLinear(child, gelu=getattr(child, 'gelu',
                                                         False)))
    return module


def build_fast_lifter(model: nn.Module,
                      dtype: str = 'fp32',
                      compile: bool = False,
                      freeze: bool = True,
                      device: Optional[Union[str, torch.device]] = None,
                      copy_model: bool = True,
                      onednn: Optional[bool] = None,
                      spatial_kernels: Optional[bool] = None,
                      chunk: Optional[bool] = None
                      ) -> Callable[[Tensor], Tensor]:
    """A function (B, F, J, C) float32 keypoints -> (B, J, 3) float32 pose;
    it raises a ValueError naming the first NaN or infinite keypoint.

    Args:
        model: A ``PoseLifter`` (or anything with ``backbone`` and ``head``).
        dtype: ``'fp32'`` or ``'bf16'``.
        compile: Wrap the forward in ``torch.compile`` (compiled on the first
            call, once per input shape: ``dynamic=False``).
        freeze: With ``compile``, let inductor treat the weights as
            constants (``torch._inductor.config.freezing``).
        device: Where to run; by default where the model is.
        copy_model: Work on a copy (the bf16 path casts weights).
        onednn: Run the linear layers through :class:`OneDNNLinear`; by
            default where it is available (the CPU).
        spatial_kernels: Run the spatial encoder's attention and CJI
            GroupNorm through the CPU kernels (:func:`use_spatial_kernels_`);
            by default on the CPU. With ``False`` the model's own modules
            run.
        chunk: Run batches in chunks of
            :func:`~mmcrossformer.models.backbones.crossformer.chunk_samples`
            windows (every sample is computed on its own: same results,
            and faster on the CPU, where it is the default; compiled code
            is compiled for the chunk's shape); eager, with several torch
            threads, on single-threaded workers, one per thread
            (:func:`~mmcrossformer.runtime.cpu_workers.map_windows`).
            With ``False`` the lifter passes batches whole; eager, a
            backbone built with ``fast_inference`` still encodes them in
            its own chunks.
    """
    if dtype not in DTYPES:
        raise ValueError(f'dtype must be one of {tuple(DTYPES)}, got '
                         f'{dtype!r}')
    net = LiftingForward(
        copy.deepcopy(model) if copy_model else model,
        fp32_head=dtype != 'fp32')
    if device is None:
        device = next(net.parameters()).device
    device = torch.device(device)
    net = net.to(device).eval().requires_grad_(False)
    if onednn is None:
        onednn = onednn_available(device)
    if onednn:
        use_onednn_linear_(net)
    if spatial_kernels is None:
        spatial_kernels = device.type == 'cpu'
    if spatial_kernels:
        use_spatial_kernels_(net.backbone)
    if dtype == 'bf16':
        cast_matmul_weights_(net.backbone, torch.bfloat16)
        if device.type == 'cpu':
            fp32_norm_and_attention_(net)

    def forward(keypoints: Tensor) -> Tensor:
        if dtype == 'bf16':
            ctx = torch.autocast(device.type, dtype=torch.bfloat16)
        else:
            ctx = contextlib.nullcontext()
        with ctx:
            return net(keypoints).float()

    fn = forward
    if compile:
        options = {'freezing': True} if freeze else None
        fn = torch.compile(forward, dynamic=False, options=options)

    if chunk is None:
        chunk = device.type == 'cpu'

    def run(keypoints: Tensor) -> Tensor:
        # compiled or traced code cannot raise on values: refuse them here
        check_finite_keypoints(keypoints)
        keypoints = keypoints.to(device, torch.float32)
        with torch.inference_mode():
            # a malformed input goes whole to the model, which names the
            # problem
            if not chunk or keypoints.ndim < 2:
                return fn(keypoints)
            frames = keypoints.shape[1]
            if compile:  # compiled code uses all threads itself
                return in_chunks(fn, keypoints, chunk_samples(frames))
            return map_windows(fn, keypoints, lambda: chunk_samples(frames))

    run.net = net  # type: ignore[attr-defined]
    return run


__all__ = [
    'LiftingForward', 'OneDNNLinear', 'OneDNNEvalLinear', 'OneDNNTrainLinear',
    'use_onednn_eval_linear_', 'use_plain_inference_', 'FP32GroupNorm',
    'onednn_available', 'onednn_linear', 'use_onednn_linear_',
    'use_onednn_train_linear_', 'fp32_norm_and_attention_', 'bf16_supported',
    'cast_matmul_weights_', 'TokenMajorAttention',
    'use_spatial_kernels_', 'use_pytorch_spatial_kernels_', 'JointGroupNorm',
    'RowLayerNorm',
    'CompiledCPUCrossFormer',
    'compile_cpu_inference_', 'build_fast_lifter'
]
