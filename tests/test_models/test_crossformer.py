"""CrossFormer backbone, CJI / CFI layers and head: behaviour, not just runs."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch.utils._python_dispatch import TorchDispatchMode

from mmcrossformer.models import (CrossFormer, CrossFrameInteraction,
                                  CrossJointInteraction, flip_pose)
from mmcrossformer.models.inputs import check_finite_keypoints
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample

from ..helpers import REPO

H36M_FLIP = parse_pose_metainfo(
    dict(from_file='configs/_base_/datasets/h36m.py'))['flip_indices']


def lifter_cfg(num_frames: int, num_joints: int = 17, **backbone) -> dict:
    """The model of configs/crossformer_h36m_*f.py for any F and J."""
    cfg = copy.deepcopy(
        Config.fromfile(REPO / 'configs/crossformer_h36m_9f.py').model)
    cfg.backbone.update(num_frames=num_frames, num_joints=num_joints,
                        **backbone)
    cfg.head.update(num_frames=num_frames, num_joints=num_joints,
                    in_channels=num_joints * cfg.backbone.embed_dim)
    return cfg


def build_lifter(num_frames: int, num_joints: int = 17, **backbone):
    model = MODELS.build(lifter_cfg(num_frames, num_joints, **backbone))
    model.init_weights()
    return model


@pytest.mark.parametrize('num_frames', [1, 9, 27, 81, 243])
@pytest.mark.parametrize('num_joints', [16, 17])
def test_output_shapes(num_frames, num_joints):
    model = build_lifter(num_frames, num_joints).eval()
    x = torch.randn(2, num_frames, num_joints, 2)
    with torch.no_grad():
        feats = model.backbone(x)
        out = model(x, None, mode='tensor')
    assert feats[0].shape == (2, num_frames, num_joints * 32)
    assert out.shape == (2, num_joints, 3)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize('options', [
    dict(),
    dict(cfi_kernel='bilinear', cji_groups=32, cji_norm_over_joints=False),
    dict(layer_scale_init=1e-5, interaction_residual=True,
         temporal_pos_embed='shared', qkv_bias=False),
])
def test_every_parameter_receives_a_gradient(options):
    model = build_lifter(9, **options).train()
    x = torch.randn(4, 9, 17, 2)
    model(x, None, mode='tensor').square().sum().backward()
    # the weighted mean's bias shifts all features alike, which the head's
    # LayerNorm removes: its gradient is zero up to rounding (it is kept for
    # the released checkpoints, which carry it)
    shift = 'head.weighted_mean.bias'
    grads = dict(model.named_parameters())
    assert grads[shift].grad.abs().max() < 1e-4
    no_grad = [n for n, p in grads.items()
               if n != shift and (p.grad is None or not p.grad.abs().sum() > 0)]
    assert no_grad == []


def test_input_with_confidence_channel():
    model = build_lifter(9, in_channels=3).eval()
    out = model(torch.rand(2, 9, 17, 3), None, mode='tensor')
    assert out.shape == (2, 17, 3)


def _changed_joints(module, x, joint):
    y = module(x)
    x2 = x.clone()
    x2[:, joint] += torch.randn_like(x2[:, joint])
    diff = (module(x2) - y).abs().amax(dim=(0, 2))
    return set(torch.nonzero(diff > 1e-6).flatten().tolist())


@pytest.mark.parametrize('groups', [1, 32])
def test_cji_is_local(groups):
    torch.manual_seed(0)
    cji = CrossJointInteraction(
        32, kernel_size=5, groups=groups, norm_over_joints=False).eval()
    x = torch.randn(3, 17, 32)
    for joint in (0, 8, 16):
        # two kernel-5 convolutions: reach 2 + 2 joints to each side
        within = {j for j in range(17) if abs(j - joint) <= 4}
        assert _changed_joints(cji, x, joint) == within


def test_cji_released_norm_couples_joints_only_through_statistics():
    torch.manual_seed(0)
    cji = CrossJointInteraction(32, norm_over_joints=True).eval()
    x = torch.randn(3, 17, 32)
    assert _changed_joints(cji, x, 0) == set(range(17))
    # with the normalisation replaced by the identity the reach is local
    cji.norm = torch.nn.Identity()
    assert _changed_joints(cji, x, 0) == {0, 1, 2, 3, 4}


def test_cji_matches_eq5_by_hand():
    """CONV(GN(GELU(CONV(Z)))) with 1x1 kernels and a single channel."""
    cji = CrossJointInteraction(1, kernel_size=1, residual=True)
    with torch.no_grad():
        cji.conv1.weight.fill_(2.)
        cji.conv1.bias.fill_(0.5)
        cji.conv2.weight.fill_(3.)
        cji.conv2.bias.fill_(-1.)
    z = torch.tensor([[[0.], [1.], [2.]]])  # (1, J=3, D=1)
    h = torch.nn.functional.gelu(2 * z + 0.5)
    gn = (h - h.mean()) / torch.sqrt(h.var(unbiased=False) + 1e-5)
    torch.testing.assert_close(cji(z), 3 * gn - 1 + z)


def _randomised_cfi(num_frames: int, groups: int, kernel: str,
                    seed: int = 0) -> CrossFrameInteraction:
    """A CFI whose every weight (GroupNorm affine included) is random."""
    torch.manual_seed(seed)
    cfi = CrossFrameInteraction(num_frames, groups=groups, kernel=kernel)
    with torch.no_grad():
        for p in cfi.parameters():
            p.copy_(torch.randn_like(p) * 0.5)
    return cfi


def _conv1d_k3(x: np.ndarray, weight: np.ndarray, groups: int) -> np.ndarray:
    """Conv1d, kernel 3, zero padding 1, no bias, as explicit sums:
    x (B, Cin, W), weight (Cout, Cin / groups, 3) -> (B, Cout, W)."""
    B, c_in, W = x.shape
    c_out = weight.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1)))
    taps = np.stack([xp[..., k:k + W] for k in range(3)], -1)  # B, Cin, W, 3
    out = np.zeros((B, c_out, W))
    per_in, per_out = c_in // groups, c_out // groups
    for o in range(c_out):
        g = o // per_out
        for i in range(per_in):
            out[:, o] += (taps[:, g * per_in + i] * weight[o, i]).sum(-1)
    return out


def _cfi_reference(cfi: CrossFrameInteraction, x: torch.Tensor) -> np.ndarray:
    """Eq. 7-9 in float64 numpy from the module's weights only (none of its
    convolutions, norms or forward): every sample on its own. Without the
    GroupNorm when the module's norm was removed."""
    xs = x.double().numpy()
    B, F, W = xs.shape
    G = cfi.groups
    w_tpg = cfi.theta_phi_g.weight.detach().double().numpy()
    w_out = cfi.conv.weight.detach().double().numpy()
    out = np.zeros_like(xs)
    for b in range(B):  # a kernel that mixes samples cannot match this
        tpg = _conv1d_k3(xs[b:b + 1], w_tpg, 1)[0]
        theta, phi, g = tpg[:F], tpg[F:2 * F], tpg[2 * F:]
        if cfi.kernel == 'compact':
            y = np.zeros((F, W))
            per = F // G
            for gi in range(G):
                rows = slice(gi * per, (gi + 1) * per)
                y[rows] = theta[rows] * (phi[rows] * g[rows]).sum()
        else:  # Eq. 8: C = theta phi^T / (J*D), applied to g
            y = (theta @ phi.T / W) @ g
        z = _conv1d_k3(y[None], w_out, G)[0]
        if not isinstance(cfi.norm, torch.nn.GroupNorm):
            out[b] = z
            continue
        for gi in range(G):  # GroupNorm: G groups of F / G frames
            rows = slice(gi * (F // G), (gi + 1) * (F // G))
            mu, var = z[rows].mean(), z[rows].var()
            z[rows] = (z[rows] - mu) / np.sqrt(var + cfi.norm.eps)
        gamma = cfi.norm.weight.detach().double().numpy()[:, None]
        out[b] = z * gamma + cfi.norm.bias.detach().double().numpy()[:, None]
    return out


@pytest.mark.parametrize('with_norm', [True, False])
@pytest.mark.parametrize('kernel', ['compact', 'bilinear'])
@pytest.mark.parametrize('num_frames,groups', [(9, 3), (6, 2), (4, 1)])
def test_cfi_matches_an_independent_computation(kernel, num_frames, groups,
                                                with_norm):
    """Several samples (B=3) and frame groups, against Eq. 7-9 written with
    explicit sums from the weights: a kernel that mixes samples of the batch
    or frame groups, or that skips a term, fails. The GroupNorm divides out
    the compact kernel's per-group scalar (all but its sign), so the kernel
    is also checked with the norm removed."""
    cfi = _randomised_cfi(num_frames, groups, kernel)
    assert cfi.groups == groups
    if not with_norm:
        cfi.norm = torch.nn.Identity()
    x = torch.randn(3, num_frames, 12)
    with torch.no_grad():
        got = cfi(x).double().numpy()
    np.testing.assert_allclose(got, _cfi_reference(cfi, x), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize('kernel,reach', [
    ('compact', {3, 4, 5}),  # the frame group of frame 4
    ('bilinear', set(range(9))),  # Eq. 8: every frame
])
def test_cfi_kernel_alone_mixes_frames(kernel, reach):
    """With theta/phi/g and the output convolution made frame-wise and the
    GroupNorm removed, only the interaction kernel can carry a change of
    frame 4 to other frames: within its group (compact) or to all frames
    (bilinear), and never to another sample."""
    cfi = _randomised_cfi(9, 3, kernel)
    with torch.no_grad():
        frame_in = torch.arange(27) % 9
        cfi.theta_phi_g.weight[frame_in[:, None] != torch.arange(9)] = 0
        per_group = torch.arange(9) % 3
        cfi.conv.weight[per_group[:, None] != torch.arange(3)] = 0
    cfi.norm = torch.nn.Identity()
    x = torch.randn(2, 9, 12)
    x2 = x.clone()
    x2[1, 4] += 1
    with torch.no_grad():
        diff = (cfi(x2) - cfi(x)).abs().amax(dim=2)
    assert torch.all(diff[0] == 0), 'a change in sample 1 reached sample 0'
    assert set(torch.nonzero(diff[1] > 1e-6).flatten().tolist()) == reach


def test_cfi_groups_fall_back_for_frame_counts_not_divisible():
    assert CrossFrameInteraction(1, groups=3).groups == 1
    assert CrossFrameInteraction(81, groups=3).groups == 3


def test_poseformer_switches_remove_cji_and_cfi():
    backbone = CrossFormer(num_frames=9, use_cji=False, use_cfi=False)
    names = [n for n, _ in backbone.named_modules()]
    assert not any('interaction' in n for n in names)
    with pytest.raises(ValueError, match='temporal_pos_embed'):
        CrossFormer(num_frames=9, temporal_pos_embed='learned')


def test_bad_inputs_name_the_problem():
    backbone = CrossFormer(num_frames=9)
    with pytest.raises(ValueError, match='joints: got 16, the config '
                       'expects 17'):
        backbone(torch.zeros(1, 9, 16, 2))
    with pytest.raises(ValueError, match='frames: got 27'):
        backbone(torch.zeros(1, 27, 17, 2))
    with pytest.raises(ValueError, match=r'\(B, 9, 17, 2\)'):
        backbone(torch.zeros(9, 17, 2))
    with pytest.raises(TypeError, match='floating-point'):
        backbone(torch.zeros(1, 9, 17, 2, dtype=torch.long))


def _samples(n):
    return [
        PoseDataSample(metainfo=dict(flip_indices=H36M_FLIP))
        for _ in range(n)
    ]


def _predict(model, x):
    out = model(x.clone(), _samples(len(x)), mode='predict')
    return torch.stack(
        [torch.as_tensor(s.pred_instances.keypoints).reshape(17, 3)
         for s in out])


def test_flip_test_averaging_is_equivariant():
    torch.manual_seed(0)
    model = build_lifter(9).eval()
    assert model.test_cfg['flip_test']
    x = torch.randn(3, 9, 17, 2)
    x_flip = x[:, :, H36M_FLIP].clone()
    x_flip[..., 0] *= -1
    with torch.no_grad():
        pred = _predict(model, x)
        pred_flip = _predict(model, x_flip)
        plain = model(x, None, mode='tensor')
    torch.testing.assert_close(pred_flip, flip_pose(pred, H36M_FLIP),
                               rtol=1e-4, atol=1e-5)
    assert not torch.allclose(pred, plain, atol=1e-4), \
        'flip averaging must change the prediction of an untrained model'


def test_head_loss_is_mpjpe():
    model = build_lifter(1).eval()
    x = torch.randn(2, 1, 17, 2)
    samples = _samples(2)
    target = torch.randn(2, 17, 3)
    for s, t in zip(samples, target):
        s.gt_instance_labels = InstanceData(
            lifting_target_label=t[None],
            lifting_target_weight=torch.ones(1, 17))
    losses = model(x, samples, mode='loss')
    pred = model(x, None, mode='tensor')
    expected = (pred - target).norm(dim=-1).mean()
    torch.testing.assert_close(losses['loss_pose3d'], expected)


def test_causal_flag_reaches_pose_lifter():
    assert build_lifter(9, causal=True).causal
    assert not build_lifter(9).causal


def test_train_mode_is_stochastic_eval_mode_deterministic():
    torch.manual_seed(0)
    model = build_lifter(9, drop_path_rate=0.5, drop_rate=0.1)
    x = torch.randn(4, 9, 17, 2)
    model.train()
    assert not torch.equal(model(x, None, mode='tensor'),
                           model(x, None, mode='tensor'))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(x, None, mode='tensor'),
                           model(x, None, mode='tensor'))


def test_bfloat16_matches_float32():
    torch.manual_seed(0)
    model = build_lifter(27).eval()
    x = torch.randn(4, 27, 17, 2)
    with torch.no_grad():
        ref = model(x, None, mode='tensor')
        with torch.autocast('cpu', dtype=torch.bfloat16):
            auto = model(x, None, mode='tensor')
        pure = model.to(torch.bfloat16)(x.bfloat16(), None, mode='tensor')
    for out in (auto, pure):
        assert out.dtype == torch.bfloat16
        rel = (out.float() - ref).norm() / ref.norm()
        assert rel < 0.05, rel


class _CountOps(TorchDispatchMode):
    """Counts the aten ops that run under it, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        self.counts[name] = self.counts.get(name, 0) + 1
        return func(*args, **(kwargs or {}))


def test_training_step_reads_no_values_from_the_device():
    """The model's own input check looks at shape and dtype only: a
    training step holds no device-to-host sync (``_local_scalar_dense`` is
    the op behind ``bool(tensor)`` / ``.item()``) and no finiteness test."""
    torch.manual_seed(0)
    model = build_lifter(9).train()
    x = torch.randn(2, 9, 17, 2)
    x[1, 4, 7, 0] = float('nan')  # values are not the model's business
    with _CountOps() as ops:
        model.backbone(x)[0].sum().backward()
    assert sum(ops.counts.values()) > 100  # the mode saw the step
    assert ops.counts.get('_local_scalar_dense', 0) == 0, ops.counts
    assert ops.counts.get('isfinite', 0) == 0, ops.counts


def test_non_finite_keypoints_are_named_where_user_data_enters():
    x = torch.zeros(2, 9, 17, 2)
    x[1, 4, 7, 0] = float('nan')
    x[1, 5, 0, 1] = float('inf')
    with pytest.raises(ValueError, match=r'^keypoints: 2 NaN or infinite'
                       r' value\(s\), the first at sample 1, frame 4, '
                       r'joint 7, channel 0; fill or drop'):
        check_finite_keypoints(x)
    with pytest.raises(ValueError, match='the first at frame 4, joint 7'):
        check_finite_keypoints(x[1].numpy(), 'sequence 3',
                               ('frame', 'joint', 'channel'))
    check_finite_keypoints(torch.zeros(2, 9, 17, 2))
    check_finite_keypoints(np.zeros((9, 17, 2)))


def test_attention_fp32_products_option(monkeypatch):
    """``fp32_products`` runs the attention products in float32 under a bf16
    autocast, and changes nothing in float32."""
    from mmcrossformer.models.backbones import crossformer as cf
    torch.manual_seed(0)
    attn = cf.Attention(16, 4).eval()
    x = torch.randn(2, 5, 16)
    with torch.no_grad():
        plain = attn(x)
        attn.fp32_products = True
        torch.testing.assert_close(attn(x), plain, rtol=0, atol=0)

    seen = []
    sdpa = cf.F.scaled_dot_product_attention

    def spy(q, k, v, **kwargs):
        seen.append(q.dtype)
        return sdpa(q, k, v, **kwargs)

    monkeypatch.setattr(cf.F, 'scaled_dot_product_attention', spy)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        for fp32 in (False, True):
            attn.fp32_products = fp32
            attn(x)
    assert seen == [torch.bfloat16, torch.float32]


def test_attention_splits_batches_over_the_cuda_grid_limit(monkeypatch):
    """Fused attention takes at most ``MAX_ATTENTION_BATCH`` sequences per
    call (CUDA's kernels fail with "invalid argument" beyond 65535, e.g. 1024
    windows of 81 frames in the spatial encoder); the chunked result is the
    one-call result, gradients included."""
    from mmcrossformer.models.backbones import crossformer as cf
    assert cf.MAX_ATTENTION_BATCH == 65535
    torch.manual_seed(0)
    attn = cf.Attention(16, 4)
    x = torch.randn(7, 5, 16, requires_grad=True)
    whole = attn(x)
    grad_whole, = torch.autograd.grad(whole.square().sum(), x)

    batches = []
    sdpa = cf.F.scaled_dot_product_attention

    def spy(q, k, v, **kwargs):
        batches.append(q.shape[0])
        return sdpa(q, k, v, **kwargs)

    monkeypatch.setattr(cf.F, 'scaled_dot_product_attention', spy)
    monkeypatch.setattr(cf, 'MAX_ATTENTION_BATCH', 3)
    chunked = attn(x)
    grad_chunked, = torch.autograd.grad(chunked.square().sum(), x)
    assert batches == [3, 3, 1]
    torch.testing.assert_close(chunked, whole, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(grad_chunked, grad_whole, rtol=1e-6,
                               atol=1e-6)
