# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The one camera convention of the data tools.

* World frame: metres, z up. Camera frame (OpenCV): x right, y down,
  z forward, metres.
* ``R`` is always the **world-to-camera** rotation (3, 3): its rows are the
  camera axes in world coordinates. A camera is placed either by its
  translation ``T`` (3,) or by its centre ``C`` (3,) in the world, with

      X_cam = R @ X_world + T = R @ (X_world - C),   T = -R @ C.

* Points are row vectors (..., 3), so the code reads ``X @ R.T``.

The files of MMPose store other conventions (Human3.6M's ``cameras.pkl``
keeps the camera-to-world rotation and the centre); the layout writers
convert at the file boundary (:mod:`.h36m_layout`).
"""
from typing import Sequence

import numpy as np


def axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotations (..., 3, 3) by ``angle`` (...) radians about axis 0/1/2
    (right-handed: the rotation of a vector, not of the frame)."""
    c, s = np.cos(angle), np.sin(angle)
    R = np.zeros(np.shape(angle) + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1.0
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def quaternion_to_matrix(q: Sequence[float]) -> np.ndarray:
    """Unit quaternion (w, x, y, z) -> rotation matrix (3, 3)."""
    w, x, y, z = np.asarray(q, np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def look_at(position: np.ndarray,
            target: np.ndarray,
            roll: float = 0.0) -> np.ndarray:
    """World-to-camera rotation (3, 3) of a camera at ``position`` looking
    at ``target`` (world z up, image y down), rolled by ``roll`` radians
    about its optical axis."""
    z = target - position
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R_c2w = np.stack([x, y, z], axis=1) @ axis_rotation(2, np.array(roll))
    return np.ascontiguousarray(R_c2w.T)


def world_to_camera(X: np.ndarray, R: np.ndarray, T: np.ndarray) -> np.ndarray:
    """World points (..., 3) -> camera points (..., 3): ``R X + T``."""
    return X @ R.T + np.reshape(T, 3)


def world_to_camera_at(X: np.ndarray, R: np.ndarray,
                       C: np.ndarray) -> np.ndarray:
    """World points (..., 3) -> camera points (..., 3) of the camera centred
    at ``C`` (3,): ``R (X - C)``."""
    return (X - np.reshape(C, 3)) @ R.T


def camera_to_world_at(X: np.ndarray, R: np.ndarray,
                       C: np.ndarray) -> np.ndarray:
    """Inverse of :func:`world_to_camera_at`: ``R^T X + C``."""
    return X @ R + np.reshape(C, 3)


def project_pinhole(X: np.ndarray, f: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Camera points (..., 3) -> pixels (..., 2) with focal lengths ``f`` and
    principal point ``c`` (2 values each), without distortion."""
    return (X[..., :2] / X[..., 2:]) * np.reshape(f, 2) + np.reshape(c, 2)


def project_h36m_distorted(X: np.ndarray, f: np.ndarray, c: np.ndarray,
                           k: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Camera points (..., 3) -> distorted pixels (..., 2), the Human3.6M
    camera model: radial ``k`` = (k1, k2, k3) and tangential ``p`` =
    (p1, p2) (Human3.6M / VideoPose3D order), without the factor 2 of the
    textbook Brown-Conrady model."""
    xy = X[..., :2] / X[..., 2:]
    k, p = np.ravel(k), np.ravel(p)
    r2 = (xy**2).sum(-1, keepdims=True)
    radial = 1 + k[0] * r2 + k[1] * r2**2 + k[2] * r2**3
    tangential = (p * xy).sum(-1, keepdims=True)
    xy = xy * (radial + tangential) + p * r2
    return xy * np.ravel(f) + np.ravel(c)
