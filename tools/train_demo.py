# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The README's main job (`make train-demo`) on the embedded default data.

1. generate a synthetic Human3.6M in MMPose's layout (data/synthetic_h36m),
2. train configs/crossformer_synthetic_h36m_9f.py on the CPU (tools/train.py),
3. evaluate the last checkpoint (tools/test.py): MPJPE, P-MPJPE, N-MPJPE in
   millimetres, overall and per action, beside the mean-pose baseline,
4. save a picture of predicted against ground-truth 3D poses.

    python tools/train_demo.py [--work-dir work_dirs/demo] [--epochs N] [--seed 0]
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time
import warnings

# known harmless warnings of the installed stack, silenced here and in the
# steps' processes: mmengine imports pkg_resources; MMPose finds its dataset
# meta files in its own package
HARMLESS_WARNINGS = ('pkg_resources is deprecated', 'The metainfo config file')
for message in HARMLESS_WARNINGS:
    warnings.filterwarnings('ignore', message, UserWarning)

from mmcrossformer.evaluation import mean_pose_mpjpe  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = osp.join(REPO, 'configs', 'crossformer_synthetic_h36m_9f.py')
DATA_ROOT = osp.join(REPO, 'data', 'synthetic_h36m')


def run(cmd: list) -> None:
    print('+', ' '.join(cmd), flush=True)
    env = dict(os.environ)
    filters = [env.get('PYTHONWARNINGS')] + [
        f'ignore:{m}:UserWarning' for m in HARMLESS_WARNINGS
    ]
    env['PYTHONWARNINGS'] = ','.join(f for f in filters if f)
    subprocess.run(cmd, check=True, cwd=REPO, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default=osp.join('work_dirs', 'demo'))
    parser.add_argument(
        '--epochs', type=int, help='override train_cfg.max_epochs')
    parser.add_argument(
        '--seed', type=int, default=0,
        help='random seed of the training run (the README figure: 0)')
    args = parser.parse_args()
    start = time.time()
    work_dir = osp.join(REPO, args.work_dir)

    print('== 1/4 data', flush=True)
    run([
        sys.executable, 'tools/dataset_converters/generate_synthetic_h36m.py',
        DATA_ROOT
    ])

    print('== 2/4 training (CPU)', flush=True)
    train = [
        sys.executable, 'tools/train.py', CONFIG, '--work-dir', work_dir,
        '--no-validate', '--seed',
        str(args.seed)
    ]
    if args.epochs:
        train += ['--cfg-options', f'train_cfg.max_epochs={args.epochs}']
    run(train)

    print('== 3/4 evaluation', flush=True)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    metrics_file = osp.join(work_dir, 'test_metrics.json')
    run([
        sys.executable, 'tools/test.py', CONFIG, checkpoint, '--work-dir',
        work_dir, '--out', metrics_file
    ])
    with open(metrics_file) as f:
        metrics = json.load(f)
    baseline = mean_pose_mpjpe(DATA_ROOT)

    print('== 4/4 picture', flush=True)
    picture = osp.join(work_dir, 'predictions.png')
    run([
        sys.executable, 'tools/analysis_tools/vis_predictions.py', CONFIG,
        checkpoint, '--out', picture
    ])

    print('\n| model | MPJPE (mm) | P-MPJPE (mm) | N-MPJPE (mm) |')
    print('|---|---|---|---|')
    print(f'| CrossFormer 9f | {metrics["MPJPE"]:.1f} | '
          f'{metrics["P-MPJPE"]:.1f} | {metrics["N-MPJPE"]:.1f} |')
    print(f'| mean pose | {baseline:.1f} | | |')
    print(f'\npicture: {osp.relpath(picture, REPO)}; '
          f'total time {(time.time() - start) / 60:.1f} min')
    if not metrics['MPJPE'] < 0.5 * baseline:
        sys.exit('the trained model is not far below the mean-pose baseline')


if __name__ == '__main__':
    os.environ.setdefault('PYTHONUNBUFFERED', '1')
    main()
