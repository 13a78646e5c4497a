# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""MPJPE / P-MPJPE / N-MPJPE in millimetres."""
from typing import Dict, Optional, Sequence

from mmpose.evaluation.metrics import MPJPE
from mmpose.registry import METRICS


@METRICS.register_module()
class MPJPEmm(MPJPE):
    """MMPose's :class:`MPJPE` (overall and per action, the same metric
    names), reported in millimetres.

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
        return {
            name: float(value) * self.unit_scale
            for name, value in super().compute_metrics(results).items()
        }
