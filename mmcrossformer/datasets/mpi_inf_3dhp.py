# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""MPI-INF-3DHP for 2D-to-3D lifting, in the preprocessed layout of MMPose
0.x (``tools/dataset/preprocess_mpi_inf_3dhp.py``) or the one that
``tools/dataset_converters/mpi_inf_3dhp_raw_to_mmpose.py`` writes from the
raw files::

    data/mpi_inf_3dhp/annotations/
        mpi_inf_3dhp_train.npz       S1-S8 x Seq1-2 x cameras
        mpi_inf_3dhp_test_valid.npz  TS1-TS6, frames with valid_frame == 1
        cameras_train.pkl            {'S1_Seq1_Cam0': dict(R, T, c, f, w, h,
                                                           name), ...}
        cameras_test.pkl             {'TS1': dict(c, f, w, h, name), ...}

Each npz holds ``imgname`` (``S1_Seq1_Cam0_000001.jpg`` / ``TS1_000001.jpg``),
``center`` (N, 2), ``scale`` (N,), ``part`` (N, 17, 3: pixels + visibility)
and ``S`` (N, 17, 4: camera coordinates in metres + visibility, from
``annot3``). The converter of the raw files adds ``S_univ`` (the same from
``univ_annot3``, the universal skeleton of height-normalised bone lengths)
and writes the test set as ``mpi_inf_3dhp_test_all.npz``: every frame of
TS1-TS6 in time order with its ``valid_frame`` flag.
"""
import os.path as osp
from typing import List, Tuple

import numpy as np

import numpy as np

from mmpose.datasets.datasets.body3d import Human36mDataset
from mmpose.registry import DATASETS

from .checks import check_finite_frames

#: the dataset_info file of this repository; when the package is installed
#: without the repository, MMPose falls back on its own copy of the same name
#: (``mmpose/.mim/configs/_base_/datasets/mpi_inf_3dhp.py``, the same facts).
METAINFO_FILE = osp.join(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))), 'configs',
    '_base_', 'datasets', 'mpi_inf_3dhp.py')

#: 3DHP's 17 joints (the order of its test-set annotations)
JOINT_NAMES = ('head_top', 'neck', 'right_shoulder', 'right_elbow',
               'right_wrist', 'left_shoulder', 'left_elbow', 'left_wrist',
               'right_hip', 'right_knee', 'right_ankle', 'left_hip',
               'left_knee', 'left_ankle', 'root', 'spine', 'head')
ROOT_INDEX = 14  # pelvis
#: the 14 joints the benchmark's 3DPCK / AUC are computed on (head top,
#: neck, shoulders, elbows, wrists, hips, knees, ankles: all but the pelvis,
#: spine and head)
EVAL_JOINTS_14 = tuple(range(14))
FLIP_INDICES = (0, 1, 5, 6, 7, 2, 3, 4, 11, 12, 13, 8, 9, 10, 14, 15, 16)
TRAIN_SUBJECTS = tuple(f'S{i}' for i in range(1, 9))
#: the 3D targets each protocol evaluates on (``protocol`` argument)
PROTOCOLS = {'mmpose0x': 'S', 'poseformer': 'S_univ'}
TEST_SUBJECTS = tuple(f'TS{i}' for i in range(1, 7))


def parse_3dhp_imgname(imgname: str) -> Tuple[str, str, str]:
    """``(subject, sequence, camera)`` of a 3DHP image name.

    ``S1_Seq2_Cam4_000001.jpg`` -> ``('S1', 'Seq2', 'Cam4')`` (training);
    ``TS3_000001.jpg`` -> ``('TS3', '', '')`` (test: one camera per
    sequence).
    """
    name = osp.basename(str(imgname))
    if name.startswith('TS'):
        return name.split('_', 1)[0], '', ''
    subj, seq, cam, _ = name.split('_', 3)
    return subj, seq, cam


def video_name(imgname: str) -> str:
    """The video (= camera parameter key) an image belongs to:
    ``'S1_Seq2_Cam4'`` or ``'TS3'``."""
    return '_'.join(p for p in parse_3dhp_imgname(imgname) if p)


@DATASETS.register_module()
class MpiInf3dhpDataset(Human36mDataset):
    """MPI-INF-3DHP dataset for 3D human pose lifting.

    "Monocular 3D Human Pose Estimation In The Wild Using Improved CNN
    Supervision", 3DV'2017.

    Keypoints (``configs/_base_/datasets/mpi_inf_3dhp.py``)::

        0: head_top, 1: neck, 2: right_shoulder, 3: right_elbow,
        4: right_wrist, 5: left_shoulder, 6: left_elbow, 7: left_wrist,
        8: right_hip, 9: right_knee, 10: right_ankle, 11: left_hip,
        12: left_knee, 13: left_ankle, 14: root (pelvis), 15: spine, 16: head

    The arguments, the sample windows (``seq_len``, ``seq_step``, ``causal``,
    ``pad_video_seq``, ``multiple_target``, ``subset_frac``) and the 2D
    sources (``keypoint_2d_src='gt'`` reads ``part``; ``'detection'`` a
    ``keypoint_2d_det_file``) are those of MMPose's
    :class:`Human36mDataset`; only the video a frame belongs to and its
    camera differ. A video is one (subject, sequence, camera) of the training
    set or one test sequence ``TS1``-``TS6``; windows never cross videos.
    ``camera_param_file`` is ``annotations/cameras_train.pkl`` for the
    training file and ``annotations/cameras_test.pkl`` for the test file;
    the codec normalises the 2D input with the camera's ``w`` and ``h``
    (2048 x 2048 in the studio, 1920 x 1080 for the outdoor TS5-TS6).
    Files with NaN or infinite keypoints are refused when loaded
    (:class:`~mmcrossformer.datasets.checks.DataCheckError`).

    Windows are cut over the frames in the file. MMPose 0.x's test file
    keeps only the valid frames, so its windows span the gaps in time. A file
    with a ``valid_frame`` array (the converter of the raw files writes one
    for the test set) holds every frame: windows are cut over real time, and
    only the windows whose target frame is valid are kept, so invalid frames
    feed windows but are never evaluated (the protocol of PoseFormer,
    MHFormer and P-STMO).

    Args:
        protocol (str): The 3D targets: ``'mmpose0x'`` reads ``S``
            (``annot3``, MMPose 0.x's protocol); ``'poseformer'`` reads
            ``S_univ`` (``univ_annot3``, the universal skeleton that
            PoseFormer, MHFormer and P-STMO train and evaluate on, the
            numbers the paper's Table 3 compares with).
        **kwargs: The arguments of :class:`Human36mDataset`.
    """

    METAINFO: dict = dict(from_file=METAINFO_FILE)

    def __init__(self, *args, protocol: str = 'mmpose0x', **kwargs) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f'protocol must be one of {sorted(PROTOCOLS)}, '
                             f'got {protocol!r}')
        self.protocol = protocol
        super().__init__(*args, **kwargs)

    def _load_ann_file(self, ann_file: str) -> None:
        super()._load_ann_file(ann_file)
        key = PROTOCOLS[self.protocol]
        if key == 'S':
            return
        if key not in self.ann_data.files:
            raise KeyError(
                f'{ann_file} holds no {key!r} array, which protocol='
                f'{self.protocol!r} reads; the files that '
                'tools/dataset_converters/mpi_inf_3dhp_raw_to_mmpose.py '
                'writes from the raw 3DHP have it')
        arrays = {k: self.ann_data[k] for k in self.ann_data.files}
        self.ann_data = {**arrays, 'S': arrays[key]}

    def get_sequence_indices(self) -> list:
        """The windows of :class:`Human36mDataset`; with a ``valid_frame``
        array in the file, only those whose target frame is valid."""
        windows = super().get_sequence_indices()
        if 'valid_frame' not in self.ann_data.keys():
            return windows
        if self.multiple_target:
            raise NotImplementedError(
                'MpiInf3dhpDataset does not combine multiple_target with '
                'the valid_frame flags of the file')
        valid = np.asarray(self.ann_data['valid_frame']).astype(bool)
        target = -1 if self.causal else int(self.seq_len) // 2
        return [w for w in windows if valid[w[target]]]

    @staticmethod
    def _parse_h36m_imgname(imgname) -> Tuple[str, str, str]:
        # the hook through which Human36mDataset.get_sequence_indices groups
        # frames into videos: (subject, sequence, camera) here
        return parse_3dhp_imgname(imgname)

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        # NaN or infinite keypoints are refused with the file, frame and joint
        for key in ('part', 'S'):
            if key in self.ann_data:
                check_finite_frames(
                    self.ann_data[key],
                    f'annotation file {self.ann_file}, array {key}')
        return super()._load_annotations()

    def _load_keypoint_2d_detection(self, det_file: str) -> np.ndarray:
        kpts = super()._load_keypoint_2d_detection(det_file)
        check_finite_frames(kpts, f'2D detection file {det_file}')
        return kpts

    def get_camera_param(self, imgname) -> dict:
        """Camera parameters of the video of ``imgname``."""
        assert hasattr(self, 'camera_param')
        key = video_name(imgname)
        if key not in self.camera_param:
            raise KeyError(f'No camera `{key}` (for {imgname}) in '
                           f'{self.camera_param_file}')
        return self.camera_param[key]
