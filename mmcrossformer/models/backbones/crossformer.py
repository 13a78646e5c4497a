# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
# Over 400 lines: the backbone's layers stay in one file, to read beside the
# paper.
"""CrossFormer backbone (Hassanin et al., "CrossFormer: Cross Spatio-Temporal
Transformer for 3D Human Pose Estimation").

Read it beside the paper:

* :class:`CrossJointInteraction` -- CJI, section 3.2, Eq. 5-6.
* :class:`CrossFrameInteraction` -- CFI, section 3.3, Eq. 7-9.
* :class:`CrossFormerBlock` -- one encoder layer: attention -> CJI/CFI -> MLP.
* :class:`CrossFormer` -- spatial encoder (joints are tokens) followed by the
  temporal encoder (frames are tokens), Fig. 2.

The regression head (section 3.4) is
:class:`mmcrossformer.models.heads.CrossFormerHead`.

Shapes use B (batch), F (frames), J (joints), C (input channels: 2, or 3 with
detector confidence), D (spatial embedding, 32 in the paper) and J*D (temporal
embedding, 544 for 17 joints).
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmpose.registry import MODELS


class DropPath(nn.Module):
    """Stochastic depth: drop the whole residual branch of a sample."""

    def __init__(self, drop_prob: float = 0.) -> None:
        super().__init__()
        self.drop_prob = drop_prob

    def forward(self, x: Tensor) -> Tensor:
        if self.drop_prob == 0. or not self.training:
            return x
        keep = 1. - self.drop_prob
        mask = x.new_empty((x.shape[0], ) + (1, ) * (x.ndim - 1))
        return x * mask.bernoulli_(keep) / keep

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


#: Most sequences one fused attention call takes: CUDA's kernels put the
#: batch on a grid axis of at most 65535 blocks and fail with "invalid
#: argument" beyond (the spatial encoder runs B x F sequences: 809 windows
#: of 81 frames)
MAX_ATTENTION_BATCH = 65535

#: Frames (samples x window length) per CPU thread that one chunk of CPU
#: inference encodes (``fast_inference``): 8 windows of 81 frames per
#: thread. Encoding a batch of 64 such windows at once allocates
#: intermediates of up to 45 MB, which the allocator maps fresh from the OS
#: at every call (the first touch of each page faults) and which overflow
#: the caches; in chunks of this size the same work reuses warm memory
#: (same results; docs/benchmark.md: 1.13x at 1 thread on a 2-core CPU, no
#: change at 2 threads in that run)
INFERENCE_CHUNK_FRAMES = 648


def chunk_samples(num_frames: int,
                  chunk_frames: int = INFERENCE_CHUNK_FRAMES) -> int:
    """Windows of ``num_frames`` frames in one chunk of CPU inference: about
    ``chunk_frames`` frames per torch thread, at least one window."""
    return max(1, chunk_frames * torch.get_num_threads() // num_frames)


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor,
                                 dropout_p: float) -> Tensor:
    """:func:`torch.nn.functional.scaled_dot_product_attention` of
    (B, heads, N, d) queries, keys and values, in chunks of at most
    :data:`MAX_ATTENTION_BATCH` sequences."""
    if q.shape[0] <= MAX_ATTENTION_BATCH:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    return torch.cat([
        F.scaled_dot_product_attention(*qkv, dropout_p=dropout_p)
        for qkv in zip(*(t.split(MAX_ATTENTION_BATCH) for t in (q, k, v)))
    ])


class Attention(nn.Module):
    """Multi-head self-attention (Eq. 2-3), fused through
    :func:`scaled_dot_product_attention`.

    Args:
        dim (int): Token width.
        num_heads (int): Number of heads; ``dim`` must be divisible by it.
        qkv_bias (bool): Bias in the query/key/value projection.
        attn_drop (float): Dropout on the attention weights.
        proj_drop (float): Dropout after the output projection.
        fp32_products (bool): Compute the attention products (not the
            projections) in float32 even under a bf16/fp16 autocast; the
            bf16 runtime path sets it where that is faster.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 qkv_bias: bool = True,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 fp32_products: bool = False) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'Attention width {dim} is not divisible by '
                             f'num_heads={num_heads}.')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)
        self.fp32_products = fp32_products

    def forward(self, x: Tensor) -> Tensor:
        """(B, N, dim) -> (B, N, dim)."""
        B, N, C = x.shape
        q, k, v = self.qkv(x).reshape(B, N, 3, self.num_heads,
                                      C // self.num_heads).permute(
                                          2, 0, 3, 1, 4).unbind(0)
        dropout_p = self.attn_drop if self.training else 0.
        if self.fp32_products:
            with torch.autocast(x.device.type, enabled=False):
                x = scaled_dot_product_attention(q.float(), k.float(),
                                                 v.float(), dropout_p)
        else:
            x = scaled_dot_product_attention(q, k, v, dropout_p)
        x = x.transpose(1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(x))


