# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Train CrossFormer, the PoseFormer baseline and MMPose's stock VideoPose3D
TCN on the same generated data with the same budget, and print one table:
the analogue of the paper's Table 5 that a CPU can run.

    python tools/analysis_tools/compare_models.py [--epochs 1]

Every model gets the schedule, batch size, data and evaluation of
configs/crossformer_synthetic_h36m_9f.py (9-frame windows, detected 2D
input); the TCN keeps its own architecture and codec with 9-frame kernels
(3, 3).
"""
import argparse
import copy
import json
import os
import os.path as osp
import subprocess
import sys

import mmpose
from mmengine.analysis import parameter_count
from mmengine.config import Config

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.evaluation import mean_pose_mpjpe
from mmpose.registry import MODELS
from mmpose.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'crossformer_synthetic_h36m_9f.py')
TCN = ('body_3d_keypoint/video_pose_lift/h36m/'
       'video-pose-lift_tcn-27frm-supv_8xb128-160e_h36m.py')  # in mmpose
SHARED = ('train_cfg', 'optim_wrapper', 'param_scheduler', 'auto_scale_lr',
          'default_hooks', 'val_evaluator', 'test_evaluator')
LOADER_KEYS = ('batch_size', 'num_workers', 'persistent_workers')
DATASET_KEYS = ('data_root', 'seq_len', 'keypoint_2d_src',
                'keypoint_2d_det_file')


def tcn_config(demo: Config) -> Config:
    """MMPose's stock TCN with the demo's data, budget and evaluation."""
    cfg = Config.fromfile(
        osp.join(osp.dirname(mmpose.__file__), '.mim', 'configs', TCN))
    cfg.custom_imports = demo.custom_imports
    cfg.model.backbone.update(kernel_sizes=(3, 3), num_blocks=1)  # 9 frames
    for key in SHARED:
        cfg[key] = demo[key]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for key in LOADER_KEYS:
            cfg[loader][key] = demo[loader][key]
        for key in DATASET_KEYS:
            cfg[loader].dataset[key] = demo[loader].dataset[key]
    return cfg


def run(cmd: list) -> None:
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/compare')
    parser.add_argument('--epochs', type=int, default=1)
    args = parser.parse_args()
    register_all_modules()
    work_dir = osp.join(REPO, args.work_dir)
    demo = Config.fromfile(DEMO)
    demo.train_cfg.max_epochs = args.epochs
    data_root = osp.join(REPO, demo.train_dataloader.dataset.data_root)
    generate_h36m(data_root)

    poseformer = copy.deepcopy(demo)
    poseformer.model.backbone.update(use_cji=False, use_cfi=False)
    models = {'CrossFormer': demo, 'PoseFormer': poseformer,
              'VideoPose3D TCN (MMPose)': tcn_config(demo)}
    rows = []  # (name, metrics)
    for name, cfg in models.items():
        run_dir = osp.join(work_dir, name.split()[0].lower())
        config = osp.join(run_dir, 'config.py')
        os.makedirs(run_dir, exist_ok=True)
        cfg.dump(config)
        out = osp.join(run_dir, 'metrics.json')
        if not osp.isfile(out):  # finished runs are reused
            run([sys.executable, 'tools/train.py', config, '--work-dir',
                 run_dir, '--no-validate', '--deterministic'])
            with open(osp.join(run_dir, 'last_checkpoint')) as f:
                checkpoint = f.read().strip()
            run([sys.executable, 'tools/test.py', config, checkpoint,
                 '--work-dir', run_dir, '--out', out])
        with open(out) as f:
            rows.append((name, json.load(f)))

    print(f'\nSame data (synthetic Human3.6M layout, detected 2D input, '
          f'9 frames), {args.epochs} epoch(s) at batch '
          f'{demo.train_dataloader.batch_size}, same schedule:\n')
    print('| model | parameters (M) | MPJPE (mm) | P-MPJPE (mm) | '
          'N-MPJPE (mm) |')
    print('|---|---|---|---|---|')
    for (name, m), cfg in zip(rows, models.values()):
        params = parameter_count(MODELS.build(cfg.model))[''] / 1e6
        print(f'| {name} | {params:.2f} | {m["MPJPE"]:.1f} | '
              f'{m["P-MPJPE"]:.1f} | {m["N-MPJPE"]:.1f} |')
    print(f'| mean pose | | {mean_pose_mpjpe(data_root):.1f} | | |')


if __name__ == '__main__':
    main()
