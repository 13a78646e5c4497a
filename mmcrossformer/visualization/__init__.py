# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
from .pose3d_visualizer import CrossFormerPose3dVisualizer

__all__ = ['CrossFormerPose3dVisualizer']
