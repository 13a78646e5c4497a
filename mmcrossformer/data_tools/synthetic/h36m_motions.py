# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The five motions of the synthetic Human3.6M (Walking, SittingDown,
Purchases, Directions, Greeting) as joint-angle tracks of
:mod:`.h36m_body`, and :func:`simulate_sequence`: world joints of a body
performing one of them at 50 fps."""
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Tuple

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import gaussian_filter1d

from .h36m_body import (ANKLE_HEIGHT, STAND_KEEP_YAW, STAND_POSE, TRACKS,
                        Angles, Body, forward_kinematics)

FPS = 50


class _Timeline:
    """Key poses (time in s, full pose in degrees) built step by step."""

    def __init__(self, start: Mapping[str, float]):
        self.times: List[float] = [0.0]
        self.poses: List[Dict[str, float]] = [dict(start)]

    @property
    def end(self) -> float:
        return self.times[-1]

    @property
    def pose(self) -> Dict[str, float]:
        return self.poses[-1]

    def to(self, dt: float, **changes: float) -> None:
        """Reach the current pose updated with ``changes`` after ``dt`` s."""
        unknown = set(changes) - set(TRACKS)
        if unknown:
            raise KeyError(f'unknown joint-angle tracks {sorted(unknown)}')
        self.times.append(self.end + dt)
        self.poses.append({**self.pose, **changes})

    def tracks(self, t: np.ndarray) -> Angles:
        """Shape-preserving cubic interpolation at t (T,) seconds."""
        keys = np.array([[pose[name] for name in TRACKS]
                         for pose in self.poses])  # (K, tracks)
        curves = PchipInterpolator(self.times, np.deg2rad(keys))(
            np.clip(t, 0.0, self.end))
        return {name: curves[:, i] for i, name in enumerate(TRACKS)}


@dataclass
class Motion:
    """Joint-angle tracks (T,) in radians; root_xy (T, 2) world path of a
    locomotion, or None when the feet stay anchored on the spot."""
    angles: Angles
    root_xy: Optional[np.ndarray] = None


def _side(rng: np.random.Generator) -> str:
    return 'l' if rng.random() < 0.5 else 'r'


def _both(name: str, value: float) -> Dict[str, float]:
    return {f'{name}_l': value, f'{name}_r': value}


def _arm(side: str, flex: float, abd: float, elbow: float) -> Dict[str, float]:
    """Shoulder flexion/abduction and elbow flexion of one arm (degrees)."""
    return {
        f'sh_flex_{side}': flex,
        f'sh_abd_{side}': abd,
        f'elbow_{side}': elbow
    }


def _rest_arm(side: str) -> Dict[str, float]:
    """The arm of ``side`` as in :data:`STAND_POSE`."""
    return {k: STAND_POSE[k] for k in _arm(side, 0, 0, 0)}


def smooth_noise(rng: np.random.Generator, shape: Tuple[int, ...],
                  sigma_frames: float) -> np.ndarray:
    """Unit-std noise (T, ...) low-pass filtered along axis 0."""
    x = gaussian_filter1d(rng.standard_normal(shape), sigma_frames, axis=0)
    return x / max(x.std(), 1e-12)


def _periodic_bump(phase: np.ndarray, center: float,
                   width: float) -> np.ndarray:
    """Gaussian bump of a cyclic phase (in cycles) around ``center``."""
    d = (phase - center + 0.5) % 1.0 - 0.5
    return np.exp(-0.5 * (d / width)**2)


def _walking(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Gait cycle while walking round an ellipse (1.0-1.4 m semi-major
    axis) at 1.0-1.4 m/s."""
    a, b = rng.uniform(1.0, 1.4), rng.uniform(0.7, 1.0)
    rot, direction = rng.uniform(0, 2 * np.pi), rng.choice([-1.0, 1.0])
    u = np.linspace(0, 2 * np.pi, 2049)
    pts = np.stack([a * np.cos(u), direction * b * np.sin(u)], -1)
    pts = pts @ np.array([[np.cos(rot), np.sin(rot)],
                          [-np.sin(rot), np.cos(rot)]])
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])  # arc length at u
    speed = rng.uniform(1.0,
                        1.4) * (1 + 0.08 * smooth_noise(rng, t.shape, FPS))
    dist = rng.uniform(0, arc[-1]) + np.cumsum(speed) / FPS
    s = dist % arc[-1]
    root_xy = np.stack([np.interp(s, arc, pts[:, i]) for i in (0, 1)], -1)
    tangent = np.stack(
        [np.interp(s, arc, np.gradient(pts[:, i])) for i in (0, 1)], -1)
    heading = np.unwrap(np.arctan2(-tangent[:, 0], tangent[:, 1]))

    phase = dist / rng.uniform(1.25, 1.5) + rng.random()  # stride cycles
    hip_amp, arm_amp = rng.uniform(18, 24), rng.uniform(12, 22)
    knee_load, knee_swing = rng.uniform(10, 16), rng.uniform(50, 62)
    deg = {name: np.full(t.shape, v) for name, v in STAND_POSE.items()}
    for s_, ph in (('r', phase), ('l', phase + 0.5)):
        cyc = np.cos(2 * np.pi * ph)
        deg[f'hip_flex_{s_}'] = 6 + hip_amp * cyc
        deg[f'knee_{s_}'] = 4 + knee_load * _periodic_bump(
            ph, 0.13, 0.06) + knee_swing * _periodic_bump(ph, 0.72, 0.1)
        deg[f'hip_abd_{s_}'] = 3 + 2 * np.sin(2 * np.pi * ph)
        deg[f'sh_flex_{s_}'] = 4 - arm_amp * cyc
        deg[f'elbow_{s_}'] = 18 + 10 * (1 - cyc) / 2
    deg['pelvis_rot'] = 5 * np.cos(2 * np.pi * phase)
    deg['twist'] = -4 * np.cos(2 * np.pi * phase)
    deg['roll'] = 2 * np.sin(4 * np.pi * phase)
    deg['lean'] = np.full(t.shape, rng.uniform(3, 8))
    angles = {name: np.deg2rad(v) for name, v in deg.items()}
    angles['yaw'] = heading
    return Motion(angles, root_xy)


