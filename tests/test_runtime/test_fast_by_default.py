"""The paths users run -- ``tools/test.py``, the demo and MMPose's
inferencers -- take the configs' fast inference path (oneDNN linear layers,
GELU fused) without being asked, compute what the plain model computes
within 1e-5 in fp32, and switch to bf16 with one option."""
import copy
import importlib.util

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmcrossformer.models.backbones.crossformer import INFERENCE_CHUNK_FRAMES
from mmcrossformer.runtime.fast_paths import (OneDNNEvalLinear,
                                              onednn_available)
from mmpose.registry import MODELS

from ..helpers import REPO
from ..test_apis.test_inference import (CFG_9F, TINY, figure,  # noqa: F401
                                        pose2d_cfg, two_people)
from .common import assert_as_exact_as_plain, fp64_output

pytestmark = pytest.mark.skipif(
    not onednn_available(), reason='no oneDNN on this build')
torch.set_num_threads(1)


def load_script(path: str):
    spec = importlib.util.spec_from_file_location('script', REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def watch(model) -> dict:
    """Record, for every backbone call: grad mode, inputs, features and the
    dtype of the first temporal qkv projection's output (the spatial
    attention computes its projection itself, in fp32)."""
    seen = dict(grad=[], inputs=[], feats=[], qkv=[])
    bb = model.backbone
    bb.register_forward_pre_hook(lambda m, a: seen['grad'].append(
        torch.is_grad_enabled()) or seen['inputs'].append(a[0].clone()))
    bb.register_forward_hook(
        lambda m, a, out: seen['feats'].append(out[0].clone()))
    bb.temporal_blocks[0].attn.qkv.register_forward_hook(
        lambda m, a, out: seen['qkv'].append(out.dtype))
    return seen


def assert_fast(model) -> None:
    """Every linear layer of the backbone is the oneDNN one, the MLP GELUs
    fused into it, and CPU batches are encoded in chunks."""
    bb = model.backbone
    assert bb.chunk_frames == INFERENCE_CHUNK_FRAMES
    linears = [m for m in bb.modules() if isinstance(m, torch.nn.Linear)]
    assert linears and all(type(m) is OneDNNEvalLinear for m in linears)
    mlp = bb.temporal_blocks[0].mlp
    assert mlp.fc1.gelu and isinstance(mlp.act, torch.nn.Identity)


@pytest.fixture(autouse=True)
def seeded():
    """Random weights (and the 2D model's keypoints) fixed, so that every
    run checks the same numbers (a random tiny network fed a nearly
    collapsed skeleton amplifies fp32 rounding, any fp32 implementation's:
    seen, the plain model 2.2e-4 from its fp64 copy)."""
    torch.manual_seed(0)


def assert_matches_plain(model, cfg_model: dict, seen: dict) -> None:
    """The plain model (``fast_inference=False``) with the same weights
    gives the recorded features within 1e-5, or is no closer to its own
    fp64 result than they are (ill-conditioned inputs:
    :func:`~tests.test_runtime.common.assert_as_exact_as_plain`)."""
    cfg_model = copy.deepcopy(cfg_model)
    cfg_model['backbone']['fast_inference'] = False
    plain = MODELS.build(cfg_model).eval()
    plain.load_state_dict(model.state_dict(), strict=True)
    assert not any(
        isinstance(m, OneDNNEvalLinear) for m in plain.modules())
    assert seen['feats'] and not any(seen['grad'])
    with torch.no_grad():
        for x, feats in zip(seen['inputs'], seen['feats']):
            assert_as_exact_as_plain(feats, plain.backbone(x)[0],
                                     fp64_output(plain, x, features=True))


def test_tools_test_runs_the_fast_path_and_bf16_switch(monkeypatch, tmp_path):
    """tools/test.py's runner builds the fast model; ``--bf16`` switches it
    to bfloat16. The runner's test loop (mmengine: under ``no_grad``) is
    replaced by one forward pass, the data and checkpoint checks by no-ops."""
    script = load_script('tools/test.py')
    real = script.Runner
    runs = []

    class Runner:

        @staticmethod
        def from_cfg(cfg):
            cfg.randomness = dict(seed=0)  # mmengine's own: random if unset
            runner = real.from_cfg(cfg)
            seen = watch(runner.model)
            x = torch.randn(2, 9, 17, 2) * 0.5

            def test():  # what mmengine's TestLoop does around test_step
                runner.model.eval()
                with torch.no_grad():
                    runner.model(x, None, 'tensor')
                return {}

            runner.test = test
            runs.append((runner, cfg, seen))
            return runner

    monkeypatch.setattr(script, 'Runner', Runner)
    # (compiling is tested in tests/test_tools/test_test_outputs.py)
    compile_modes = []
    monkeypatch.setattr(script, 'compile_test_model',
                        lambda runner, mode: compile_modes.append(mode))
    monkeypatch.setattr(script, 'check_checkpoint', lambda *a: None)
    monkeypatch.setattr(script, 'prepare_runner_cfg', lambda *a: None)
    monkeypatch.setattr(script, 'format_metrics', lambda m: '')
    for extra in ([], ['--bf16']):
        monkeypatch.setattr('sys.argv', [
            'test.py', CFG_9F, 'none.pth', '--work-dir',
            str(tmp_path), '--cfg-options', *[f'{k}={v}'
                                             for k, v in TINY.items()]
        ] + extra)
        assert script.main() == 0
    (fp32, cfg, seen), (bf16, _, seen16) = runs
    assert compile_modes == ['auto', 'auto']
    assert_fast(fp32.model)
    assert seen['qkv'] == [torch.float32]
    assert_matches_plain(fp32.model, cfg.model, seen)
    assert bf16.model.backbone.inference_dtype == 'bf16'
    assert seen16['qkv'] == [torch.bfloat16]
    assert seen16['feats'][0].dtype == torch.float32


def test_demo_runs_the_fast_path_and_bf16_switch(monkeypatch, tmp_path):
    demo = load_script('demo/body3d_crossformer_demo.py')
    lifters = []
    real = demo.Lifter.from_config

    def from_config(*args, **kwargs):
        lifter = real(*args, **kwargs)
        lifters.append((lifter, watch(lifter.model)))
        return lifter

    monkeypatch.setattr(demo.Lifter, 'from_config', from_config)
    arr = np.stack([figure(80 + t, 120) for t in range(6)])  # (T, 17, 3)
    np.save(tmp_path / 'kpts.npy', arr)
    opts = [f'{k}={v}' for k, v in TINY.items()]
    for extra in ([], ['--bf16']):
        with pytest.warns(UserWarning, match='random'):
            demo.main([
                CFG_9F, '--kpt-file',
                str(tmp_path / 'kpts.npy'), '--img-size', '320', '240',
                '--no-vis', '--output-root',
                str(tmp_path), '--cfg-options', *opts
            ] + extra)
    (fp32, seen), (bf16, seen16) = lifters
    assert_fast(fp32.model)
    assert set(seen['qkv']) == {torch.float32}
    assert_matches_plain(fp32.model, fp32.model.cfg.model, seen)
    assert set(seen16['qkv']) == {torch.bfloat16}


def test_mmpose_inferencer_runs_the_fast_path(pose2d_cfg):  # noqa: F811
    from mmpose.apis.inferencers import MMPoseInferencer
    inferencer = MMPoseInferencer(
        pose2d=pose2d_cfg,
        pose3d=CFG_9F,
        det_model='whole_image',
        device='cpu')
    model = inferencer.inferencer.model
    seen = watch(model)
    img, _ = two_people(0)
    res = next(inferencer(img))
    assert np.shape(res['predictions'][0][0]['keypoints']) == (17, 3)
    assert_fast(model)
    cfg = Config.fromfile(CFG_9F)
    assert_matches_plain(model, cfg.model, seen)
