# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Train the 9-frame CrossFormer with the earlier recipe and with the
released one, on the same generated data with the same number of optimizer
steps, for several seeds, and print one table (README, "Training recipe").

    python tools/analysis_tools/compare_recipes.py [--iters 1000] \\
        [--seeds 0 1] [--test-every 1]

- earlier: Adam without weight decay, the timm TruncNormal(0.02)
  initialisation, every window once per epoch with a random flip
  (configs/crossformer_synthetic_h36m_9f.py as it is);
- released: AdamW with weight decay 0.1, PyTorch's default initialisation,
  every window twice per epoch, as it is and mirrored
  (PlainAndMirroredDataset), as configs/_base_/crossformer_h36m.py.

Both: batch 128, lr 1e-3 with cosine decay over the steps, the synthetic
Human3.6M of the demo (detected 2D input), evaluation with flip averaging
on every ``--test-every``-th test window. Finished runs under the work dir
are reused.
"""
import argparse
import copy
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
from mmengine.config import Config

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'crossformer_synthetic_h36m_9f.py')


def recipes(iters: int, test_every: int) -> dict:
    """The two configs, ``iters`` optimizer steps each, tested on every
    ``test_every``-th test window."""
    earlier = Config.fromfile(DEMO)
    test = earlier.test_dataloader.dataset
    with np.load(osp.join(REPO, test.data_root, test.ann_file)) as ann:
        num_windows = len(ann['imgname'])  # one per frame (padded videos)
    test.indices = list(range(0, num_windows, test_every))
    earlier.train_cfg = dict(
        type='IterBasedTrainLoop', max_iters=iters, val_interval=iters)
    earlier.param_scheduler = [
        dict(type='CosineAnnealingLR', by_epoch=False, eta_min=1e-5,
             T_max=iters)
    ]
    earlier.log_processor = dict(by_epoch=False)
    earlier.default_hooks.checkpoint = dict(
        type='CheckpointHook', by_epoch=False, interval=iters,
        backend_args=dict(backend='atomic_local'))
    released = copy.deepcopy(earlier)
    released.optim_wrapper.optimizer = dict(
        type='AdamW', lr=1e-3, weight_decay=0.1)
    for part in ('backbone', 'head'):
        released.model[part].init_cfg = dict(type='PyTorchDefault')
    released.train_dataloader.dataset = dict(
        type='PlainAndMirroredDataset',
        dataset=earlier.train_dataloader.dataset)
    return {'earlier': earlier, 'released': released}


def run(cmd: list) -> None:
    print('+', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, cwd=REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/compare_recipes')
    parser.add_argument('--iters', type=int, default=1000)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1])
    parser.add_argument('--test-every', type=int, default=1)
    args = parser.parse_args()
    work_dir = osp.join(REPO, args.work_dir)
    generate_h36m(osp.join(REPO, Config.fromfile(DEMO).train_dataloader.
                           dataset.data_root))
    configs = recipes(args.iters, args.test_every)

    rows = []  # (recipe, seed, metrics)
    for seed in args.seeds:
        for name, cfg in configs.items():
            run_dir = osp.join(work_dir, f'{name}_seed{seed}')
            config = osp.join(run_dir, 'config.py')
            os.makedirs(run_dir, exist_ok=True)
            cfg.dump(config)
            out = osp.join(run_dir, 'metrics.json')
            if not osp.isfile(out):
                run([sys.executable, 'tools/train.py', config, '--work-dir',
                     run_dir, '--no-validate', '--seed', str(seed)])
                with open(osp.join(run_dir, 'last_checkpoint')) as f:
                    checkpoint = f.read().strip()
                run([sys.executable, 'tools/test.py', config, checkpoint,
                     '--work-dir', run_dir, '--out', out])
            with open(out) as f:
                rows.append((name, seed, json.load(f)))

    print(f'\nCrossFormer 9f, synthetic Human3.6M, {args.iters} steps at '
          'batch 128, lr 1e-3 cosine; mean over the actions of every '
          f'{args.test_every}-th test window:\n')
    print('| recipe | seed | MPJPE (mm) | P-MPJPE (mm) | N-MPJPE (mm) |')
    print('|---|---|---|---|---|')
    for name, seed, m in rows:
        print(f'| {name} | {seed} | {m["MPJPE_action_mean"]:.1f} | '
              f'{m["P-MPJPE_action_mean"]:.1f} | '
              f'{m["N-MPJPE_action_mean"]:.1f} |')


if __name__ == '__main__':
    main()
