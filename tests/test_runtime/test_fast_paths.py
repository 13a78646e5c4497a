"""Fast paths: ONNX export, bf16, oneDNN linear layers and torch.compile give
the results of the plain model; FastHuman36mDataset yields the samples of the
stock MMPose pipeline. Speed is measured by
tools/analysis_tools/benchmark.py, not here."""
import copy
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.datasets import unwrap_dataset_cfg
from mmcrossformer.runtime.fast_paths import (LiftingForward, OneDNNLinear,
                                            bf16_supported,
                                            build_fast_lifter, export_onnx,
                                            onednn_available,
                                            use_onednn_train_linear_)
from mmpose.registry import DATASETS, MODELS

from ..helpers import REPO

torch.set_num_threads(1)


def small_model(seed: int = 0) -> torch.nn.Module:
    """Every option of the released architecture (the official config), in
    a one-layer, 27-frame network."""
    cfg = Config.fromfile(
        str(REPO / 'configs' / 'crossformer_h36m_81f_official.py'))
    cfg.model.backbone.update(num_frames=27, depth=1, drop_path_rate=0.)
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


def test_onnx_matches_pytorch(tmp_path):
    ort = pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    model = small_model()
    path = str(tmp_path / 'small.onnx')
    export_onnx(model, path, 27, 17, 2)
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    for batch in (1, 5):  # the batch axis is dynamic
        x = keypoints(batch)
        got = sess.run(None, {'keypoints': x.numpy()})[0]
        expected = reference_output(model, x).numpy()
        assert got.shape == (batch, 17, 3)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_export_tool(tmp_path):
    pytest.importorskip('onnxruntime')
    cfg = tmp_path / 'cfg.py'
    base = REPO / 'configs' / 'crossformer_h36m_9f.py'
    cfg.write_text(f"_base_ = ['{base}']\n"
                   'model = dict(backbone=dict(depth=1))\n')
    out = tmp_path / 'm.onnx'
    proc = subprocess.run([
        sys.executable,
        str(REPO / 'tools' / 'deployment' / 'export_onnx.py'),
        str(cfg), 'none',
        str(out)
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'onnxruntime vs PyTorch' in proc.stdout and out.exists()


def test_fp32_fast_path_is_exact():
    model = small_model()
    x = keypoints(4)
    expected = reference_output(model, x)
    got = build_fast_lifter(model, 'fp32')(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    plain = build_fast_lifter(model, 'fp32', onednn=False)(x)
    torch.testing.assert_close(plain, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.skipif(not onednn_available(), reason='no oneDNN on this build')
def test_onednn_linear_matches_linear():
    g = torch.Generator().manual_seed(0)
    lin = torch.nn.Linear(40, 24)
    x = torch.randn(3, 7, 40, generator=g)
    with torch.no_grad():
        torch.testing.assert_close(OneDNNLinear(lin)(x), lin(x))
        torch.testing.assert_close(
            OneDNNLinear(lin, gelu=True)(x),
            torch.nn.functional.gelu(lin(x)),
            rtol=1e-5,
            atol=1e-6)


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


@pytest.mark.skipif(
    not bf16_supported('cpu'), reason='no native bf16 on this CPU')
def test_bf16_close_to_fp32():
    model = small_model()
    x = keypoints(16)
    expected = reference_output(model, x)
    got = build_fast_lifter(model, 'bf16')(x)
    assert got.dtype == torch.float32
    # bf16 keeps 8 bits of mantissa: a few per cent of the output's scale
    err = (got - expected).norm(dim=-1).mean() / expected.norm(dim=-1).mean()
    assert err < 0.03, float(err)
    # the model itself is untouched (the fast path works on a copy)
    assert all(p.dtype == torch.float32 for p in model.parameters())


COMPILE_SCRIPT = textwrap.dedent('''
    import sys, torch
    sys.path.insert(0, {repo!r})
    torch.set_num_threads(1)
    import mmcrossformer
    from mmpose.utils import register_all_modules
    register_all_modules()
    from tests.test_runtime.test_fast_paths import small_model, keypoints, reference_output
    from mmcrossformer.runtime.fast_paths import build_fast_lifter
    model = small_model()
    x = keypoints(4)
    expected = reference_output(model, x)
    got = build_fast_lifter(model, 'fp32', compile=True)(x)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    print('COMPILED-OK')
''')


def test_torch_compile_equivalence(tmp_path):
    """Compiled on a small config in a fresh process; skipped when the
    compilation does not finish within 60 s on this machine."""
    script = tmp_path / 'compile_check.py'
    script.write_text(COMPILE_SCRIPT.format(repo=str(REPO)))
    try:
        proc = subprocess.run([sys.executable, str(script)],
                              cwd=REPO,
                              capture_output=True,
                              text=True,
                              timeout=60)
    except subprocess.TimeoutExpired:
        pytest.skip('torch.compile did not finish within 60 s here')
    if proc.returncode != 0 and ('CppCompileError' in proc.stderr
                                 or 'InvalidCxxCompiler' in proc.stderr):
        pytest.skip('torch.compile needs a working C++ compiler')
    assert proc.returncode == 0 and 'COMPILED-OK' in proc.stdout, \
        proc.stderr[-4000:]


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def h36m_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('h36m')
    generate_h36m(
        str(root),
        frames=40,
        subactions=1,
        subjects=('S1', 'S5', 'S9'),
        actions=('Walking', 'Greeting'))
    return str(root) + '/'


def _same(a, b, what):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), what
        assert a.dtype == b.dtype and a.shape == b.shape, what
        assert torch.equal(a, b), what
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), what
        assert a.dtype == b.dtype and a.shape == b.shape, what
        assert np.array_equal(a, b), what
    else:
        assert type(a) is type(b) and a == b, (what, a, b)


def assert_same_sample(a, b):
    _same(a['inputs'], b['inputs'], 'inputs')
    da, db = a['data_samples'], b['data_samples']
    assert set(da.metainfo_keys()) == set(db.metainfo_keys())
    for k in da.metainfo_keys():
        _same(da.metainfo[k], db.metainfo[k], k)
    assert set(da.keys()) == set(db.keys())
    for field in da.keys():
        fa, fb = da.get(field), db.get(field)
        assert set(fa.keys()) == set(fb.keys()), field
        for k in fa.keys():
            _same(fa.get(k), fb.get(k), f'{field}.{k}')


@pytest.mark.parametrize('split,overrides', [
    ('train', dict()),
    ('train', dict(seq_len=9, causal=True)),
    ('train', dict(seq_len=9, seq_step=2, pad_video_seq=False)),
    ('test', dict()),
    ('test', dict(seq_len=27, seq_step=3, keypoint_2d_src='gt')),
])
def test_fast_dataset_matches_stock(h36m_root, split, overrides):
    """Every sample: inputs, targets, target weights, instance fields and
    metainfo, random flips included (same draws from numpy's generator)."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'crossformer_h36m_81f.py'))
    dataset = cfg.train_dataloader.dataset.dataset if split == 'train' \
        else cfg.val_dataloader.dataset
    built = []
    for dataset_type in ('Human36mDataset', 'FastHuman36mDataset'):
        d = dataset.copy()
        d.update(overrides, data_root=h36m_root, type=dataset_type)
        np.random.seed(3)  # the subset draw of get_sequence_indices
        built.append(DATASETS.build(d))
    stock, fast = built
    assert len(stock) == len(fast) > 0
    np.random.seed(7)
    expected = [stock[i] for i in range(len(stock))]
    np.random.seed(7)
    for i, want in enumerate(expected):
        assert_same_sample(want, fast[i])


def test_fast_dataset_opt_in_config():
    """The fast config differs from the stock one by the dataset type only."""
    for window in (9, 27, 81):
        fast = Config.fromfile(
            str(REPO / 'configs' / f'crossformer_h36m_{window}f_fastdata.py'))
        stock = Config.fromfile(
            str(REPO / 'configs' / f'crossformer_h36m_{window}f.py'))
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            f = unwrap_dataset_cfg(fast[loader].to_dict())
            s = unwrap_dataset_cfg(stock[loader].to_dict())
            assert f.pop('type') == 'FastHuman36mDataset'
            assert s.pop('type') == 'Human36mDataset'
            assert f == s
        assert fast.model == stock.model


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
