"""The README's commands and Python snippets, read from README.md and run in
document order in a workspace that holds what the README tells a user to
download or make. Nothing is downloaded; the stand-ins:

- ``best_epoch44.4.bin``, ``best_epoch_gt_28.5.bin`` (the authors' released
  files): random weights in the released layout, saved as the release's
  ``run_crossformer.py`` saves them (``epoch``, ``lr``, ``optimizer``,
  ``model_pos`` with DataParallel's ``module.`` keys);
- ``rtmpose-m_coco.pth`` (RTMPose-m's weights from MMPose's model zoo):
  random weights of that model, built from the config shipped with MMPose;
- ``crossformer_27f_causal.pth`` (the user's trained causal model): random
  weights of ``configs/crossformer_h36m_27f_causal.py``;
- ``video.mp4``: 8 frames of a walking stick figure; ``keypoints.npy``: 40
  frames of COCO keypoints of one in 1920 x 1080 pixels;
- ``data/h36m``: a small generated Human3.6M (one test subject, Walking,
  12 frames per camera).

Lines that cannot run as written on a CPU in a test are changed only as
listed in :data:`BUDGET` (and say so in the test output); every other line
runs verbatim. :func:`test_every_readme_command_is_run_by_a_test` keeps the
list of README commands and the tests that run them complete.
"""
import json
import os
import re
import subprocess
from pathlib import Path
from typing import List, Tuple

import cv2
import numpy as np
import pytest
import torch

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m

from ..helpers import PYTHON, REPO
from ..test_apis.test_inference import draw, figure
from ..test_models.test_official_checkpoint import released_state_dict

# 81-frame training on a CPU, budgeted: one epoch of a one-layer model,
# validated at its end, no worker processes
TRAIN_BUDGET = ('--cfg-options train_cfg.max_epochs=1 train_cfg.val_interval=1'
                ' model.backbone.depth=1 train_dataloader.num_workers=0'
                ' train_dataloader.persistent_workers=False'
                ' val_dataloader.num_workers=0'
                ' val_dataloader.persistent_workers=False'
                ' test_dataloader.num_workers=0'
                ' test_dataloader.persistent_workers=False')
TEST_BUDGET = ('--cfg-options model.backbone.depth=1'
               ' test_dataloader.num_workers=0'
               ' test_dataloader.persistent_workers=False')
BUDGET = {
    # README line prefix -> what is appended to it
    'python tools/train.py configs/crossformer_h36m_81f.py': TRAIN_BUDGET,
    'python tools/test.py configs/crossformer_h36m_81f.py work_dirs':
    TEST_BUDGET,
}
# README commands run by other tests (the same tool and options on their
# own data), or by the project's CI itself
ELSEWHERE = {
    'make train-demo': 'CI: tools/train_demo.py (the main job)',
    'make test': 'CI: the test suite itself',
    # two processes each: the launchers are run by the DDP tests
    'tools/dist_train.sh configs/crossformer_h36m_81f.py':
    'tests/test_tools/test_training.py::'
    'test_two_process_ddp_reaches_single_process_metrics',
    'tools/dist_test.sh configs/crossformer_h36m_81f.py':
    'tests/test_tools/test_training.py (tools/dist_launch.sh, shared with '
    'dist_train.sh)',
    'python tools/dataset_converters/videopose3d_to_mmpose.py':
    'tests/test_data_tools/test_videopose3d_converter.py::test_cli',
    'python tools/dataset_converters/generate_synthetic_h36m.py':
    'tests/test_data_tools/test_synthetic_h36m.py (its generate_h36m)',
    'python tools/analysis_tools/benchmark.py':
    'needs the authors\' code (--reference), which is not part of this '
    'repository; tests/test_runtime/test_fast_paths.py checks the paths',
    'python tools/deployment/export_onnx.py':
    'tests/test_runtime/test_fast_paths.py (the export CLI)',
    'python tools/train.py configs/crossformer_3dhp_9f.py':
    'tests/test_datasets/test_mpi_inf_3dhp.py::'
    'test_config_trains_and_evaluates',
    'python tools/dataset_converters/generate_synthetic_3dhp.py':
    'tests/test_datasets/test_mpi_inf_3dhp.py',
    'python tools/analysis_tools/get_flops.py':
    'tests/test_models/test_complexity.py',
}
CLUSTER = '## Set-up on a GPU cluster'  # test_readme_cluster_setup.py


def readme_blocks() -> List[Tuple[str, str, str]]:
    """(section heading, language, code) of every fenced block."""
    blocks, heading = [], ''
    text = (REPO / 'README.md').read_text()
    for m in re.finditer(r'^(#{2,3} [^\n]*)$|^```(\w+)\n(.*?)^```', text,
                         re.M | re.S):
        if m.group(1):
            heading = m.group(1)
        else:
            blocks.append((heading, m.group(2), m.group(3)))
    return blocks


def commands(code: str) -> List[str]:
    """Shell commands of a bash block: continuations joined, comments and
    blank lines dropped."""
    out = []
    for line in code.replace('\\\n', ' ').splitlines():
        line = re.sub(r'\s+#.*$', '', line).strip()
        if line and not line.startswith('#'):
            out.append(re.sub(r'\s+', ' ', line))
    return out


def released_file(path: Path, seed: int) -> None:
    """A checkpoint as the release's run_crossformer.py saves it."""
    sd = {f'module.{k}': v.float()
          for k, v in released_state_dict(seed).items()}
    params = [torch.nn.Parameter(v) for v in sd.values()]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.1)
    torch.save({'epoch': 80, 'lr': 1e-4 * 0.99**80,
                'optimizer': optimizer.state_dict(), 'model_pos': sd}, path)


