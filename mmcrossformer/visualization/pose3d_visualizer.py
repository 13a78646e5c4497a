# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""MMPose's 3D visualiser, usable with matplotlib >= 3.10.

``Pose3dLocalVisualizer`` (MMPose 1.3.2) reads the rendered 3D figure with
``FigureCanvasAgg.tostring_rgb``, which matplotlib 3.10 removed, so
``Pose3DInferencer(..., vis_out_dir=...)`` fails with an AttributeError.
This subclass provides that method, only while it draws and only when
matplotlib lacks it, and changes nothing else.
"""
from contextlib import contextmanager

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

from mmpose.registry import VISUALIZERS
from mmpose.visualization import Pose3dLocalVisualizer


def _tostring_rgb(canvas) -> bytes:
    return np.asarray(canvas.buffer_rgba())[..., :3].tobytes()


@contextmanager
def _agg_tostring_rgb():
    if hasattr(FigureCanvasAgg, 'tostring_rgb'):
        yield
        return
    FigureCanvasAgg.tostring_rgb = _tostring_rgb
    try:
        yield
    finally:
        del FigureCanvasAgg.tostring_rgb


@VISUALIZERS.register_module()
class CrossFormerPose3dVisualizer(Pose3dLocalVisualizer):
    """``Pose3dLocalVisualizer`` that also runs on matplotlib >= 3.10."""

    def _draw_3d_data_samples(self, *args, **kwargs):
        with _agg_tostring_rgb():
            return super()._draw_3d_data_samples(*args, **kwargs)
