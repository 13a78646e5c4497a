# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Plot predicted against ground-truth 3D poses of test samples, one panel
per action.

    python tools/analysis_tools/vis_predictions.py CONFIG CHECKPOINT \
        --out predictions.png
"""
import argparse
import os

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402

# registers the plugin; init_model then loads with weights_only=True
import mmcrossformer  # noqa: E402,F401
from mmpose.apis import init_model  # noqa: E402
from mmpose.registry import DATASETS  # noqa: E402
from mmpose.utils import register_all_modules  # noqa: E402

from mmcrossformer.visualization.pose3d_plot import draw_pose3d  # noqa: E402


def pick_samples(dataset, per_action: int, max_actions: int) -> list:
    """Indices of ``per_action`` evenly spaced samples of each action."""
    by_action = {}
    for idx in range(len(dataset)):
        path = dataset.get_data_info(idx)['target_img_path'][0]
        action = os.path.basename(path).split('_')[1].split('.')[0]
        by_action.setdefault(action, []).append(idx)
    picked = []
    for action in sorted(by_action)[:max_actions]:
        indices = by_action[action]
        picked += [indices[int(i)] for i in np.linspace(
            len(indices) * 0.2, len(indices) * 0.8, per_action)]
    return picked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--out', default='predictions.png')
    parser.add_argument('--actions', type=int, default=5)
    args = parser.parse_args()

    register_all_modules()
    model = init_model(args.config, args.checkpoint, device='cpu')
    dataset = DATASETS.build(model.cfg.test_dataloader.dataset)
    links = dataset.metainfo['skeleton_links']
    indices = pick_samples(dataset, per_action=1, max_actions=args.actions)
    batch = pseudo_collate([dataset[i] for i in indices])
    with torch.no_grad():
        results = model.test_step(batch)

    fig = plt.figure(figsize=(3.2 * len(results), 3.6))
    errors = []
    for k, (idx, result) in enumerate(zip(indices, results)):
        gt = np.asarray(result.gt_instances.lifting_target).reshape(-1, 3)
        pred = np.asarray(result.pred_instances.keypoints).reshape(-1, 3)
        gt, pred = gt - gt[:1], pred - pred[:1]
        errors.append(np.linalg.norm(gt - pred, axis=-1).mean() * 1000)
        ax = fig.add_subplot(1, len(results), k + 1, projection='3d')
        draw_pose3d(ax, gt, links, 'tab:green', 'ground truth')
        draw_pose3d(ax, pred, links, 'tab:red', 'CrossFormer')
        name = os.path.basename(
            dataset.get_data_info(idx)['target_img_path'][0])
        ax.set_title(f'{name.split(".")[0]}\n{errors[-1]:.0f} mm', fontsize=8)
        ax.set_xlim(-0.8, 0.8), ax.set_ylim(-0.8, 0.8), ax.set_zlim(-1, 0.8)
        ax.set_xticklabels([]), ax.set_yticklabels([]), ax.set_zticklabels([])
        ax.view_init(elev=15, azim=-70)
    fig.axes[0].legend(loc='lower left', fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f'wrote {args.out}: mean error of the shown poses '
          f'{np.mean(errors):.1f} mm')


if __name__ == '__main__':
    main()
