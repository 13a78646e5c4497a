# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""``tools/test.py --show-dir``: the predicted 3D poses of test samples,
drawn over their ground truth, one PNG per sample."""
import os
import os.path as osp
from typing import Optional, Sequence

import numpy as np
from mmengine.hooks import Hook

from mmpose.registry import HOOKS


@HOOKS.register_module()
class Pose3dVisualizationHook(Hook):
    """Save every ``interval``-th test sample as
    ``out_dir/<index>_<target image name>.png``: the predicted root-relative
    3D pose (red) over the ground truth (green), with the sample's MPJPE in
    millimetres. The stand-in for MMPose's ``PoseVisualizationHook`` (which
    needs video frames) in pose-lifting tests on keypoint files.

    Args:
        out_dir (str): folder of the images (created).
        interval (int): draw every ``interval``-th sample. Defaults to 1.
        enable (bool): the hook does nothing when False (MMPose's switch).
    """

    def __init__(self,
                 out_dir: Optional[str] = None,
                 interval: int = 1,
                 enable: bool = True) -> None:
        if enable and not out_dir:
            raise ValueError('Pose3dVisualizationHook needs an out_dir')
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.out_dir, self.interval, self.enable = out_dir, interval, enable
        self._index = 0

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence) -> None:
        if not self.enable:
            return
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt

        from ..visualization.pose3d_plot import draw_pose3d
        os.makedirs(self.out_dir, exist_ok=True)
        links = runner.test_evaluator.dataset_meta['skeleton_links']
        for sample in outputs:
            index, self._index = self._index, self._index + 1
            if index % self.interval:
                continue
            pred = np.asarray(sample.pred_instances.keypoints).reshape(-1, 3)
            gt = np.asarray(
                sample.gt_instances.lifting_target).reshape(-1, 3)
            pred, gt = pred - pred[:1], gt - gt[:1]
            error = np.linalg.norm(pred - gt, axis=-1).mean() * 1000
            target = sample.metainfo.get('target_img_path') or ['sample']
            name = osp.splitext(osp.basename(target[0]))[0]
            fig = plt.figure(figsize=(3.2, 3.6))
            ax = fig.add_subplot(projection='3d')
            draw_pose3d(ax, gt, links, 'tab:green', 'ground truth')
            draw_pose3d(ax, pred, links, 'tab:red', 'prediction')
            ax.set_title(f'{name}\n{error:.0f} mm', fontsize=8)
            ax.view_init(elev=15, azim=-70)
            ax.legend(loc='lower left', fontsize=7)
            fig.savefig(
                osp.join(self.out_dir, f'{index:06d}_{name}.png'), dpi=80)
            plt.close(fig)