class Mlp(nn.Module):
    """Two-layer perceptron with GELU."""

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class CrossJointInteraction(nn.Module):
    """Cross-Joint Interaction (CJI), Eq. 5: ``CONV(GN(GELU(CONV(Z))))``.

    Two 1D convolutions along the joint axis (kernel 5 in the paper) give
    every joint an explicit, local view of its neighbours in the joint order,
    which self-attention lacks.  The convolutions reach ``kernel_size - 1``
    joints to each side.  The released model's GroupNorm normalises every
    channel over all joints, so distant joints still meet through the
    normalisation statistics; with ``norm_over_joints=False`` every joint is
    normalised on its own (over its channels) and a joint's output depends
    only on the joints within reach.

    Args:
        dim (int): Per-joint feature width D.
        kernel_size (int): Odd convolution kernel along the joints.
        groups (int): Convolution groups: 1 for dense convolutions (the
            released model), ``dim`` for the depth-wise ones the paper names.
        norm_over_joints (bool): GroupNorm with one group per channel, over
            the joints (the released model); else a LayerNorm over the channels
            of each joint.
        residual (bool): Add the module input to its output (Eq. 5's ``+ Z``).
            The block that holds the module adds its own residual as well, so
            this doubles the skip path; the released model does it.
    """

    def __init__(self,
                 dim: int,
                 kernel_size: int = 5,
                 groups: int = 1,
                 norm_over_joints: bool = True,
                 residual: bool = False) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f'CJI kernel_size must be odd, got {kernel_size}')
        self.conv1 = nn.Conv1d(
            dim, dim, kernel_size, padding=kernel_size // 2, groups=groups)
        self.act = nn.GELU()
        self.norm_over_joints = norm_over_joints
        self.norm = nn.GroupNorm(dim, dim) if norm_over_joints else \
            nn.LayerNorm(dim)
        self.conv2 = nn.Conv1d(
            dim, dim, kernel_size, padding=kernel_size // 2, groups=groups)
        self.residual = residual

    def _conv(self, conv: nn.Conv1d, y: Tensor) -> Tensor:
        # a (1, k) 2D convolution over the channels-last view: no transposes
        return F.conv2d(y, conv.weight.unsqueeze(2), conv.bias,
                        padding=(0, conv.padding[0]), groups=conv.groups)

    def forward(self, x: Tensor) -> Tensor:
        """(B*F, J, D) -> (B*F, J, D)."""
        # (B*F, J, D) is the memory layout of a channels-last (B*F, D, 1, J)
        # image: the convolutions and the GroupNorm run on it in place of
        # transposed copies
        y = self.act(self._conv(self.conv1, x.transpose(1, 2).unsqueeze(2)))
        if self.norm_over_joints:
            y = self.norm(y)
        else:
            y = self.norm(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        y = self._conv(self.conv2, y).squeeze(2).transpose(1, 2)
        return x + y if self.residual else y


class CrossFrameInteraction(nn.Module):
    """Cross-Frame Interaction (CFI), Eq. 7-9.

    Every frame is a channel and the J*D features are the length of a 1D
    signal.  Three convolutions (kernel 3 along the features) give theta
    (query), phi (key) and g (value), each (B, F, J*D); a bilinear kernel
    mixes frames; a grouped convolution and GroupNorm map the result back.

    Two kernels:

    * ``'compact'`` (the released model; a compact generalized non-local
      block): the F frames are split into ``groups`` groups and within each
      group the scalar ``sum(phi * g)`` scales theta.
    * ``'bilinear'`` (Eq. 8 as written): the frame-by-frame correlation
      ``C = theta @ phi^T / (J*D)`` (F x F) is applied to g.

    Neither uses a softmax.

    Args:
        num_frames (int): Number of frames F: the channel count.
        groups (int): Frame groups of the compact kernel, of the output
            convolution and of the GroupNorm.  When F is not divisible by it
            (F = 1, say), ``gcd(F, groups)`` groups are used.
        kernel (str): ``'compact'`` or ``'bilinear'``.
        residual (bool): Add the module input to its output (the released
            model does, inside the block's own residual).
    """

    kernels = ('compact', 'bilinear')

    def __init__(self,
                 num_frames: int,
                 groups: int = 3,
                 kernel: str = 'compact',
                 residual: bool = False) -> None:
        super().__init__()
        if kernel not in self.kernels:
            raise ValueError(f'CFI kernel must be one of {self.kernels}, '
                             f'got {kernel!r}')
        self.groups = math.gcd(num_frames, groups)
        self.kernel = kernel
        # theta, phi and g in one convolution: (B, F, W) -> (B, 3F, W)
        self.theta_phi_g = nn.Conv1d(
            num_frames, 3 * num_frames, 3, padding=1, bias=False)
        self.conv = nn.Conv1d(
            num_frames,
            num_frames,
            3,
            padding=1,
            groups=self.groups,
            bias=False)
        self.norm = nn.GroupNorm(self.groups, num_frames)
        self.residual = residual

    def forward(self, x: Tensor) -> Tensor:
        """(B, F, J*D) -> (B, F, J*D)."""
        B, num_frames, W = x.shape
        theta, phi, g = self.theta_phi_g(x).chunk(3, dim=1)
        if self.kernel == 'compact':
            # one scalar per frame group: sum over its frames and features
            G = self.groups
            per_group = num_frames // G * W  # (explicit: B may be 0)
            att = (phi * g).reshape(B, G, per_group).sum(-1)  # (B, G)
            y = theta.reshape(B, G, per_group) * att[..., None]
            y = y.reshape(B, num_frames, W)
        else:
            corr = theta @ phi.transpose(1, 2) / W  # (B, F, F)
            y = corr @ g
        y = self.norm(self.conv(y))
        return x + y if self.residual else y


class CrossFormerBlock(nn.Module):
    """One encoder layer, Eq. 6 (spatial) and Eq. 9 (temporal)::

        x = x + DropPath(ls1 * MHA(LN(x)))
        x = x + DropPath(ls2 * Interaction(LN(x)))   # CJI or CFI, optional
        x = x + DropPath(ls3 * MLP(LN(x)))

    Args:
        dim (int): Token width.
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden width relative to ``dim``.
        qkv_bias (bool): Bias in the attention's qkv projection.
        interaction (nn.Module, optional): The CJI or CFI module, or ``None``
            for a plain transformer layer (PoseFormer).
        drop (float): Dropout after the attention projection and in the MLP.
        attn_drop (float): Dropout on the attention weights.
        drop_path (float): Stochastic depth rate of every residual branch.
        norm_eps (float): LayerNorm epsilon.
        layer_scale_init (float, optional): If set, each residual branch is
            multiplied by a learned per-channel scale initialised to this
            value (the released model uses 1e-5).
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float,
                 qkv_bias: bool,
                 interaction: Optional[nn.Module] = None,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 norm_eps: float = 1e-6,
                 layer_scale_init: Optional[float] = None) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias, attn_drop, drop)
        self.interaction = interaction
        if interaction is not None:
            self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.norm3 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        self.drop_path = DropPath(drop_path)
        num_scales = 3 if interaction is not None else 2
        self.layer_scales = nn.ParameterList([
            nn.Parameter(torch.full((dim, ), layer_scale_init))
            for _ in range(num_scales)
        ] if layer_scale_init is not None else [])

    def _add(self, branch: int, x: Tensor, y: Tensor) -> Tensor:
        """x + DropPath(layer_scale * y), one fused op when it can be."""
        if len(self.layer_scales) and (not self.training
                                       or self.drop_path.drop_prob == 0.):
            return torch.addcmul(x, self.layer_scales[branch], y)
        if len(self.layer_scales):
            y = self.layer_scales[branch] * y
        return x + self.drop_path(y)

    def forward(self, x: Tensor) -> Tensor:
        """(B, N, dim) -> (B, N, dim)."""
        x = self._add(0, x, self.attn(self.norm1(x)))
        if self.interaction is not None:
            x = self._add(1, x, self.interaction(self.norm2(x)))
        return self._add(-1, x, self.mlp(self.norm3(x)))


@MODELS.register_module()
class CrossFormer(BaseModule):
    """CrossFormer backbone: a spatial transformer with CJI over the joints
    of every frame, then a temporal transformer with CFI over the frames.

    With ``use_cji=False`` and ``use_cfi=False`` this is PoseFormer (Zheng et
    al., ICCV 2021), the paper's baseline.

    Args:
        num_frames (int): Window length F (any odd number; 9, 27, 81 in the
            paper).
        num_joints (int): Joints J per frame (17 for Human3.6M).
        in_channels (int): Channels C per joint: 2 for (x, y), 3 with the
            detector confidence.
        embed_dim (int): Spatial embedding width D; the temporal encoder
            works on J*D features.
        depth (int): Layers of each encoder.
        num_heads (int): Attention heads of both encoders.
        mlp_ratio (float): MLP hidden width relative to the token width.
        qkv_bias (bool): Bias in the attention qkv projections.
        drop_rate (float): Dropout after embeddings, projections and MLPs.
        attn_drop_rate (float): Dropout on attention weights.
        drop_path_rate (float): Stochastic depth, rising linearly over the
            layers of each encoder to this value.
        norm_eps (float): Epsilon of every LayerNorm.
        use_cji (bool): Cross-Joint Interaction in the spatial layers.
        cji_kernel_size (int): CJI convolution kernel along the joints.
        cji_groups (int): CJI convolution groups (1 dense, ``embed_dim``
            depth-wise).
        cji_norm_over_joints (bool): CJI's GroupNorm normalises each channel
            over the joints (released); ``False`` normalises each joint on its
            own, which keeps CJI strictly local.
        use_cfi (bool): Cross-Frame Interaction in the temporal layers.
        cfi_kernel (str): ``'compact'`` (released) or ``'bilinear'`` (Eq. 8).
        cfi_groups (int): CFI frame groups.
        interaction_residual (bool): CJI and CFI add their input to their
            output inside the block's residual branch (released model).
        layer_scale_init (float, optional): Learned per-channel scale of each
            residual branch, initialised to this value; ``None`` disables it.
        spatial_pos_embed (bool): Learned spatial (per-joint) positional
            embedding, E_s of Table 5.
        temporal_pos_embed (str): Temporal positional embedding, E_t of Table
            5: ``'per_frame'`` (one learned vector per frame), ``'shared'`` (one
            vector added to every frame, the released model) or ``'none'``.
        zero_input_frames (tuple[int, int], optional): Zero the 2D input of
            frames ``[start, stop)`` before the spatial encoder. A quirk of the
            released model (frames 10-15); leave ``None`` otherwise.
        causal (bool): The window ends at the target frame (online use)
            instead of being centred on it. The network is the same; the flag
            tells MMPose's datasets and inferencers how to cut windows.
        fast_inference (bool): When no gradient is recorded (testing,
            inference) on the CPU, run the fp32 linear layers through oneDNN
            with the MLP's GELU fused in
            (:class:`~mmcrossformer.runtime.fast_paths.OneDNNEvalLinear`:
            same parameters, within 1e-5 of the plain layers), the spatial
            attention token-major, the CJI's GroupNorm and the spatial
            LayerNorms through the kernels of :mod:`mmcrossformer.ops`
            (:func:`~mmcrossformer.runtime.fast_paths.use_spatial_kernels_`)
            and encode large batches in chunks of about
            :data:`INFERENCE_CHUNK_FRAMES` frames per thread, with several
            threads on single-threaded workers, one per thread (same
            results). Training and GPUs compute exactly as without it. The
            configs turn it on.
        inference_dtype (str): ``'fp32'``, or ``'bf16'`` to run the
            backbone in eval mode under bfloat16 autocast (matrix products
            in bf16; GroupNorm and attention products in fp32), returning
            fp32 features. Training is unaffected.
        init_cfg (dict | list[dict], optional): mmengine initialisation
            config. ``None`` or ``dict(type='PyTorchDefault')``: PyTorch's
            constructor initialisation with zero positional embeddings, as
            the released model was trained;
            :data:`mmcrossformer.models.weight_init.TRUNC_NORMAL_INIT` the
            timm ViT one.

    Inputs: (B, F, J, C) 2D keypoints, normalised to the screen as MMPose's
    ``VideoPoseLifting`` codec does.
    Outputs: a one-tuple with the temporal features (B, F, J*D).
    """

    temporal_pos_embeds = ('per_frame', 'shared', 'none')
    inference_dtypes = ('fp32', 'bf16')

    def __init__(self,
                 num_frames: int = 81,
                 num_joints: int = 17,
                 in_channels: int = 2,
                 embed_dim: int = 32,
                 depth: int = 4,
                 num_heads: int = 8,
                 mlp_ratio: float = 2.,
                 qkv_bias: bool = True,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.1,
                 norm_eps: float = 1e-6,
                 use_cji: bool = True,
                 cji_kernel_size: int = 5,
                 cji_groups: int = 1,
                 cji_norm_over_joints: bool = True,
                 use_cfi: bool = True,
                 cfi_kernel: str = 'compact',
                 cfi_groups: int = 3,
                 interaction_residual: bool = False,
                 layer_scale_init: Optional[float] = None,
                 spatial_pos_embed: bool = True,
                 temporal_pos_embed: str = 'per_frame',
                 zero_input_frames: Optional[Tuple[int, int]] = None,
                 causal: bool = False,
                 fast_inference: bool = False,
                 inference_dtype: str = 'fp32',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if temporal_pos_embed not in self.temporal_pos_embeds:
            raise ValueError('temporal_pos_embed must be one of '
                             f'{self.temporal_pos_embeds}, got '
                             f'{temporal_pos_embed!r}')
        self.num_frames = num_frames
        self.num_joints = num_joints
        self.in_channels = in_channels
        self.embed_dim = embed_dim
        self.out_channels = num_joints * embed_dim
        self.zero_input_frames = zero_input_frames
        self.causal = causal
        temporal_dim = self.out_channels

        # spatial encoder: joints are tokens
        self.spatial_embed = nn.Linear(in_channels, embed_dim)
        self.spatial_pos_embed = nn.Parameter(
            torch.zeros(1, num_joints, embed_dim)) if spatial_pos_embed else None
        # temporal encoder: frames are tokens of J*D features
        self.temporal_pos_embed = None
        if temporal_pos_embed != 'none':
            embed_frames = num_frames if temporal_pos_embed == 'per_frame' else 1
            self.temporal_pos_embed = nn.Parameter(
                torch.zeros(1, embed_frames, temporal_dim))
        self.pos_drop = nn.Dropout(drop_rate)

        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        common = dict(
            num_heads=num_heads,
            mlp_ratio=mlp_ratio,
            qkv_bias=qkv_bias,
            drop=drop_rate,
            attn_drop=attn_drop_rate,
            norm_eps=norm_eps,
            layer_scale_init=layer_scale_init)
        self.spatial_blocks = nn.ModuleList([
            CrossFormerBlock(
                embed_dim,
                interaction=CrossJointInteraction(
                    embed_dim, cji_kernel_size, cji_groups,
                    cji_norm_over_joints, interaction_residual)
                if use_cji else None,
                drop_path=dpr[i],
                **common) for i in range(depth)
        ])
        self.spatial_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.temporal_blocks = nn.ModuleList([
            CrossFormerBlock(
                temporal_dim,
                interaction=CrossFrameInteraction(
                    num_frames, cfi_groups, cfi_kernel, interaction_residual)
                if use_cfi else None,
                drop_path=dpr[i],
                **common) for i in range(depth)
        ])
        self.temporal_norm = nn.LayerNorm(temporal_dim, eps=norm_eps)

        # run-time options: the layers' arithmetic, not the architecture
        if inference_dtype not in self.inference_dtypes:
            raise ValueError('inference_dtype must be one of '
                             f'{self.inference_dtypes}, got '
                             f'{inference_dtype!r}')
        self.inference_dtype = inference_dtype
        self.chunk_frames = INFERENCE_CHUNK_FRAMES if fast_inference else 0
        if fast_inference or inference_dtype == 'bf16':
            from ...runtime import fast_paths
            if fast_inference:
                fast_paths.use_onednn_eval_linear_(self)
                fast_paths.use_spatial_kernels_(self)
            if inference_dtype == 'bf16':
                fast_paths.fp32_norm_and_attention_(self)

    def check_inputs(self, x: Tensor) -> None:
        """Raise a TypeError / ValueError that names what is wrong with the
        type, dtype or shape of an input. Values are not read (no
        device-to-host sync per step): NaN keypoints are refused where user
        data enters (inference APIs, fast and ONNX lifters, datasets) by
        :func:`~mmcrossformer.models.inputs.check_finite_keypoints`."""
        expected = (f'(B, {self.num_frames}, {self.num_joints}, '
                    f'{self.in_channels})')
        if not torch.is_tensor(x):
            raise TypeError(f'CrossFormer expects a tensor {expected}, got '
                            f'{type(x).__name__}')
        if not x.is_floating_point():
            raise TypeError(f'CrossFormer expects floating-point keypoints, '
                            f'got {x.dtype}')
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.num_frames,
                                                 self.num_joints,
                                                 self.in_channels):
            problem = ''
            if x.ndim == 4:
                names = ('frames', 'joints', 'channels per joint')
                wanted = (self.num_frames, self.num_joints, self.in_channels)
                problem = '; '.join(
                    f'{n}: got {g}, the config expects {w}'
                    for n, g, w in zip(names, x.shape[1:], wanted) if g != w)
            raise ValueError(f'CrossFormer expects 2D keypoints of shape '
                             f'{expected}, got {tuple(x.shape)}' +
                             (f' ({problem})' if problem else ''))

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        """(B, F, J, C) keypoints -> ((B, F, J*D) features, )."""
        self.check_inputs(x)
        if self.inference_dtype == 'bf16' and not self.training:
            with torch.autocast(x.device.type, dtype=torch.bfloat16):
                return (self.encode_in_chunks(x).float(), )
        return (self.encode_in_chunks(x), )

    def chunked_inference(self, x: Tensor) -> bool:
        """Whether ``x`` is encoded in chunks: CPU inference (no autograd,
        not traced or compiled) with ``chunk_frames`` set."""
        return bool(self.chunk_frames) and x.device.type == 'cpu' and not (
            torch.is_grad_enabled() or torch.jit.is_tracing()
            or torch.compiler.is_compiling())

    def encode_in_chunks(self, x: Tensor) -> Tensor:
        """:meth:`encode`, in :meth:`chunked_inference` in chunks of
        :func:`chunk_samples` windows (about ``chunk_frames`` frames per
        torch thread; every window is encoded on its own, so the result is
        the same), with several torch threads on single-threaded workers,
        one per thread, each encoding a share of the batch
        (:func:`mmcrossformer.runtime.cpu_workers.map_windows`)."""
        if not self.chunked_inference(x):
            return self.encode(x)
        from ...runtime.cpu_workers import map_windows
        frames = x.shape[1]
        return map_windows(self.encode, x,
                           lambda: chunk_samples(frames, self.chunk_frames))

    def encode(self, x: Tensor) -> Tensor:
        """(B, F, J, C) keypoints -> (B, F, J*D) features."""
        B, num_frames, num_joints, _ = x.shape
        if self.zero_input_frames is not None:
            start, stop = self.zero_input_frames
            x = x.clone()
            x[:, start:stop] = 0

        # spatial encoder, every frame on its own: (B*F, J, D)
        x = self.spatial_embed(
            x.reshape(B * num_frames, num_joints, self.in_channels))
        if self.spatial_pos_embed is not None:
            x = x + self.spatial_pos_embed
        x = self.pos_drop(x)
        for block in self.spatial_blocks:
            x = block(x)
        x = self.spatial_norm(x)

        # temporal encoder: (B, F, J*D)
        x = x.reshape(B, num_frames, self.out_channels)
        if self.temporal_pos_embed is not None:
            x = x + self.temporal_pos_embed
        x = self.pos_drop(x)
        for block in self.temporal_blocks:
            x = block(x)
        return self.temporal_norm(x)

