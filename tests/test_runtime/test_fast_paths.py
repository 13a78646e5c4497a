"""Fast paths: bf16, oneDNN linear layers and torch.compile give the
results of the plain model. Speed is measured by
tools/analysis_tools/benchmark.py, not here."""
import copy
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from torch import nn

from mmcrossformer.entrypoints.runner import cpp_compiler
from mmcrossformer.models.backbones.crossformer import (
    INFERENCE_CHUNK_FRAMES, Attention)
from mmcrossformer.runtime.onnx_export import export_onnx
from mmcrossformer.runtime.fast_paths import (CompiledCPUCrossFormer,
                                              JointGroupNorm, LiftingForward,
                                              OneDNNLinear,
                                              TokenMajorAttention,
                                              bf16_supported,
                                              build_fast_lifter,
                                              compile_cpu_inference_,
                                              fp32_norm_and_attention_,
                                              onednn_available,
                                              use_onednn_train_linear_,
                                              use_plain_inference_,
                                              use_spatial_kernels_)

from ..helpers import REPO
from .common import (assert_as_exact_as_plain, fp64_output, keypoints,
                     reference_output, small_model, spy_encode)

torch.set_num_threads(1)


def test_fp32_fast_path_is_exact():
    model = small_model()
    x = keypoints(4)
    expected = reference_output(model, x)
    exact = fp64_output(model, x)
    for onednn in (True, False):
        got = build_fast_lifter(model, 'fp32', onednn=onednn)(x)
        assert_as_exact_as_plain(got, expected, exact)


@pytest.mark.skipif(not onednn_available(), reason='no oneDNN on this build')
@pytest.mark.parametrize(
    'rows, in_features, out_features',
    [(21, 40, 24), (153, 32, 128), (9, 544, 2176), (1296, 544, 2176),
     (1296, 2176, 544)])
