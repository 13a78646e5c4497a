# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""MPJPE / P-MPJPE / N-MPJPE in millimetres, averaged over frames and, as
the paper's tables, over actions."""
from typing import Dict, Optional, Sequence

import numpy as np

from mmpose.evaluation.metrics import MPJPE
from mmpose.registry import METRICS

#: suffix of the mean over actions: ``MPJPE_action_mean`` etc.
ACTION_MEAN = 'action_mean'


@METRICS.register_module()
class MPJPEmm(MPJPE):
    """MMPose's :class:`MPJPE` in millimetres, with the paper's average.

    Reported, for ``<M>`` = ``MPJPE``, ``P-MPJPE`` or ``N-MPJPE``:

    * ``<M>_<action>``: the error over all test frames of one action (all
      subjects, sub-actions and cameras: ``Walking_1`` and ``Walking_2`` are
      one action), as MMPose and the release compute it;
    * ``<M>_action_mean``: the mean of the per-action errors over the
      actions (15 on Human3.6M). This is the protocol of the paper's Tables
      1, 2 and 5 and of the release's "action-wise average";
    * ``<M>``: the mean over all test frames (MMPose's overall number). It
      weights actions by their length, so it differs from the paper's.

    MMPose's metric reports in the data's units, metres for the preprocessed
    Human3.6M files; the paper's tables are in millimetres.

    Args:
        mode (str): ``'mpjpe'``, ``'p-mpjpe'`` (rigid alignment) or
            ``'n-mpjpe'`` (scale alignment).
        unit_scale (float): Factor from the data's unit to millimetres.
        collect_device (str): ``'cpu'`` or ``'gpu'``.
        prefix (str, optional): Metric name prefix.
        skip_list (Sequence[str]): ``Subject_Action`` names to skip.
    """

    def __init__(self,
                 mode: str = 'mpjpe',
                 unit_scale: float = 1000.,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 skip_list: Sequence[str] = ()) -> None:
        super().__init__(
            mode=mode,
            collect_device=collect_device,
            prefix=prefix,
            skip_list=list(skip_list))
        self.unit_scale = unit_scale

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = {
            name: float(value) * self.unit_scale
            for name, value in super().compute_metrics(results).items()
        }
        name = self.mode.upper()
        per_action = [v for k, v in metrics.items() if k != name]
        metrics[f'{name}_{ACTION_MEAN}'] = float(np.mean(per_action))
        return metrics
