"""ONNX export: the exported model computes what PyTorch computes; the
export tool writes and checks it."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmcrossformer.runtime.onnx_export import check_onnx, export_onnx

from ..helpers import REPO
from .common import keypoints, reference_output, small_model

torch.set_num_threads(1)


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


def test_check_onnx_measures_the_difference(tmp_path):
    pytest.importorskip('onnxruntime')
    pytest.importorskip('onnx')
    model = small_model()
    path = str(tmp_path / 'small.onnx')
    export_onnx(model, path, 27, 17, 2)
    assert check_onnx(model, path) < 1e-4
    # a model with other weights than the exported one differs
    other = small_model(seed=1)
    assert check_onnx(other, path) > 1e-3