def _sitting_down(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Stand -> sit down on a chair -> sit -> stand up, repeated."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.4, 1.0))
        hip, knee = rng.uniform(80, 95), rng.uniform(85, 100)
        down = rng.uniform(1.2, 1.8)
        tl.to(
            down / 2,
            lean=rng.uniform(30, 40),
            **_both('hip_flex', hip / 2),
            **_both('knee', knee / 2),
            **_both('sh_flex', rng.uniform(15, 35)),
            **_both('elbow', rng.uniform(20, 40)))
        tl.to(
            down / 2,
            lean=rng.uniform(5, 15),
            **_both('hip_flex', hip),
            **_both('knee', knee),
            **_both('sh_flex', rng.uniform(25, 35)),
            **_both('elbow', rng.uniform(40, 60)))
        tl.to(
            rng.uniform(1.0, 2.0),
            lean=rng.uniform(0, 20),
            head_pitch=rng.uniform(-5, 20),
            head_yaw=rng.uniform(-20, 20))
        up = rng.uniform(1.2, 1.8)
        tl.to(
            up / 2,
            lean=rng.uniform(35, 45),
            **_both('hip_flex', hip * 0.6),
            **_both('knee', knee * 0.6),
            **_both('sh_flex', rng.uniform(20, 40)),
            head_yaw=0.0)
        tl.to(up / 2, **STAND_KEEP_YAW)
    return Motion(tl.tracks(t))


def _purchases(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Turn to a shelf, reach forward/down with one arm, carry the item."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.3, 1.0))
        if rng.random() < 0.5:
            tl.to(
                rng.uniform(0.6, 1.0),
                yaw=tl.pose['yaw'] + rng.uniform(-40, 40))
        s = _side(rng)
        knee = rng.uniform(0, 25)
        tl.to(
            rng.uniform(0.7, 1.2),
            lean=rng.uniform(5, 35),
            twist=rng.uniform(5, 15) * (1 if s == 'r' else -1),
            head_pitch=rng.uniform(10, 35),
            **_both('knee', knee),
            **_both('hip_flex', 0.6 * knee),
            **_arm(s, rng.uniform(50, 110), rng.uniform(0, 30),
                   rng.uniform(5, 25)))
        tl.to(rng.uniform(0.2, 0.6))
        tl.to(
            rng.uniform(0.7, 1.2),
            lean=STAND_POSE['lean'],
            twist=0.0,
            head_pitch=STAND_POSE['head_pitch'],
            **_both('knee', 4.0),
            **_both('hip_flex', 2.0),
            **_arm(s, rng.uniform(15, 30), 10.0, rng.uniform(70, 95)))
    return Motion(tl.tracks(t))


def _directions(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Turn in place with small steps, then point with one arm."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.5, 1.2))
        turn = rng.uniform(60, 180) * rng.choice([-1.0, 1.0])
        tl.to(rng.uniform(1.2, 2.4), yaw=tl.pose['yaw'] + turn)
        s = _side(rng)
        tl.to(
            rng.uniform(0.6, 1.0),
            head_yaw=rng.uniform(-15, 15),
            **_arm(s, rng.uniform(60, 95), rng.uniform(0, 45),
                   rng.uniform(5, 20)))
        tl.to(rng.uniform(0.5, 1.5))
        tl.to(rng.uniform(0.6, 1.0), head_yaw=0.0, **_rest_arm(s))
    angles = tl.tracks(t)
    # One step per 45 degrees turned, feet alternating.
    turned = np.abs(np.diff(angles['yaw'], prepend=angles['yaw'][0]))
    steps = np.cumsum(turned) / np.deg2rad(45)
    lift = np.sin(np.pi * (steps % 1.0))**2
    left = np.floor(steps) % 2 == 0
    for s_, on in (('l', left), ('r', ~left)):
        angles[f'knee_{s_}'] += np.deg2rad(30) * lift * on
        angles[f'hip_flex_{s_}'] += np.deg2rad(15) * lift * on
    return Motion(angles)


def _greeting(rng: np.random.Generator, t: np.ndarray) -> Motion:
    """Waves, handshakes and bows."""
    tl = _Timeline(STAND_POSE)
    while tl.end < t[-1]:
        tl.to(rng.uniform(0.5, 1.5))
        s = _side(rng)
        kind = rng.integers(3)
        if kind == 0:  # wave: raised arm, oscillating elbow at ~2 Hz
            tl.to(
                rng.uniform(0.6, 0.9),
                **_arm(s, rng.uniform(10, 40), rng.uniform(70, 110), 50.0))
            for i in range(int(rng.integers(4, 9))):
                tl.to(
                    rng.uniform(0.2, 0.3),
                    **{f'elbow_{s}': 25.0 if i % 2 else 75.0})
        elif kind == 1:  # handshake: arm forward, pumping
            tl.to(
                rng.uniform(0.6, 0.9),
                lean=rng.uniform(5, 15),
                **{
                    f'sh_flex_{s}': 45.0,
                    f'elbow_{s}': rng.uniform(30, 45)
                })
            for i in range(int(rng.integers(3, 7))):
                tl.to(
                    rng.uniform(0.15, 0.25),
                    **{f'sh_flex_{s}': 38.0 if i % 2 else 52.0})
        else:  # bow
            tl.to(
                rng.uniform(0.6, 1.0),
                lean=rng.uniform(20, 40),
                head_pitch=rng.uniform(20, 30))
            tl.to(rng.uniform(0.5, 1.0))
        tl.to(rng.uniform(0.6, 1.0), **STAND_KEEP_YAW)
    return Motion(tl.tracks(t))


ACTIONS: Dict[str, Callable[[np.random.Generator, np.ndarray], Motion]] = {
    'Walking': _walking,
    'SittingDown': _sitting_down,
    'Purchases': _purchases,
    'Directions': _directions,
    'Greeting': _greeting,
}


def simulate_sequence(body: Body, action: str, frames: int,
                      rng: np.random.Generator) -> np.ndarray:
    """World joint positions (frames, 17, 3) of ``body`` performing
    ``action`` at 50 fps; the lower ankle stays at :data:`ANKLE_HEIGHT`."""
    t = np.arange(frames) / FPS
    motion = ACTIONS[action](rng, t)
    sway = np.deg2rad(1.5) * smooth_noise(rng, (len(t), len(TRACKS)), FPS / 4)
    angles = {
        name: motion.angles[name] + sway[:, i]
        for i, name in enumerate(TRACKS)
    }
    if motion.root_xy is None:  # random facing direction
        angles['yaw'] += rng.uniform(0, 2 * np.pi)
    for name in ('knee_l', 'knee_r', 'elbow_l', 'elbow_r'):
        angles[name] = np.maximum(angles[name], 0.0)

    joints = forward_kinematics(body, angles)
    feet = joints[:, [3, 6]]
    if motion.root_xy is None:  # feet centroid anchored on the spot
        anchor = rng.uniform(-0.6, 0.6, size=2)
        root_xy = anchor - feet[..., :2].mean(axis=1)
    else:
        root_xy = motion.root_xy
    root_z = ANKLE_HEIGHT - feet[..., 2].min(axis=1)
    root = np.concatenate([root_xy, root_z[:, None]], axis=-1)
    return joints + root[:, None]
