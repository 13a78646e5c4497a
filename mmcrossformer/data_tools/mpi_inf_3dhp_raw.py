# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""MPI-INF-3DHP from its raw release files to the layout that
:class:`mmcrossformer.datasets.MpiInf3dhpDataset` reads, with what the
PoseFormer family (PoseFormer, MHFormer, P-STMO) evaluates the paper's
Table 3 on: the test set's universal skeleton (``univ_annot3``) and every
test frame in time order with its ``valid_frame`` flag.

Raw files (the dataset's own download and test-set archives)::

    TRAIN_DIR/S1/Seq1/annot.mat        ... S8/Seq2: MATLAB v5 (scipy.io)
        cameras (1, 14)                camera numbers 0-13
        annot2, annot3, univ_annot3    (14, 1) cells, one per camera, of
                                       (frames, 28*2) pixels and
                                       (frames, 28*3) millimetres
    TEST_DIR/TS1/annot_data.mat        ... TS6: MATLAB v7.3 = HDF5 (h5py)
        annot2 (N, 1, 17, 2), annot3 and univ_annot3 (N, 1, 17, 3) in
        millimetres, valid_frame (N, 1)

Written under ``OUT_DIR/annotations/``::

    mpi_inf_3dhp_train.npz     S1-S8 x Seq1-2 x cameras 0, 1, 2, 4-8
    mpi_inf_3dhp_test_all.npz  TS1-TS6, every frame, and valid_frame (N,)
    cameras_train.pkl, cameras_test.pkl   {video: dict(w, h, name)}

Each npz holds ``imgname``, ``center``, ``scale``, ``part`` (N, 17, 3),
``S`` (N, 17, 4, metres, from ``annot3``) and ``S_univ`` (the same from
``univ_annot3``). The 17 joints of the training skeleton's 28 are those of
the test skeleton (:data:`TRAIN_JOINTS`, as P-STMO's ``data_to_npz_3dhp.py``
selects them).
"""
import glob
import os
import os.path as osp
import re
from typing import Dict, Optional, Sequence

import numpy as np

from ..datasets.mpi_inf_3dhp import JOINT_NAMES
from .files import save_npz, save_pickle
from .h36m_layout import bbox_center_scale

NUM_JOINTS = len(JOINT_NAMES)
#: the test skeleton's joints (JOINT_NAMES order) among the training
#: skeleton's 28: head_top 7, neck 5, right shoulder/elbow/wrist 14-16, left
#: 9-11, right hip/knee/ankle 23-25, left 18-20, pelvis 4, spine 3, head 6
TRAIN_JOINTS = (7, 5, 14, 15, 16, 9, 10, 11, 23, 24, 25, 18, 19, 20, 4, 3, 6)
TRAIN_JOINTS_RAW = 28
#: the training cameras used by MMPose 0.x, PoseFormer's family and VNect
#: (the chest-height and the downward-looking ones of the 14)
TRAIN_CAMS = (0, 1, 2, 4, 5, 6, 7, 8)
#: frames of each training sequence (the dataset's
#: ``mpii_get_sequence_info``); annotation rows beyond are dropped
SEQUENCE_FRAMES = {
    ('S1', 'Seq1'): 6416, ('S1', 'Seq2'): 12430, ('S2', 'Seq1'): 6502,
    ('S2', 'Seq2'): 6081, ('S3', 'Seq1'): 12488, ('S3', 'Seq2'): 12283,
    ('S4', 'Seq1'): 6171, ('S4', 'Seq2'): 6675, ('S5', 'Seq1'): 12820,
    ('S5', 'Seq2'): 12312, ('S6', 'Seq1'): 6188, ('S6', 'Seq2'): 6145,
    ('S7', 'Seq1'): 6239, ('S7', 'Seq2'): 6320, ('S8', 'Seq1'): 6468,
    ('S8', 'Seq2'): 6054
}
TRAIN_SIZE = (2048, 2048)
#: image size (w, h) of each test sequence: studio TS1-TS4, outdoor TS5-TS6
TEST_SIZE = {
    'TS1': (2048, 2048), 'TS2': (2048, 2048), 'TS3': (2048, 2048),
    'TS4': (2048, 2048), 'TS5': (1920, 1080), 'TS6': (1920, 1080)
}
ANN_DIR = 'annotations'
TRAIN_FILE = f'{ANN_DIR}/mpi_inf_3dhp_train.npz'
TEST_FILE = f'{ANN_DIR}/mpi_inf_3dhp_test_all.npz'
TRAIN_CAMERA_FILE = f'{ANN_DIR}/cameras_train.pkl'
TEST_CAMERA_FILE = f'{ANN_DIR}/cameras_test.pkl'


def read_train_sequence(path: str,
                        cams: Sequence[int] = TRAIN_CAMS,
                        num_frames: Optional[int] = None
                        ) -> Dict[int, Dict[str, np.ndarray]]:
    """One training sequence's ``annot.mat`` (MATLAB v5) -> ``{camera:
    dict(annot2=(N, 17, 2) px, annot3=(N, 17, 3) mm, univ_annot3=...)}``,
    the 17 test-skeleton joints of the 28, the first ``num_frames`` rows."""
    from scipy.io import loadmat
    mat = loadmat(path)
    cameras = [int(c) for c in np.ravel(mat['cameras'])]
    out = {}
    for cam in cams:
        if cam not in cameras:
            raise ValueError(f'{path} has no camera {cam} (has {cameras})')
        i = cameras.index(cam)
        views = {}
        for key, dim in (('annot2', 2), ('annot3', 3), ('univ_annot3', 3)):
            a = np.asarray(np.ravel(mat[key])[i], dtype=np.float64)
            if a.ndim != 2 or a.shape[1] != TRAIN_JOINTS_RAW * dim:
                raise ValueError(
                    f'{path}: {key} of camera {cam} has shape {a.shape}, '
                    f'expected (frames, {TRAIN_JOINTS_RAW * dim})')
            a = a.reshape(len(a), TRAIN_JOINTS_RAW, dim)[:num_frames]
            views[key] = a[:, list(TRAIN_JOINTS)]
        out[cam] = views
    return out


def read_test_sequence(path: str) -> Dict[str, np.ndarray]:
    """One test sequence's ``annot_data.mat`` (MATLAB v7.3, HDF5) ->
    ``dict(annot2=(N, 17, 2) px, annot3=(N, 17, 3) mm, univ_annot3=...,
    valid_frame=(N,) bool)``."""
    import h5py
    with h5py.File(path, 'r') as f:
        valid = np.asarray(f['valid_frame']).reshape(-1).astype(bool)
        out = {'valid_frame': valid}
        for key, dim in (('annot2', 2), ('annot3', 3), ('univ_annot3', 3)):
            a = np.asarray(f[key], dtype=np.float64)
            if a.size != len(valid) * NUM_JOINTS * dim:
                raise ValueError(
                    f'{path}: {key} has shape {a.shape}, expected '
                    f'{len(valid)} frames x {NUM_JOINTS} joints x {dim}')
            out[key] = a.reshape(len(valid), NUM_JOINTS, dim)
    return out


def _split_arrays(names, annot2, annot3, univ3) -> Dict[str, np.ndarray]:
    """The MMPose-layout arrays of frames: 2D in pixels, 3D in metres, all
    joints visible."""
    n = len(names)
    center, scale = bbox_center_scale(annot2)
    ones = np.ones((n, NUM_JOINTS, 1))
    return dict(
        imgname=np.asarray(names),
        center=center.astype(np.float32),
        scale=scale.astype(np.float32),
        part=np.concatenate([annot2, ones], -1).astype(np.float32),
        S=np.concatenate([annot3 / 1000., ones], -1).astype(np.float32),
        S_univ=np.concatenate([univ3 / 1000., ones], -1).astype(np.float32))


def convert_train(train_dir: str, out_dir: str,
                  cams: Sequence[int] = TRAIN_CAMS) -> int:
    """Convert every ``S*/Seq*/annot.mat`` under ``train_dir``; return the
    number of frames written."""
    paths = sorted(
        glob.glob(osp.join(train_dir, 'S*', 'Seq*', 'annot.mat')),
        key=lambda p: [int(x) for x in re.findall(r'\d+', p[len(train_dir):])])
    if not paths:
        raise FileNotFoundError(f'no S*/Seq*/annot.mat under {train_dir}')
    names, a2, a3, u3, cameras = [], [], [], [], {}
    for path in paths:
        seq_dir = osp.dirname(path)
        subject, seq = osp.basename(osp.dirname(seq_dir)), osp.basename(
            seq_dir)
        views = read_train_sequence(
            path, cams, SEQUENCE_FRAMES.get((subject, seq)))
        for cam, v in views.items():
            video = f'{subject}_{seq}_Cam{cam}'
            names += [
                f'{video}_{i + 1:06d}.jpg' for i in range(len(v['annot2']))
            ]
            a2.append(v['annot2'])
            a3.append(v['annot3'])
            u3.append(v['univ_annot3'])
            cameras[video] = dict(w=TRAIN_SIZE[0], h=TRAIN_SIZE[1], name=video)
    os.makedirs(osp.join(out_dir, ANN_DIR), exist_ok=True)
    save_npz(
        osp.join(out_dir, TRAIN_FILE),
        _split_arrays(names, np.concatenate(a2), np.concatenate(a3),
                      np.concatenate(u3)))
    save_pickle(cameras, osp.join(out_dir, TRAIN_CAMERA_FILE))
    return len(names)


def convert_test(test_dir: str, out_dir: str) -> Dict[str, int]:
    """Convert every ``TS*/annot_data.mat`` under ``test_dir``; return the
    frames and the valid frames written."""
    paths = sorted(glob.glob(osp.join(test_dir, 'TS*', 'annot_data.mat')))
    if not paths:
        raise FileNotFoundError(f'no TS*/annot_data.mat under {test_dir}')
    names, a2, a3, u3, valid, cameras = [], [], [], [], [], {}
    for path in paths:
        seq = osp.basename(osp.dirname(path))
        if seq not in TEST_SIZE:
            raise ValueError(f'{path}: unknown test sequence {seq}')
        d = read_test_sequence(path)
        names += [
            f'{seq}_{i + 1:06d}.jpg' for i in range(len(d['valid_frame']))
        ]
        a2.append(d['annot2'])
        a3.append(d['annot3'])
        u3.append(d['univ_annot3'])
        valid.append(d['valid_frame'])
        w, h = TEST_SIZE[seq]
        cameras[seq] = dict(w=w, h=h, name=seq)
    os.makedirs(osp.join(out_dir, ANN_DIR), exist_ok=True)
    valid = np.concatenate(valid)
    save_npz(
        osp.join(out_dir, TEST_FILE),
        dict(
            valid_frame=valid,
            **_split_arrays(names, np.concatenate(a2), np.concatenate(a3),
                            np.concatenate(u3))))
    save_pickle(cameras, osp.join(out_dir, TEST_CAMERA_FILE))
    return dict(frames=len(names), valid=int(valid.sum()))


__all__ = [
    'TRAIN_CAMS', 'TRAIN_JOINTS', 'convert_test', 'convert_train',
    'read_test_sequence', 'read_train_sequence'
]
