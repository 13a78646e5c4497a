# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
# Over 400 lines: one dataset's generator (body, motion, cameras, annotations),
# whose parts serve nothing else.
"""A synthetic MPI-INF-3DHP in the preprocessed layout of MMPose 0.x, for
smoke tests and demos of ``configs/crossformer_3dhp_9f.py`` (the real data
needs a licence; see ``MpiInf3dhpDataset`` for the layout).

A kinematic body with the 17 joints of 3DHP's test skeleton, subject-specific
bone lengths, and motion that blends walking round a circle with standing
and reaching (arm raises, forward lean, knee bends), filmed by

- training: a ring of studio cameras (2048 x 2048), subjects S1-S8, sequences
  Seq1-Seq2, the same rig for every sequence as in the real studio;
- test: one camera per sequence TS1-TS6, 2048 x 2048 for TS1-TS4 (studio)
  and 1920 x 1080 for TS5-TS6 (outdoor, 50 fps), with a few "invalid"
  frames dropped like the real ``valid_frame`` flags do.

Everything is drawn from ``numpy.random.default_rng`` streams seeded by
``(seed, subject, sequence)``: the same arguments give byte-identical files.
Coordinates are in metres (3D, camera frame) and pixels (2D), as in the real
preprocessed files.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ...datasets.mpi_inf_3dhp import JOINT_NAMES, TEST_SUBJECTS, TRAIN_SUBJECTS
from ..camera import look_at, project_pinhole, world_to_camera
from ..files import save_npz, save_pickle

J = {name: i for i, name in enumerate(JOINT_NAMES)}
NUM_JOINTS = len(JOINT_NAMES)
ANN_DIR = 'annotations'
TRAIN_FILE = f'{ANN_DIR}/mpi_inf_3dhp_train.npz'
TEST_FILE = f'{ANN_DIR}/mpi_inf_3dhp_test_valid.npz'
TRAIN_CAMERA_FILE = f'{ANN_DIR}/cameras_train.pkl'
TEST_CAMERA_FILE = f'{ANN_DIR}/cameras_test.pkl'
TRAIN_SEQS = ('Seq1', 'Seq2')
#: the cameras of the real training set are 0, 1, 2, 4, 5, 6, 7, 8
ALL_TRAIN_CAMS = (0, 1, 2, 4, 5, 6, 7, 8)
DEFAULT_TRAIN_CAMS = (0, 2, 5, 8)
BBOX_SCALE_FACTOR = 1.2  # preprocess: scale = 1.2 * max(bbox w, h) / 200
ANKLE_HEIGHT = 0.08  # metres above the floor


# --------------------------------------------------------------------- body
@dataclass
class Body3dhp:
    """Segment lengths of the 3DHP skeleton in metres (left/right
    symmetric)."""
    pelvis_spine: float
    spine_neck: float
    neck_head: float
    head_top: float
    hip_half: float
    shoulder_half: float
    thigh: float
    shin: float
    upper_arm: float
    forearm: float


# proportions of the body height (roughly anthropometric)
_PROPORTIONS = dict(
    pelvis_spine=0.14,
    spine_neck=0.17,
    neck_head=0.07,
    head_top=0.06,
    hip_half=0.075,
    shoulder_half=0.11,
    thigh=0.245,
    shin=0.245,
    upper_arm=0.17,
    forearm=0.16)


def make_body(rng: np.random.Generator) -> Body3dhp:
    """A subject: height 1.55-1.90 m, every segment jittered by +-6 %."""
    height = rng.uniform(1.55, 1.90)
    return Body3dhp(
        **{
            k: float(height * v * rng.uniform(0.94, 1.06))
            for k, v in _PROPORTIONS.items()
        })


def _limb_directions(swing: np.ndarray, swing_lower: np.ndarray,
                     abduction: np.ndarray, up: np.ndarray, fwd: np.ndarray,
                     out_dir: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Unit directions (T, 3) of the upper and lower segment of a limb that
    hangs along -``up``, swings towards ``fwd`` by ``swing`` (upper) and
    ``swing_lower`` (lower segment) radians (T,) and is abducted towards
    ``out_dir`` by ``abduction`` (T,)."""
    ab = abduction[:, None]
    return tuple(
        np.cos(ab) * (-np.cos(a[:, None]) * up + np.sin(a[:, None]) * fwd) +
        np.sin(ab) * out_dir for a in (swing, swing_lower))


