# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The kinematic human of the synthetic Human3.6M: the 17-joint Human3.6M
skeleton with subject-specific bone lengths, posed by joint-angle tracks.

World frame: metres, z up; body frame: x = subject's right, y = forward.
The synthetic MPI-INF-3DHP (:mod:`.mpi_inf_3dhp`) has its own skeleton
(3DHP's 17 joints, head top included) and body parametrisation; both use the
rotations of :mod:`..camera`.
"""
from dataclasses import dataclass
from typing import Dict, Tuple

import numpy as np

from ..camera import axis_rotation
from ..h36m_layout import NUM_JOINTS

# Mean bone lengths in metres (roughly those of the Human3.6M subjects).
BONE_LENGTHS: Dict[str, float] = {
    'hip': 0.132,  # pelvis -> hip
    'thigh': 0.445,
    'shin': 0.445,
    'spine': 0.235,  # pelvis -> spine
    'chest': 0.250,  # spine -> thorax
    'neck': 0.115,  # thorax -> neck
    'head': 0.115,  # neck -> head
    'shoulder': 0.150,  # thorax -> shoulder
    'upper_arm': 0.280,
    'forearm': 0.250,
}
# Rest directions in the right-handed body frame (x = subject's right,
# y = forward, z = up) of the bones that are not simply 'down' in their
# segment frame; x is mirrored for the left side.
_REST_DIRS: Dict[str, Tuple[float, float, float]] = {
    'hip': (1.0, 0.0, -0.05),
    'spine': (0.0, -0.06, 1.0),
    'chest': (0.0, 0.08, 1.0),
    'neck': (0.0, 0.30, 1.0),
    'head': (0.0, -0.15, 1.0),
    'shoulder': (1.0, 0.0, -0.12),
}
_DOWN = np.array([0.0, 0.0, -1.0])
ANKLE_HEIGHT = 0.09  # metres above the floor (joint 'foot' is the ankle)

# Joint-angle tracks (degrees in key poses, radians after interpolation).
# Sides: _l / _r. Flexion moves a hanging limb forward; knee/elbow >= 0.
STAND_POSE: Dict[str, float] = {
    'yaw': 0.0, 'pelvis_rot': 0.0, 'roll': 0.0, 'lean': 3.0, 'bend': 0.0,
    'twist': 0.0, 'head_pitch': 5.0, 'head_yaw': 0.0,
    'hip_flex_l': 2.0, 'hip_flex_r': 2.0, 'hip_abd_l': 4.0, 'hip_abd_r': 4.0,
    'knee_l': 4.0, 'knee_r': 4.0,
    'sh_flex_l': 5.0, 'sh_flex_r': 5.0, 'sh_abd_l': 8.0, 'sh_abd_r': 8.0,
    'elbow_l': 12.0, 'elbow_r': 12.0,
}  # yapf: disable
TRACKS: Tuple[str, ...] = tuple(STAND_POSE)
STAND_KEEP_YAW = {k: v for k, v in STAND_POSE.items() if k != 'yaw'}
Angles = Dict[str, np.ndarray]  # track name -> (T,) radians


@dataclass
class Body:
    """Subject-specific skeleton: bone name -> length (metres)."""
    bones: Dict[str, float]

    @classmethod
    def sample(cls, rng: np.random.Generator) -> 'Body':
        """Global stature factor U(0.92, 1.08) times per-bone N(1, 0.04)."""
        stature = rng.uniform(0.92, 1.08)
        return cls({
            name: length * stature * rng.normal(1.0, 0.04)
            for name, length in BONE_LENGTHS.items()
        })

    def offset(self, bone: str, side: float = 1.0) -> np.ndarray:
        """Rest bone vector (3,) of ``bone``; side=-1 mirrors to the left."""
        d = np.array(_REST_DIRS[bone]) * (side, 1.0, 1.0)
        return self.bones[bone] * d / np.linalg.norm(d)


def axis_rotation(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotations (T, 3, 3) by ``angle`` (T,) radians about axis 0/1/2."""
    c, s = np.cos(angle), np.sin(angle)
    R = np.zeros(angle.shape + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    R[..., axis, axis] = 1.0
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = c, -s, s, c
    return R


def forward_kinematics(body: Body, ang: Angles) -> np.ndarray:
    """Joint angles (radians, (T,) per track) -> joints (T, 17, 3).

    The pelvis is at the origin; axes are world-aligned after the ``yaw``
    heading (z up). Every bone is a rotated copy of a fixed-length vector, so
    bone lengths are exactly constant over time.
    """
    T = len(ang['yaw'])
    J = np.zeros((T, NUM_JOINTS, 3))
    R_hips = axis_rotation(2, ang['yaw']) @ axis_rotation(2, ang['pelvis_rot']) @ axis_rotation(
        1, ang['roll'])
    R_spine = R_hips @ axis_rotation(0, -ang['lean']) @ axis_rotation(2, ang['twist'] / 2)
    R_chest = R_spine @ axis_rotation(0, -ang['bend']) @ axis_rotation(2, ang['twist'] / 2)
    R_head = R_chest @ axis_rotation(0, -ang['head_pitch']) @ axis_rotation(2, ang['head_yaw'])
    b = body.bones

    J[:, 7] = R_spine @ body.offset('spine')
    J[:, 8] = J[:, 7] + R_chest @ body.offset('chest')
    J[:, 9] = J[:, 8] + R_chest @ body.offset('neck')
    J[:, 10] = J[:, 9] + R_head @ body.offset('head')
    # (side sign, suffix, hip/knee/foot, shoulder/elbow/wrist)
    for sign, s, leg, arm in ((-1.0, 'l', (4, 5, 6), (11, 12, 13)),
                              (1.0, 'r', (1, 2, 3), (14, 15, 16))):
        R_thigh = R_hips @ axis_rotation(0, ang[f'hip_flex_{s}']) @ axis_rotation(
            1, -sign * ang[f'hip_abd_{s}'])
        R_shin = R_thigh @ axis_rotation(0, -ang[f'knee_{s}'])
        J[:, leg[0]] = R_hips @ body.offset('hip', sign)
        J[:, leg[1]] = J[:, leg[0]] + R_thigh @ (b['thigh'] * _DOWN)
        J[:, leg[2]] = J[:, leg[1]] + R_shin @ (b['shin'] * _DOWN)

        R_upper = R_chest @ axis_rotation(0, ang[f'sh_flex_{s}']) @ axis_rotation(
            1, -sign * ang[f'sh_abd_{s}'])
        R_fore = R_upper @ axis_rotation(0, ang[f'elbow_{s}'])
        J[:, arm[0]] = J[:, 8] + R_chest @ body.offset('shoulder', sign)
        J[:, arm[1]] = J[:, arm[0]] + R_upper @ (b['upper_arm'] * _DOWN)
        J[:, arm[2]] = J[:, arm[1]] + R_fore @ (b['forearm'] * _DOWN)
    return J