def test_onednn_linear_matches_linear(rows, in_features, out_features):
    """Small shapes and the model's own (spatial MLP of the 9-frame config,
    temporal MLP of a window and of a chunk of the 81-frame one): oneDNN
    picks its kernels, GELU post-op included, by shape and CPU."""
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    lin = torch.nn.Linear(in_features, out_features)
    x = torch.randn(1, rows, in_features, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(OneDNNLinear(lin)(x), lin(x))
        torch.testing.assert_close(
            OneDNNLinear(lin, gelu=True)(x),
            torch.nn.functional.gelu(lin(x)),
            rtol=1e-5,
            atol=1e-5)


@pytest.mark.skipif(not onednn_available(), reason='no oneDNN on this build')
def test_onednn_training_linear_same_gradients():
    """The oneDNN training path: same loss and gradients as nn.Linear, same
    parameters (state dict and optimiser untouched)."""
    model = small_model().train()
    fast = copy.deepcopy(model)
    names = set(dict(fast.named_parameters()))
    use_onednn_train_linear_(fast)
    assert set(dict(fast.named_parameters())) == names
    x = keypoints(3)
    target = torch.randn(3, 17, 3, generator=torch.Generator().manual_seed(2))
    for net in (model, fast):
        loss = (net(x, None, 'tensor') - target).norm(dim=-1).mean()
        loss.backward()
    for (name, p), q in zip(model.named_parameters(), fast.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6,
                                   msg=name)


def relative_error(got: torch.Tensor, expected: torch.Tensor) -> float:
    """Mean joint error of (B, J, 3) poses relative to the mean joint
    distance from the root."""
    return float((got - expected).norm(dim=-1).mean() /
                 expected.norm(dim=-1).mean())


@pytest.mark.skipif(
    not bf16_supported('cpu'), reason='no native bf16 on this CPU')
def test_bf16_close_to_fp32():
    model = small_model()
    x = keypoints(16)
    expected = reference_output(model, x)
    got = build_fast_lifter(model, 'bf16')(x)
    assert got.dtype == torch.float32
    # bf16 keeps 8 bits of mantissa: a few per cent of the output's scale
    assert relative_error(got, expected) < 0.03
    # the model itself is untouched (the fast path works on a copy)
    assert all(p.dtype == torch.float32 for p in model.parameters())


COMPILE_SCRIPT = textwrap.dedent('''
    import sys, torch
    sys.path.insert(0, {repo!r})
    torch.set_num_threads(1)
    import mmcrossformer
    from mmpose.utils import register_all_modules
    register_all_modules()
    from tests.test_runtime.common import (small_model, keypoints,
                                           reference_output)
    from mmcrossformer.runtime.fast_paths import build_fast_lifter
    model = small_model()
    x = keypoints(4)
    expected = reference_output(model, x)
    lifter = build_fast_lifter(model, 'fp32', compile=True)
    got = lifter(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    print('COMPILED-OK')
    x[2, 3, 5, 1] = float('nan')  # compiled code cannot raise on values
    try:
        lifter(x)
    except ValueError as e:
        assert 'sample 2, frame 3, joint 5, channel 1' in str(e), e
        print('NAN-REFUSED')
''')

#: the fresh process (imports, compilation, two calls) takes about one
#: CPU-minute; the limit leaves room for a machine shared with other jobs
#: (5.5 min of wall time measured on 2 cores shared by 6 busy processes)
COMPILE_TIMEOUT_S = 600
HAS_CXX = cpp_compiler() is not None  # what tools/test.py --compile checks


@pytest.mark.xfail(
    not HAS_CXX, strict=True,
    reason='torch.compile on the CPU (inductor) emits C++ and no C++ '
    'compiler is on PATH: the compiled figures of the README cannot be '
    'reproduced here')
def test_torch_compile_equivalence(tmp_path):
    """Compiled on a small config in a fresh process: the same output as
    the model, and NaN keypoints still refused by the compiled lifter."""
    script = tmp_path / 'compile_check.py'
    script.write_text(COMPILE_SCRIPT.format(repo=str(REPO)))
    try:
        proc = subprocess.run([sys.executable, str(script)],
                              cwd=REPO,
                              capture_output=True,
                              text=True,
                              timeout=COMPILE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f'torch.compile did not finish within '
                    f'{COMPILE_TIMEOUT_S} s')
    assert proc.returncode == 0 and 'COMPILED-OK' in proc.stdout, \
        proc.stderr[-4000:]
    assert 'NAN-REFUSED' in proc.stdout, proc.stdout[-2000:]


@pytest.mark.parametrize('dtype', ['fp32', 'bf16'])
def test_fast_lifter_refuses_non_finite_keypoints(dtype):
    lifter = build_fast_lifter(small_model(), dtype)
    x = keypoints(3)
    x[1, 20, 9, 0] = float('inf')
    with pytest.raises(ValueError, match=r'^keypoints: 1 NaN or infinite'
                       r' value\(s\), the first at sample 1, frame 20, '
                       'joint 9, channel 0'):
        lifter(x)
    assert torch.isfinite(lifter(keypoints(3))).all()


def test_onnx_lifter_checks_its_input(tmp_path):
    """The exported graph cannot raise: it returns NaN for NaN keypoints.
    OnnxLifter refuses them, and wrong shapes and dtypes, with the message of
    the PyTorch paths, and otherwise returns the session's output."""
    ort = pytest.importorskip('onnxruntime')
    from mmcrossformer.runtime.onnx_lifter import OnnxLifter
    model = small_model()
    path = str(tmp_path / 'small.onnx')
    export_onnx(model, path, 27, 17, 2)
    x = keypoints(2).numpy()
    x[0, 21, 4, 1] = np.nan  # (frames 10-15 are zeroed by the model)
    raw = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    assert np.isnan(raw.run(None, {'keypoints': x})[0][0]).all()
    lifter = OnnxLifter(path)
    with pytest.raises(ValueError, match='the first at sample 0, frame 21, '
                       'joint 4, channel 1'):
        lifter(x)
    with pytest.raises(ValueError, match=r'shape \(B, 27, 17, 2\), got '
                       r'\(2, 9, 17, 2\)'):
        lifter(np.zeros((2, 9, 17, 2), np.float32))
    with pytest.raises(TypeError, match='floating-point.*int64'):
        lifter(np.zeros((2, 27, 17, 2), np.int64))
    good = keypoints(2)
    np.testing.assert_allclose(lifter(good.numpy()),
                               reference_output(model, good).numpy(),
                               rtol=1e-4, atol=1e-5)


def test_lifting_forward_shape():
    model = small_model()
    out = LiftingForward(model)(keypoints(2))
    assert out.shape == (2, 17, 3)


def test_onednn_linear_hook_swaps_linear_layers():
    from types import SimpleNamespace

    from mmcrossformer.engine import OneDNNLinearHook
    from mmcrossformer.runtime.fast_paths import OneDNNTrainLinear
    model = small_model()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    OneDNNLinearHook().before_run(SimpleNamespace(model=model))
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    expected = OneDNNTrainLinear if onednn_available() else torch.nn.Linear
    assert linears and all(type(m) is expected for m in linears)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in state.items())