def forward_kinematics_3dhp(body: Body3dhp, m: Dict[str, np.ndarray]) -> np.ndarray:
    """World joints (T, 17, 3) (z up) from per-frame motion parameters:
    ``root`` (T, 3), ``heading`` (yaw), ``lean`` (forward torso pitch),
    ``nod``, per side ``s`` in ``('l', 'r')``: ``hip_<s>`` (flexion),
    ``knee_<s>``, ``abd_<s>`` (leg abduction), ``sho_<s>`` (arm flexion),
    ``arm_abd_<s>``, ``elbow_<s>`` (all radians)."""
    root = m['root']
    T = len(root)
    up = np.broadcast_to([0., 0., 1.], (T, 3))
    fwd = np.stack([np.cos(m['heading']),
                    np.sin(m['heading']),
                    np.zeros(T)], -1)
    left = np.cross(up, fwd)
    # torso frame, pitched forward by `lean` about the left axis
    cl, sl = np.cos(m['lean'])[:, None], np.sin(m['lean'])[:, None]
    t_up = cl * up + sl * fwd
    t_fwd = cl * fwd - sl * up
    out = np.zeros((T, NUM_JOINTS, 3))
    out[:, J['root']] = root
    out[:, J['spine']] = root + body.pelvis_spine * t_up
    neck = out[:, J['spine']] + body.spine_neck * t_up
    out[:, J['neck']] = neck
    cn, sn = np.cos(m['nod'])[:, None], np.sin(m['nod'])[:, None]
    h_up = cn * t_up + sn * t_fwd
    out[:, J['head']] = neck + body.neck_head * h_up
    out[:, J['head_top']] = out[:, J['head']] + body.head_top * h_up

    for side, sign in (('l', 1.), ('r', -1.)):
        out_dir = sign * left
        name = 'left' if side == 'l' else 'right'
        # leg, in the pelvis' (upright) frame
        hip = root + body.hip_half * out_dir
        thigh, shin = _limb_directions(
            m[f'hip_{side}'], m[f'hip_{side}'] - m[f'knee_{side}'],
            m[f'abd_{side}'], up, fwd, out_dir)
        out[:, J[f'{name}_hip']] = hip
        out[:, J[f'{name}_knee']] = hip + body.thigh * thigh
        out[:, J[f'{name}_ankle']] = out[:, J[f'{name}_knee']] + \
            body.shin * shin
        # arm, in the torso frame
        sho = neck - 0.03 * t_up + body.shoulder_half * out_dir
        upper, fore = _limb_directions(
            m[f'sho_{side}'], m[f'sho_{side}'] + m[f'elbow_{side}'],
            m[f'arm_abd_{side}'], t_up, t_fwd, out_dir)
        out[:, J[f'{name}_shoulder']] = sho
        out[:, J[f'{name}_elbow']] = sho + body.upper_arm * upper
        out[:, J[f'{name}_wrist']] = out[:, J[f'{name}_elbow']] + \
            body.forearm * fore
    return out


# ------------------------------------------------------------------- motion
def _slow_sinusoids(rng: np.random.Generator, t: np.ndarray,
                  amplitude: float) -> np.ndarray:
    """A sum of three random slow sinusoids (0.1-0.8 Hz)."""
    freqs = rng.uniform(0.1, 0.8, 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    return amplitude * np.mean(
        np.sin(2 * np.pi * freqs[:, None] * t + phases[:, None]), axis=0)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0., 1.)
    return x * x * (3 - 2 * x)