def random_checkpoint(config: str, path: Path) -> None:
    from mmpose.apis import init_model
    torch.manual_seed(0)
    model = init_model(config, device='cpu')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)


@pytest.fixture(scope='module')
def workspace(tmp_path_factory) -> Path:
    ws = tmp_path_factory.mktemp('readme')
    for name in ('configs', 'tools', 'demo'):
        (ws / name).symlink_to(REPO / name)
    generate_h36m(str(ws / 'data/h36m'), frames=12, subactions=1,
                  subjects=('S1', 'S9'), actions=('Walking', ))
    released_file(ws / 'best_epoch44.4.bin', 0)
    released_file(ws / 'best_epoch_gt_28.5.bin', 1)
    import mmpose
    random_checkpoint(
        str(Path(mmpose.__file__).parent / '.mim/configs/body_2d_keypoint/'
            'rtmpose/coco/rtmpose-m_8xb256-420e_coco-256x192.py'),
        ws / 'rtmpose-m_coco.pth')
    random_checkpoint(str(REPO / 'configs/crossformer_h36m_27f_causal.py'),
                      ws / 'crossformer_27f_causal.pth')
    writer = cv2.VideoWriter(str(ws / 'video.mp4'),
                             cv2.VideoWriter_fourcc(*'mp4v'), 10, (320, 240))
    for t in range(8):
        writer.write(draw(np.full((240, 320, 3), 235, np.uint8),
                          figure(120 + 8 * t, 120)))
    writer.release()
    np.save(ws / 'keypoints.npy',
            np.stack([figure(600 + 10 * t, 540, 700) for t in range(40)]))
    return ws


def run(ws: Path, cmd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, 'PYTHONPATH': str(REPO),
           'PATH': f'{Path(PYTHON).parent}:{os.environ["PATH"]}',
           'PORT': str(29500 + os.getpid() % 2000), 'OMP_NUM_THREADS': '1'}
    proc = subprocess.run(['bash', '-c', cmd], cwd=ws, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (f'$ {cmd}\n{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-5000:]}')
    return proc


def budgeted(cmd: str) -> str:
    for prefix, extra in BUDGET.items():
        if cmd.startswith(prefix):
            return f'{cmd} {extra}'
    return cmd


SECTIONS = ('## Quick start', '### Inference', '### Training and testing',
            '### Released checkpoints')


def test_readme_usage_runs_as_written(workspace, capsys):
    ws = workspace
    ran, outputs = [], []
    for heading, lang, code in readme_blocks():
        if not heading.startswith(SECTIONS):
            continue
        if lang == 'python':
            script = ws / f'snippet_{len(ran)}.py'
            script.write_text(code + (
                '\nimport numpy as _np\nprint("poses_3d", len(poses_3d), '
                '_np.shape(poses_3d[0]))\n' if 'poses_3d' in code else ''))
            outputs.append(run(ws, f'python {script.name}').stdout)
            ran.append(f'python: {code.splitlines()[0]} ...')
            continue
        for cmd in commands(code):
            if budgeted(cmd) in ran or any(
                    cmd.startswith(p) for p in ELSEWHERE):
                continue  # run earlier, or by the test ELSEWHERE names
            outputs.append(run(ws, budgeted(cmd)).stdout)
            ran.append(budgeted(cmd))
    with capsys.disabled():
        print('\n'.join(['', 'README lines run:'] + ran))
    out = '\n'.join(outputs)

    # quick start: converted, evaluated, lifted
    assert (ws / 'crossformer_81f_official.pth').is_file()
    # each tools/test.py run prints the paper's average
    assert out.count('| **Average over actions (paper protocol)** |') == 4
    frames = json.loads((ws / 'vis_results/video_3d.json').read_text())
    assert len(frames['frames']) == 8
    assert np.shape(frames['frames'][0]['instances'][0]['keypoints_3d']) \
        == (17, 3)
    assert (ws / 'vis_results/video_3d_vis.mp4').stat().st_size > 0
    assert 'poses_3d 8 (17, 3)' in out  # the MMPoseInferencer snippet
    # MMPose's 2D predictions, then lifted from the file
    preds = json.loads((ws / 'predictions/video.json').read_text())
    assert [p['frame_id'] for p in preds] == list(range(8))
    assert frames['meta']['layout_2d'] == 'coco'
    # the online demo on keypoints.npy
    online = json.loads((ws / 'vis_results/keypoints_3d.json').read_text())
    assert online['meta']['causal'] is True
    assert len(online['frames']) == 40
    # training, --dump and --show-dir
    assert list(ws.glob('work_dirs/crossformer_h36m_81f/best_MPJPE_*.pth'))
    assert (ws / 'predictions.pkl').stat().st_size > 0
    assert list((ws / 'vis_test').glob('*.png'))
    assert (ws / 'crossformer_81f_gt_official.pth').is_file()


def test_every_readme_command_is_run_by_a_test():
    """Each README command is run above, by the cluster set-up test, or by
    the test :data:`ELSEWHERE` names."""
    missing = []
    for heading, lang, code in readme_blocks():
        if lang != 'bash' or heading.startswith(SECTIONS + (CLUSTER, )):
            continue
        for cmd in commands(code):
            if not any(cmd.startswith(p) for p in ELSEWHERE):
                missing.append(f'{heading}: {cmd}')
    assert not missing, 'README commands that no test runs:\n' + \
        '\n'.join(missing)
    blocks = [(h, lang) for h, lang, _ in readme_blocks()]
    assert sum(lang == 'python' for _, lang in blocks) == 2
    assert all(h.startswith(SECTIONS) for h, lang in blocks
               if lang == 'python')
