# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Matplotlib drawing of root-relative 3D poses in the camera frame."""
from typing import Sequence, Tuple

import numpy as np


def draw_pose3d(ax, pose: np.ndarray, links: Sequence[Tuple[int, int]],
                color: str, label: str) -> None:
    """Draw the skeleton ``links`` of ``pose`` (J, 3) (camera frame: x
    right, y down, z forward) on a 3D axis as (x, z, -y), upright."""
    for i, (a, b) in enumerate(links):
        ax.plot(pose[[a, b], 0], pose[[a, b], 2], -pose[[a, b], 1],
                color=color, lw=2, label=label if i == 0 else None)