def _blend_weight(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """0 (walking) <-> 1 (standing and reaching), switching smoothly every
    2-4 s, starting at random."""
    period = rng.uniform(4., 8.)
    phase = rng.uniform(0., 1.)
    u = (t / period + phase) % 1.
    # ramps of 15 % of the period between the two halves
    return _smoothstep((np.minimum(u, 1 - u) * 2 - 0.35) / 0.3)


def simulate_motion(body: Body3dhp, rng: np.random.Generator, frames: int,
                    fps: float) -> np.ndarray:
    """(frames, 17, 3) world joints of one sequence."""
    t = np.arange(frames) / fps
    w = _blend_weight(rng, t)
    walk = 1. - w
    m: Dict[str, np.ndarray] = {}

    # walking: gait phase advances with the walking weight
    cadence = rng.uniform(0.8, 1.0)  # strides per second
    gait = 2 * np.pi * np.cumsum(walk * cadence / fps)
    gait += rng.uniform(0, 2 * np.pi)
    # reaching: which arm(s), how high, how often
    reach_rate = rng.uniform(0.25, 0.5)  # Hz
    reach = 0.5 - 0.5 * np.cos(2 * np.pi * reach_rate * t +
                               rng.uniform(0, 2 * np.pi))
    crouch = np.clip(_slow_sinusoids(rng, t, 1.0) + 0.3, 0., 1.)
    arms = {'l': rng.uniform(0.3, 1.0), 'r': rng.uniform(0.3, 1.0)}
    reach_height = rng.uniform(1.4, 2.6)

    for side, offset in (('l', 0.), ('r', np.pi)):
        phase = gait + offset
        hip_walk = 0.45 * np.sin(phase)
        knee_walk = 0.15 + 0.55 * np.clip(np.sin(phase - 0.9), 0., None)
        m[f'hip_{side}'] = walk * hip_walk + w * 0.6 * crouch + \
            _slow_sinusoids(rng, t, 0.05)
        m[f'knee_{side}'] = walk * knee_walk + w * 1.1 * crouch + \
            _slow_sinusoids(rng, t, 0.05) + 0.05
        m[f'abd_{side}'] = 0.04 + _slow_sinusoids(rng, t, 0.03)
        # arms: counter-swing when walking, reaching when standing
        m[f'sho_{side}'] = walk * (-0.35 * np.sin(phase)) + \
            w * arms[side] * reach_height * reach + \
            _slow_sinusoids(rng, t, 0.1)
        m[f'arm_abd_{side}'] = 0.12 + w * 0.3 * arms[side] * reach + \
            _slow_sinusoids(rng, t, 0.08)
        m[f'elbow_{side}'] = np.clip(
            walk * 0.35 + w * 1.2 * (1 - reach) * arms[side] + 0.1 +
            _slow_sinusoids(rng, t, 0.15), 0.02, 2.4)
    m['knee_l'] = np.clip(m['knee_l'], 0., 2.2)
    m['knee_r'] = np.clip(m['knee_r'], 0., 2.2)
    m['lean'] = 0.06 * walk + w * (0.25 * crouch + 0.2 * reach) + \
        _slow_sinusoids(rng, t, 0.05)
    m['nod'] = _slow_sinusoids(rng, t, 0.15)

    # trajectory: round a circle while walking, drifting while standing
    radius = rng.uniform(1.0, 1.6)
    speed = rng.uniform(0.9, 1.3) * walk + 0.05 * w  # m/s
    direction = rng.choice([-1., 1.])
    arc = np.cumsum(speed / fps) + rng.uniform(0., 2 * np.pi * radius)
    ang = direction * arc / radius
    m['heading'] = ang + direction * np.pi / 2 + \
        w * _slow_sinusoids(rng, t, 0.6)
    # pelvis height: the lower foot on the floor
    leg = np.stack([
        body.thigh * np.cos(m[f'hip_{s}']) * np.cos(m[f'abd_{s}']) +
        body.shin * np.cos(m[f'hip_{s}'] - m[f'knee_{s}']) *
        np.cos(m[f'abd_{s}']) for s in ('l', 'r')
    ])
    height = leg.max(axis=0) + ANKLE_HEIGHT
    m['root'] = np.stack([radius * np.cos(ang), radius * np.sin(ang), height],
                         -1)
    return forward_kinematics_3dhp(body, m)


# ------------------------------------------------------------------ cameras
def make_camera(rng: np.random.Generator,
                azimuth: float,
                w: int,
                h: int,
                focal: float,
                name: str,
                distance: Tuple[float, float] = (4.0, 5.5),
                height: Tuple[float, float] = (0.6, 2.2),
                extrinsics: bool = True) -> dict:
    """A pinhole camera in the format of MMPose 0.x's 3DHP camera files:
    ``R`` (3, 3) and ``T`` (3, 1, metres) with ``X_cam = R X_world + T``
    (training cameras only), ``f`` and ``c`` (2, 1) in pixels, ``w``, ``h``,
    ``name``."""
    d = rng.uniform(*distance)
    pos = np.array(
        [d * np.cos(azimuth), d * np.sin(azimuth),
         rng.uniform(*height)])
    target = np.array(
        [rng.normal(0., 0.2),
         rng.normal(0., 0.2),
         rng.uniform(0.8, 1.1)])
    R = look_at(pos, target)
    f = focal * rng.uniform(0.97, 1.03, size=(2, 1))
    c = np.array([[w / 2], [h / 2]]) + rng.normal(0., 5., size=(2, 1))
    cam = dict(c=c, f=f, w=int(w), h=int(h), name=name)
    cam['_R'], cam['_T'] = R, -R @ pos[:, None]
    if extrinsics:
        cam['R'], cam['T'] = cam['_R'], cam['_T']
    return cam


def annotations(X_cam: np.ndarray, cam: dict) -> Dict[str, np.ndarray]:
    """``center``, ``scale``, ``part`` and ``S`` of frames as MMPose 0.x's
    preprocessing computes them (visibility: the 2D joint is in the
    image)."""
    kpts = project_pinhole(X_cam, cam['f'], cam['c'])
    vis = ((kpts[..., 0] >= 0) & (kpts[..., 0] < cam['w']) &
           (kpts[..., 1] >= 0) & (kpts[..., 1] < cam['h']))
    vis = vis.astype(np.float32)[..., None]
    lo, hi = kpts.min(axis=1), kpts.max(axis=1)
    return dict(
        center=((lo + hi) / 2).astype(np.float32),
        scale=(BBOX_SCALE_FACTOR * (hi - lo).max(axis=1) / 200).astype(
            np.float32),
        part=np.concatenate([kpts, vis], -1).astype(np.float32),
        S=np.concatenate([X_cam, vis], -1).astype(np.float32))


# ---------------------------------------------------------------- generator
def _rng(seed: int, *keys: str) -> np.random.Generator:
    """A stream for (seed, keys) independent of the other arguments."""
    entropy = [seed] + [int.from_bytes(k.encode(), 'little') for k in keys]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def subject_body(seed: int, subject: str) -> Body3dhp:
    return make_body(_rng(seed, 'body', subject))


def train_rig(seed: int, cams: Sequence[int]) -> Dict[int, dict]:
    """The studio cameras, spread round the capture area (a 14-camera ring
    like the real one; camera k at azimuth k * 360 / 14 degrees)."""
    return {
        c:
        make_camera(
            _rng(seed, 'train_cam', str(c)), 2 * np.pi * c / 14, 2048, 2048,
            1500., f'train_cam_{c}')
        for c in cams
    }


def test_camera(seed: int, subject: str) -> dict:
    k = int(subject[2:])
    rng = _rng(seed, 'test_cam', subject)
    if k <= 4:
        w, h, focal = 2048, 2048, 1500.
    else:
        w, h, focal = 1920, 1080, 1000.
    return make_camera(
        rng,
        rng.uniform(0, 2 * np.pi),
        w,
        h,
        focal,
        f'test_cam_{k}',
        distance=(5.0, 6.0),
        height=(0.9, 1.3),
        extrinsics=False)


def _stack(parts: List[Dict[str, np.ndarray]], names: List[str]) -> dict:
    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    out['imgname'] = np.array(names)
    return out


def synthesize_train(seed: int = 0,
                     frames: int = 64,
                     cams: Sequence[int] = DEFAULT_TRAIN_CAMS,
                     subjects: Sequence[str] = TRAIN_SUBJECTS,
                     seqs: Sequence[str] = TRAIN_SEQS,
                     fps: float = 25.) -> Tuple[dict, dict]:
    """The training annotations (npz arrays) and camera dict: for every
    subject, sequence and camera, in this order, ``frames`` frames."""
    rig = train_rig(seed, cams)
    parts, names, cameras = [], [], {}
    for subj in subjects:
        body = subject_body(seed, subj)
        for seq in seqs:
            X = simulate_motion(body, _rng(seed, 'motion', subj, seq), frames,
                                fps)
            for c in cams:
                cam = rig[c]
                key = f'{subj}_{seq}_Cam{c}'
                cameras[key] = {
                    k: v
                    for k, v in cam.items() if not k.startswith('_')
                }
                parts.append(
                    annotations(world_to_camera(X, cam['_R'], cam['_T']), cam))
                names += [f'{key}_{i + 1:06d}.jpg' for i in range(frames)]
    return _stack(parts, names), cameras


def synthesize_test(seed: int = 0,
                    frames: int = 96,
                    subjects: Sequence[str] = TEST_SUBJECTS,
                    invalid_frac: float = 0.05) -> Tuple[dict, dict]:
    """The test annotations of the valid frames and the camera dict: one
    camera per sequence; TS5-TS6 at 50 fps; one run of about
    ``invalid_frac * frames`` frames per sequence is left out as invalid."""
    parts, names, cameras = [], [], {}
    for subj in subjects:
        fps = 50. if int(subj[2:]) >= 5 else 25.
        rng = _rng(seed, 'motion', subj)
        X = simulate_motion(subject_body(seed, subj), rng, frames, fps)
        cam = test_camera(seed, subj)
        cameras[subj] = {k: v for k, v in cam.items() if not k.startswith('_')}
        valid = np.ones(frames, bool)
        n_bad = int(round(invalid_frac * frames))
        if n_bad:
            start = rng.integers(1, max(2, frames - n_bad))
            valid[start:start + n_bad] = False
        idx = np.flatnonzero(valid)
        parts.append(
            annotations(world_to_camera(X[idx], cam['_R'], cam['_T']), cam))
        names += [f'{subj}_{i + 1:06d}.jpg' for i in idx]
    return _stack(parts, names), cameras


def generate_3dhp(out_dir: str,
                  seed: int = 0,
                  train_frames: int = 64,
                  test_frames: int = 96,
                  cams: Sequence[int] = DEFAULT_TRAIN_CAMS,
                  train_subjects: Sequence[str] = TRAIN_SUBJECTS,
                  test_subjects: Sequence[str] = TEST_SUBJECTS,
                  invalid_frac: float = 0.05) -> Dict[str, int]:
    """Write ``annotations/{mpi_inf_3dhp_train.npz,
    mpi_inf_3dhp_test_valid.npz, cameras_train.pkl, cameras_test.pkl}``
    under ``out_dir``; returns the number of frames per split."""
    os.makedirs(osp.join(out_dir, ANN_DIR), exist_ok=True)
    train, train_cams = synthesize_train(seed, train_frames, cams,
                                         train_subjects)
    test, test_cams = synthesize_test(seed, test_frames, test_subjects,
                                      invalid_frac)
    for path, arrays in ((TRAIN_FILE, train), (TEST_FILE, test)):
        save_npz(
            osp.join(out_dir, path), {k: arrays[k]
                                      for k in sorted(arrays)})
    save_pickle(train_cams, osp.join(out_dir, TRAIN_CAMERA_FILE))
    save_pickle(test_cams, osp.join(out_dir, TEST_CAMERA_FILE))
    return dict(train=len(train['imgname']), test=len(test['imgname']))