def test_bf16_attention_is_an_option_not_a_patch():
    model = small_model()
    net = fp32_norm_and_attention_(copy.deepcopy(model))
    attentions = [m for m in net.modules() if isinstance(m, Attention)]
    assert attentions and all(m.fp32_products for m in attentions)
    # the class's forward, not a method bound onto the instance
    assert all('forward' not in vars(m) for m in attentions)
    assert not any(m.fp32_products for m in model.modules()
                   if isinstance(m, Attention))


@pytest.fixture
def threads():
    """Run with the given number of torch threads, restored afterwards."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_cpu_inference_encodes_in_chunks(threads):
    # 27-frame windows: chunks of 648 // 27 = 24 samples per thread
    assert INFERENCE_CHUNK_FRAMES // 27 == 24
    threads(2)
    bb = small_model(fast=True).backbone
    sizes = spy_encode(bb)
    with torch.no_grad():
        bb(keypoints(50))
    # two single-threaded workers, 25 windows each (tests/test_runtime/
    # test_cpu_workers.py), in chunks of 24
    assert sorted(sizes) == [1, 1, 24, 24]
    sizes.clear()
    with torch.no_grad():
        bb(keypoints(1))  # fewer windows than threads: no workers
    assert sizes == [1]
    threads(1)
    model = small_model(fast=True)
    plain = small_model(fast=False)
    bb = model.backbone
    x = keypoints(50)
    sizes = spy_encode(bb)
    with torch.no_grad():
        feats = bb(x)[0]
        assert sizes == [24, 24, 2]
        # each sample on its own: the same as one call, and as the plain model
        torch.testing.assert_close(feats, bb.encode(x), rtol=0, atol=1e-6)
        assert_as_exact_as_plain(feats, plain.backbone(x)[0],
                                 fp64_output(plain, x, features=True))
    # training and the plain model encode the batch at once
    sizes.clear()
    bb(x)
    assert sizes == [50]
    sizes.clear()
    with torch.no_grad():
        use_plain_inference_(model)
        model.backbone(x)
    assert sizes == [50]


@pytest.mark.parametrize('compile', [
    False,
    pytest.param(
        True,
        marks=pytest.mark.xfail(
            not HAS_CXX, strict=True, reason='no C++ compiler on PATH'))
])
def test_fast_lifter_runs_in_chunks(compile, threads):
    threads(1)
    model = small_model()
    x = keypoints(30)
    lifter = build_fast_lifter(model, 'fp32', compile=compile)
    bb = lifter.net.backbone
    # on the CPU the spatial attention and CJI GroupNorm run the kernels
    assert [(type(b.attn), type(b.interaction.norm))
            for b in bb.spatial_blocks] == [(TokenMajorAttention,
                                             JointGroupNorm)]
    assert [type(b.attn) for b in bb.temporal_blocks] == [Attention]
    sizes = spy_encode(bb)
    got = lifter(x)
    assert sizes == [24, 6]
    assert_as_exact_as_plain(got, reference_output(model, x),
                             fp64_output(model, x))
    whole = build_fast_lifter(model, 'fp32', compile=compile, chunk=False)
    sizes = spy_encode(whole.net.backbone)
    torch.testing.assert_close(whole(x), got, rtol=1e-5, atol=1e-5)
    assert sizes == [30]


@pytest.mark.xfail(
    not HAS_CXX, strict=True, reason='no C++ compiler on PATH')
def test_compiled_cpu_inference(threads):
    """compile_cpu_inference_ (tools/test.py --compile): within 1e-5 of the
    eager model for batches that are not whole chunks, compiled once (the
    last chunk padded to the chunk's shape), following weights loaded
    after its first call (tools/test.py loads the checkpoint after building
    the model); bf16 under the backbone's autocast; training runs eager,
    with the plain model's arithmetic."""
    from torch._dynamo.utils import counters
    threads(1)
    torch._dynamo.reset()
    counters.clear()
    model = compile_cpu_inference_(small_model(fast=True))
    bb = model.backbone
    assert type(bb) is CompiledCPUCrossFormer
    assert [(type(b.attn), type(b.interaction.norm))
            for b in bb.spatial_blocks] == [(TokenMajorAttention,
                                             JointGroupNorm)]
    x = keypoints(30)  # chunks of 24 windows: 24 + 6
    plain = small_model()
    with torch.inference_mode():  # x and its views: made outside
        exact = fp64_output(plain, x)
        for n in (30, 24, 7):  # the backbone called on views of x
            assert_as_exact_as_plain(
                model.head(bb(x[:n])), reference_output(plain, x[:n]),
                exact[:n])
        assert counters['stats']['unique_graphs'] == 1
        compiled, shapes = bb._compiled_encode, []
        bb._compiled_encode = lambda m, part: shapes.append(
            len(part)) or compiled(m, part)
        model(x, None, 'tensor')
        assert shapes == [24, 24]
        other = small_model(seed=5)
        model.load_state_dict(other.state_dict())
        assert_as_exact_as_plain(
            model(x, None, 'tensor'), reference_output(other, x),
            fp64_output(other, x))
        assert model(x[:0], None, 'tensor').shape == (0, 17, 3)
    if bf16_supported('cpu'):
        bf16 = small_model(fast=True)
        bf16.backbone.inference_dtype = 'bf16'
        fp32_norm_and_attention_(bf16)
        eager = reference_output(bf16, x)
        with torch.no_grad():
            got = compile_cpu_inference_(bf16)(x, None, 'tensor')
        fp32 = reference_output(small_model(), x)
        # bf16 arithmetic (0.5 % from fp32 here, as the eager bf16 path)
        assert 1e-4 < relative_error(got, fp32) < 0.03
        assert relative_error(got, eager) < 0.03
    trained = model.train()(x, None, 'tensor')  # with autograd: eager
    assert trained.requires_grad
    torch.testing.assert_close(trained, reference_output(other.train(), x),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('qkv_bias,shape,heads', [(False, (5, 17, 32), 8),
                                                  (True, (3, 9, 16), 2)])
def test_token_major_attention_matches_attention(qkv_bias, shape, heads):
    """Same parameters, same result as the fused kernel; fp32 products
    under a bf16 autocast too (as the fused kernel with fp32_products);
    training (and fp64) compute as Attention."""
    g = torch.Generator().manual_seed(0)
    attn = Attention(shape[-1], heads, qkv_bias).eval()
    with torch.no_grad():
        for p in attn.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    x = torch.randn(shape, generator=g)
    token_major = copy.deepcopy(attn)
    token_major.__class__ = TokenMajorAttention
    with torch.no_grad():
        expected = attn(x)
        torch.testing.assert_close(token_major(x), expected, rtol=1e-5,
                                   atol=1e-5)
        # every sequence on its own
        torch.testing.assert_close(token_major(x[1:2]), expected[1:2],
                                   rtol=1e-5, atol=1e-5)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            got = token_major(x)
        assert got.dtype == torch.float32
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    trained = token_major.train()(x)
    assert trained.requires_grad
    torch.testing.assert_close(trained, attn.train()(x), rtol=0, atol=0)
    with torch.no_grad():
        torch.testing.assert_close(token_major.eval().double()(x.double()),
                                   attn.eval().double()(x.double()), rtol=0,
                                   atol=0)
    backbone = small_model().backbone
    use_spatial_kernels_(backbone)
    assert all(type(b.attn) is TokenMajorAttention and
               type(b.interaction.norm) is JointGroupNorm
               for b in backbone.spatial_blocks)
    assert all(type(b.attn) is Attention and
               type(b.interaction.norm) is nn.GroupNorm
               for b in backbone.temporal_blocks)


def test_empty_batch_gives_empty_poses():
    """No window (a video stretch without people): (0, J, 3) on every path,
    not torch's error about reshaping 0 elements."""
    empty = torch.zeros(0, 27, 17, 2)
    with torch.no_grad():
        for fast in (False, True):
            assert small_model(fast=fast)(empty, None, 'tensor').shape == \
                (0, 17, 3)
    dtypes = ['fp32'] + (['bf16'] if bf16_supported('cpu') else [])
    for dtype in dtypes:
        assert build_fast_lifter(small_model(), dtype)(empty).shape == \
            (0, 17, 3)
