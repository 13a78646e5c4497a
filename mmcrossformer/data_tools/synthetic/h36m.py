# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Synthetic Human3.6M in MMPose's preprocessed layout.

A seeded kinematic human (:mod:`.h36m_body`, Human3.6M 17-joint skeleton,
per-subject bone lengths) performing Walking, SittingDown, Purchases,
Directions and Greeting (:mod:`.h36m_motions`), seen by 4 calibrated pinhole
cameras, with detector-like 2D keypoints (joint-dependent noise, left/right
swaps and jumps with low confidence), written by
:func:`..h36m_layout.write_mmpose_h36m`.

World frame: metres, z up, floor at z = 0 (as in Human3.6M); cameras as in
:mod:`..camera`.
"""
import json
import os
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...datasets.h36m_skeleton import H36M_FLIP_INDICES
from ..camera import look_at, project_pinhole, world_to_camera_at
from ..h36m_layout import (ALL_SUBJECTS, CAMERA_FILE, H36M_CAMERA_IDS,
                           H36M_IMAGE_SIZES, NUM_JOINTS, STATS_NAMES,
                           CameraSequence, ann_file, camera_extrinsics,
                           det_file, make_camera_param, stats_file,
                           write_mmpose_h36m)
from .h36m_body import Body
from .h36m_motions import ACTIONS, FPS, simulate_sequence, smooth_noise

_CAMERA_AZIMUTHS_DEG = (70.0, -70.0, 110.0, -110.0)  # as in Human3.6M
# Per-joint detector noise (pixels, 1 sigma) for a subject 5 m away.
DETECTION_SIGMA_PX = np.array([
    3.5, 3.5, 3.0, 3.5, 3.5, 3.0, 3.5, 4.0, 3.0, 2.5, 2.5, 2.5, 3.5, 5.0, 2.5,
    3.5, 5.0
])
# Typical confidence of a correct detection per joint.
DETECTION_BASE_CONF = np.array([
    0.92, 0.90, 0.93, 0.91, 0.90, 0.93, 0.91, 0.90, 0.94, 0.95, 0.95, 0.94,
    0.91, 0.85, 0.94, 0.91, 0.85
])
# joint pairs that a detector swaps: knees, feet, elbows, wrists
_SWAP_GROUPS = tuple((j, H36M_FLIP_INDICES[j]) for j in (2, 3, 12, 13))
_JUMP_JOINTS = (2, 3, 5, 6, 10, 12, 13, 15, 16)


def make_cameras(subject: str, seed: int) -> Dict[Tuple[str, str], dict]:
    """The 4 cameras of ``subject``: intrinsics shared by all subjects
    (f ~ 1145-1150 px, c ~ image centre), extrinsics per subject (4.4-5.3 m
    from the capture centre, 1.45-1.65 m high, in the 4 room corners)."""
    cams = {}
    rng_sub = np.random.default_rng([seed, _subject_number(subject), 1])
    for i, cam_id in enumerate(H36M_CAMERA_IDS):
        rng_int = np.random.default_rng([seed, 0, 2, i])
        f = rng_int.uniform(1143, 1150) + rng_int.uniform(-2, 2, size=2)
        c = np.array(H36M_IMAGE_SIZES[cam_id]) / 2 + rng_int.uniform(
            -8, 20, size=2)
        az = np.deg2rad(_CAMERA_AZIMUTHS_DEG[i] + rng_sub.uniform(-4, 4))
        dist = rng_sub.uniform(4.4, 5.3)
        pos = np.array([
            dist * np.cos(az), dist * np.sin(az),
            rng_sub.uniform(1.45, 1.65)
        ])
        target = np.array(
            [*rng_sub.normal(0, 0.15, 2),
             rng_sub.uniform(0.5, 0.8)])
        R = look_at(pos, target, np.deg2rad(rng_sub.normal(0, 1)))
        cams[(subject, cam_id)] = make_camera_param(R, pos, f, c, cam_id)
    return cams


def simulate_detections(
        rng: np.random.Generator,
        kpts_2d: np.ndarray,
        depth: np.ndarray,
        outlier_rate: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """Detector-like 2D keypoints from the ground truth.

    Args:
        kpts_2d: (T, 17, 2) ground-truth pixels.
        depth: (T,) root depth in metres (noise scales with 1 / depth).
        outlier_rate: mean number of outlier events per second.

    Returns:
        (T, 17, 3) x, y, confidence in [0, 1] and the (T, 17) bool mask of
        outliers (left/right swaps of a limb, or a joint jumping 25-80 px),
        which get confidences in [0.05, 0.45].
    """
    T = len(kpts_2d)
    sigma = DETECTION_SIGMA_PX * (5.0 / depth)[:, None]  # (T, 17)
    unit = 0.6 * rng.standard_normal((T, NUM_JOINTS, 2)) + \
        0.8 * smooth_noise(rng, (T, NUM_JOINTS, 2), 3.0)
    det = kpts_2d + sigma[..., None] * unit
    outlier = np.zeros((T, NUM_JOINTS), bool)
    for _ in range(rng.poisson(outlier_rate * T / FPS)):
        start = int(rng.integers(T))
        sl = slice(start, min(T, start + int(rng.integers(1, 9))))
        if rng.random() < 0.5:
            left, right = _SWAP_GROUPS[rng.integers(len(_SWAP_GROUPS))]
            det[sl, [left, right]] = det[sl, [right, left]]
            outlier[sl, [left, right]] = True
        else:
            j = _JUMP_JOINTS[rng.integers(len(_JUMP_JOINTS))]
            angle = rng.uniform(0, 2 * np.pi)
            jump = rng.uniform(25, 80) * np.array(
                [np.cos(angle), np.sin(angle)])
            det[sl, j] += jump * 5.0 / depth[sl, None]
            outlier[sl, j] = True
    err = np.linalg.norm(unit, axis=-1)  # in sigmas
    conf = DETECTION_BASE_CONF - 0.03 * err + rng.normal(0, 0.02, err.shape)
    conf[outlier] = rng.uniform(0.05, 0.45, outlier.sum())
    return np.concatenate([det, np.clip(conf, 0, 1)[..., None]], -1), outlier


MANIFEST = 'synthetic_h36m.json'
GENERATOR_VERSION = 2  # bump whenever the output of the same arguments changes


def _subject_number(subject: str) -> int:
    if subject not in ALL_SUBJECTS:
        raise ValueError(f'unknown subject {subject!r}; Human3.6M subjects '
                         f'with annotations are {ALL_SUBJECTS}')
    return int(subject[1:])


def sequence_name(action: str, subaction: int) -> str:
    """Human3.6M-style sequence name: 'Walking', 'Walking 1', ..."""
    return action if subaction == 0 else f'{action} {subaction}'


def subject_body(subject: str, seed: int) -> Body:
    """Bone lengths of ``subject`` (independent of the other arguments)."""
    return Body.sample(
        np.random.default_rng([seed, _subject_number(subject), 0]))


def synthesize_sequences(
        seed: int, frames: int, subactions: int, subjects: Sequence[str],
        actions: Sequence[str]) -> Tuple[List[CameraSequence], dict]:
    """All camera sequences and the cameras dict, before writing.

    Every random stream is keyed by (seed, subject, action, subaction,
    camera), so e.g. adding a subject does not change the others.
    """
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f'unknown actions {unknown}; choose from '
                         f'{list(ACTIONS)}')
    if frames < 1 or subactions < 1:
        raise ValueError(f'frames ({frames}) and subactions ({subactions}) '
                         'must be >= 1')
    sequences, cameras = [], {}
    for subject in subjects:
        body = subject_body(subject, seed)
        cams = make_cameras(subject, seed)
        cameras.update(cams)
        for action in actions:
            for sub in range(subactions):
                key = [
                    seed,
                    _subject_number(subject), 3,
                    list(ACTIONS).index(action), sub
                ]
                world = simulate_sequence(body, action, frames,
                                          np.random.default_rng(key))
                for c, cam_id in enumerate(H36M_CAMERA_IDS):
                    param = cams[(subject, cam_id)]
                    X = world_to_camera_at(world, *camera_extrinsics(param))
                    uv = project_pinhole(X, param['f'], param['c'])
                    det, _ = simulate_detections(
                        np.random.default_rng(key + [c]), uv, X[:, 0, 2])
                    sequences.append(
                        CameraSequence(subject, sequence_name(action, sub),
                                       cam_id, X, uv, det))
    return sequences, cameras


def _read_manifest(out_dir: str) -> Optional[dict]:
    """The manifest in ``out_dir`` if it is of this generator version and
    every file it lists exists with the recorded size, else None."""
    try:
        with open(os.path.join(out_dir, MANIFEST)) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return None
    if manifest.get('version') != GENERATOR_VERSION:
        return None
    for rel, size in manifest.get('files', {}).items():
        path = os.path.join(out_dir, rel)
        if not os.path.isfile(path) or os.path.getsize(path) != size:
            return None
    return manifest


def generate_h36m(out_dir: str,
                  *,
                  seed: int = 0,
                  frames: int = 300,
                  subactions: int = 2,
                  subjects: Sequence[str] = ALL_SUBJECTS,
                  actions: Sequence[str] = tuple(ACTIONS),
                  force: bool = False) -> dict:
    """Write a synthetic Human3.6M to ``out_dir`` in MMPose's layout.

    Samples per split = len(split subjects) * len(actions) * subactions *
    frames * 4 cameras; the defaults give 60000 train and 24000 test frames.
    Nothing is written when ``out_dir`` holds a manifest with the same
    arguments and all files of that manifest (unless ``force``).

    Returns:
        The manifest: arguments, samples per split, file sizes, plus
        'skipped' (bool) and 'seconds'.
    """
    args = {
        'seed': seed,
        'frames': frames,
        'subactions': subactions,
        'subjects': list(subjects),
        'actions': list(actions),
    }
    manifest_path = os.path.join(out_dir, MANIFEST)
    if not force:
        old = _read_manifest(out_dir)
        if old is not None and old['args'] == args:
            return {**old, 'skipped': True, 'seconds': 0.0}

    start = time.perf_counter()
    if os.path.exists(manifest_path):
        os.remove(manifest_path)
    sequences, cameras = synthesize_sequences(seed, frames, subactions,
                                              subjects, actions)
    counts = write_mmpose_h36m(out_dir, sequences, cameras)
    files = [CAMERA_FILE]
    for split in counts:
        files += [ann_file(split), det_file(split)]
    if 'train' in counts:
        files += [stats_file(name) for name in STATS_NAMES]
    manifest = {
        'generator': __name__,
        'version': GENERATOR_VERSION,
        'args': args,
        'samples': counts,
        'files': {
            p: os.path.getsize(os.path.join(out_dir, p))
            for p in files
        },
    }
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)
    return {
        **manifest, 'skipped': False,
        'seconds': time.perf_counter() - start
    }
