# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
# Over 400 lines: the fast indexing, flip and packing replace the stock
# dataset's together and must stay sample-identical to it.
"""A fast Human3.6M lifting dataset that yields exactly the samples of the
stock MMPose pipeline.

The stock pipeline (``Human36mDataset`` + ``GenerateTarget`` +
``RandomFlipAroundRoot`` + ``PackPoseInputs``) builds, at start-up, one
Python dict per window holding copies of all its frames (81 x 17 x 5 floats
for an 81-frame window), pickles the list, and per sample unpickles the
dict, deep-copies the camera and the skeleton metainfo, normalises the
keypoints of the window and flips joints one by one in Python. That is a few
thousand samples per second per worker, fewer than an 81-frame CrossFormer
consumes on a GPU.

:class:`FastHuman36mDataset` takes the same arguments and the same pipeline
config, and:

* cuts the windows with numpy into one ``(N, F)`` frame-index array (no
  per-window dicts);
* when the pipeline starts with ``GenerateTarget`` with a single
  ``VideoPoseLifting`` encoder, runs that encoder once per video, at
  start-up, on the video's frames (the encoding is per frame, so a window of
  the encoded video equals the encoding of the window, bit for bit) and per
  sample only slices the encoded arrays;
* replaces ``RandomFlipAroundRoot`` and ``PackPoseInputs`` by
  :class:`FastRandomFlipAroundRoot` and :class:`FastPackPoseInputs`
  (vectorised, same random draws, same outputs); other transforms run as
  given.

Opt in by changing the dataset type only::

    train_dataloader = dict(dataset=dict(type='FastHuman36mDataset'))

``tests/test_fast_paths.py`` compares it with the stock pipeline sample by
sample (inputs, targets, target weights, instance fields and metainfo,
random flips included).
"""
import copy
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.dataset import Compose
from mmengine.structures import InstanceData

from mmpose.codecs import VideoPoseLifting
from mmpose.datasets.datasets.body3d import Human36mDataset
from mmpose.datasets.transforms import (GenerateTarget, PackPoseInputs,
                                        RandomFlipAroundRoot)
from mmpose.registry import DATASETS, KEYPOINT_CODECS, TRANSFORMS
from mmpose.structures import PoseDataSample

from .checks import check_finite_frames
from .windows import target_index

# entries that get_data_info creates anew for every sample (in fast mode)
_FRESH_KEYS = frozenset(('id', 'category_id', 'target_img_path', 'target_root',
                         'flip_indices', 'sample_idx'))
# metainfo entries the stock dataset deep-copies into every sample
_METAINFO_KEYS = ('upper_body_ids', 'lower_body_ids', 'flip_pairs',
                  'dataset_keypoint_weights', 'flip_indices',
                  'skeleton_links')


def _flip_keypoints(keypoints: np.ndarray, keypoints_visible: np.ndarray,
                    flip_indices: Sequence[int], center_mode: str,
                    center_x: float,
                    center_index) -> Tuple[np.ndarray, np.ndarray]:
    """Vectorised ``mmpose.structures.flip_keypoints_custom_center``."""
    if center_mode == 'static':
        x_c = center_x
    elif center_mode == 'root':
        center_index = [center_index] if isinstance(center_index,
                                                    int) else center_index
        x_c = keypoints[..., center_index, 0].mean(axis=-1)
    else:
        raise ValueError(f'invalid center_mode {center_mode!r}')
    flip_indices = list(flip_indices)
    if len(flip_indices) != keypoints.shape[-2]:
        # partial index lists keep the remaining joints in place
        flip_indices = flip_indices + list(
            range(len(flip_indices), keypoints.shape[-2]))
    keypoints_flipped = keypoints[..., flip_indices, :]
    keypoints_visible_flipped = keypoints_visible[..., flip_indices]
    keypoints_flipped[..., 0] = x_c * 2 - keypoints_flipped[..., 0]
    return keypoints_flipped, keypoints_visible_flipped


@TRANSFORMS.register_module()
class FastRandomFlipAroundRoot(RandomFlipAroundRoot):
    """:class:`mmpose.datasets.transforms.RandomFlipAroundRoot` with the
    joint swap vectorised and no copy of the camera unless it is flipped.
    Same arguments, same random draw (one ``np.random.rand()`` per sample),
    same results."""

    def transform(self, results: Dict) -> dict:
        if np.random.rand() <= self.flip_prob:
            if self.flip_label:
                keypoints_key = 'keypoint_labels'
                keypoints_visible_key = 'keypoint_labels_visible'
                target_key = 'lifting_target_label'
            else:
                keypoints_key = 'keypoints'
                keypoints_visible_key = 'keypoints_visible'
                target_key = 'lifting_target'
            keypoints = results[keypoints_key]
            keypoints_visible = results.get(keypoints_visible_key)
            if keypoints_visible is None:
                keypoints_visible = np.ones(
                    keypoints.shape[:-1], dtype=np.float32)
            lifting_target = results[target_key]
            lifting_target_visible = results.get('lifting_target_visible')
            if lifting_target_visible is None:
                lifting_target_visible = np.ones(
                    lifting_target.shape[:-1], dtype=np.float32)
            flip_indices = results.get('flip_indices')
            if flip_indices is None:
                flip_indices = list(range(keypoints.shape[-2]))

            kcfg, tcfg = self.keypoints_flip_cfg, self.target_flip_cfg
            results[keypoints_key], results[keypoints_visible_key] = \
                _flip_keypoints(keypoints, keypoints_visible, flip_indices,
                                kcfg.get('center_mode', 'static'),
                                kcfg.get('center_x', 0.5),
                                kcfg.get('center_index', 0))
            results[target_key], results['lifting_target_visible'] = \
                _flip_keypoints(lifting_target, lifting_target_visible,
                                flip_indices,
                                tcfg.get('center_mode', 'static'),
                                tcfg.get('center_x', 0.5),
                                tcfg.get('center_index', 0))
            if self.flip_camera:
                _camera_param = copy.deepcopy(results['camera_param'])
                _camera_param['c'][0] *= -1
                if 'p' in _camera_param:
                    _camera_param['p'][0] *= -1
                # a new dict: the dataset shares the video's camera
                results['camera_param'] = {
                    **results['camera_param'],
                    **_camera_param
                }
        return results


@TRANSFORMS.register_module()
class FastPackPoseInputs(PackPoseInputs):
    """:class:`mmpose.datasets.transforms.PackPoseInputs` for pose lifting
    only (inputs from ``keypoint_labels`` or ``keypoints``), without the
    image and pixel-field branches. Same arguments, same packed sample."""

    def transform(self, results: dict) -> dict:
        if 'img' in results or not ('lifting_target' in results
                                    and 'keypoints' in results):
            return super().transform(results)
        keypoints = results.get('keypoint_labels')
        if keypoints is None:
            keypoints = results['keypoints']
        inputs = torch.from_numpy(np.ascontiguousarray(keypoints))

        data_sample = PoseDataSample()
        gt_instances = InstanceData()
        for key, packed_key in results.get(
                'instance_mapping_table',
                self.instance_mapping_table).items():
            if key in results:
                gt_instances.set_field(results[key], packed_key)
        if self.pack_transformed and 'transformed_keypoints' in results:
            gt_instances.set_field(results['transformed_keypoints'],
                                   'transformed_keypoints')
        data_sample.gt_instances = gt_instances

        gt_instance_labels = InstanceData()
        for key, packed_key in results.get(
                'label_mapping_table', self.label_mapping_table).items():
            if key in results:
                value = results[key]
                if isinstance(value, list):
                    value = np.stack(value)
                if isinstance(value, np.ndarray):
                    value = torch.from_numpy(value)
                gt_instance_labels.set_field(value, packed_key)
        data_sample.gt_instance_labels = gt_instance_labels
        if any(k in results for k in results.get(
                'field_mapping_table', self.field_mapping_table)):
            raise NotImplementedError('FastPackPoseInputs packs no pixel '
                                      'fields; use PackPoseInputs')
        # set_metainfo would deep-copy the values: the fast dataset hands
        # out fresh arrays and lists for every sample, so they are set as
        # they are; anything else is copied as PackPoseInputs does
        fresh = results.get('_fresh_keys', ())
        for k in self.meta_keys:
            if k in results:
                value = results[k]
                if k not in fresh:
                    value = copy.deepcopy(value)
                data_sample.set_field(value, k, field_type='metainfo')
        return dict(inputs=inputs, data_samples=data_sample)


class _Video:
    """Frames of one (subject, action, camera) video."""
    __slots__ = ('frames', 'camera_param', 'encoded')

    def __init__(self, frames: np.ndarray, camera_param) -> None:
        self.frames = frames  # global frame indices, file order
        self.camera_param = camera_param
        self.encoded: Dict[str, np.ndarray] = {}


@DATASETS.register_module()
class FastHuman36mDataset(Human36mDataset):
    """``Human36mDataset`` with windows sliced from per-video arrays and the
    lifting targets encoded once per video (see the module docstring).

    Takes every argument of :class:`mmpose.datasets.Human36mDataset`; the
    pipeline is the stock one. Supported: ``data_mode='topdown'``,
    ``keypoint_2d_src`` ``'gt'`` or ``'detection'``, ``multiple_target=0``.
    ``filter_cfg`` is ignored, as by the stock dataset.
    """

    def __init__(self, *args, **kwargs) -> None:
        if kwargs.get('data_mode', 'topdown') != 'topdown':
            raise NotImplementedError('FastHuman36mDataset supports '
                                      "data_mode='topdown' only")
        if kwargs.get('multiple_target', 0):
            raise NotImplementedError('FastHuman36mDataset does not support '
                                      'multiple_target')
        if kwargs.get('keypoint_2d_src', 'gt') not in ('gt', 'detection'):
            raise NotImplementedError(
                "FastHuman36mDataset supports keypoint_2d_src 'gt' and "
                "'detection'")
        super().__init__(*args, **kwargs)
        self._setup_pipeline()

    # ------------------------------------------------------------------
    # windows
    # ------------------------------------------------------------------
    def get_sequence_indices(self) -> np.ndarray:
        """The stock windows, as one (N, seq_len) int64 array."""
        imgnames = self.ann_data['imgname']
        self._imgnames = imgnames
        video_frames = defaultdict(list)
        for idx, imgname in enumerate(imgnames):
            video_frames[self._parse_h36m_imgname(imgname)].append(idx)
        self._video_frames = {
            k: np.asarray(v, dtype=np.int64)
            for k, v in sorted(video_frames.items())
        }

        seq_len, step = self.seq_len, self.seq_step
        windows = []
        for key, frames in self._video_frames.items():
            n = len(frames)
            if self.pad_video_seq:
                left = target_index(seq_len, self.causal)
                right = 0 if self.causal else left  # as the stock dataset
                if step == 1:
                    pos = np.arange(n)[:, None] + np.arange(-left, right + 1)
                    windows.append(frames[np.clip(pos, 0, n - 1)])
                else:  # the stock formula, frame by frame
                    rows = []
                    for i in range(n):
                        pad_left = max(0, left - i // step)
                        pad_right = max(0, right - (n - 1 - i) // step)
                        start = max(i % step, i - left * step)
                        end = min(n - (n - 1 - i) % step,
                                  i + right * step + 1)
                        rows.append([frames[0]] * pad_left +
                                    list(frames[start:end:step]) +
                                    [frames[-1]] * pad_right)
                    windows.append(np.asarray(rows, dtype=np.int64))
            else:
                span = (seq_len - 1) * step + 1
                starts = np.arange(max(0, n - span + 1))
                pos = starts[:, None] + step * np.arange(seq_len)
                windows.append(frames[pos])
        windows = np.concatenate(windows) if windows else np.zeros(
            (0, seq_len), dtype=np.int64)

        # the stock dataset draws the subset start even for subset_frac=1
        subset_size = int(len(windows) * self.subset_frac)
        start = np.random.randint(0, len(windows) - subset_size + 1)
        # int32 frame indices: half the memory (81-frame windows of all of
        # Human3.6M's training frames take 0.5 GB)
        index_dtype = np.int32 if len(imgnames) < 2**31 else np.int64
        return windows[start:start + subset_size].astype(index_dtype)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        ann = self.ann_data
        num_frames = len(self._imgnames)
        kpts_3d = ann['S'].astype(np.float32)
        if self.keypoint_2d_src == 'detection':
            kpts_2d = self._load_keypoint_2d_detection(
                self.keypoint_2d_det_file)
            assert kpts_2d.shape[0] == kpts_3d.shape[0], (
                f'Number of `kpts_2d` ({kpts_2d.shape[0]}) does not match '
                f'number of `kpts_3d` ({kpts_3d.shape[0]}).')
        elif 'part' in ann.keys():
            kpts_2d = ann['part']
        else:
            kpts_2d = np.zeros((num_frames, self._metainfo['num_keypoints'],
                                3), dtype=np.float32)
        kpts_2d = kpts_2d.astype(np.float32)
        check_finite_frames(kpts_3d,
                            f'annotation file {self.ann_file}, array S')
        check_finite_frames(
            kpts_2d, f'2D detection file {self.keypoint_2d_det_file}'
            if self.keypoint_2d_src == 'detection' else
            f'annotation file {self.ann_file}, array part')
        self._kpts_2d = np.ascontiguousarray(kpts_2d[..., :2])
        self._kpts_2d_visible = np.ascontiguousarray(kpts_2d[..., 2])
        self._kpts_3d = np.ascontiguousarray(kpts_3d[..., :3])
        self._kpts_3d_visible = np.ascontiguousarray(kpts_3d[..., 3])
        if self.factor_file:
            factors = np.load(self.factor_file).astype(np.float32)
        else:
            factors = np.zeros((num_frames, ), dtype=np.float32)
        self._factors = factors
        scales = ann['scale'].astype(np.float32) if 'scale' in ann.keys() \
            else np.zeros(num_frames, dtype=np.float32)
        centers = ann['center'] if 'center' in ann.keys() else np.zeros(
            (num_frames, 2), dtype=np.float32)
        self._scales, self._centers = scales, centers

        windows = self.sequence_indices
        # frame -> (video number, position in the video)
        self._videos: List[_Video] = []
        frame_video = np.zeros(num_frames, dtype=np.int64)
        frame_pos = np.zeros(num_frames, dtype=windows.dtype)
        for v, (key, frames) in enumerate(self._video_frames.items()):
            cam = None
            if self.camera_param_file:
                cam = self.get_camera_param(self._imgnames[frames[0]])
            self._videos.append(_Video(frames, cam))
            frame_video[frames] = v
            frame_pos[frames] = np.arange(len(frames))
        self._window_video = frame_video[windows[:, 0]] if len(
            windows) else np.zeros(0, dtype=np.int64)
        self._frame_pos = frame_pos

        # the stock filter: drop windows whose 2D keypoints are all <= 0
        valid = self._kpts_2d.reshape(num_frames, -1).max(1)[windows].max(
            1) > 0 if len(windows) else np.zeros(0, dtype=bool)
        self._num_keypoints = self._metainfo['num_keypoints']
        if self._num_keypoints == 0:
            valid[:] = False
        ids = np.flatnonzero(valid)
        if self._indices is not None:
            if isinstance(self._indices, int):
                ids = ids[:self._indices] if self._indices >= 0 else \
                    ids[self._indices:]
            else:
                ids = ids[np.asarray(self._indices, dtype=np.int64)]
        self._ids = ids
        self._target_pos = -1 if self.causal else int(self.seq_len) // 2
        self.data_list = []
        self._fully_initialized = True

    def __len__(self) -> int:
        self.full_init()
        return len(self._ids)

    # ------------------------------------------------------------------
    # pipeline
    # ------------------------------------------------------------------
    def _setup_pipeline(self) -> None:
        """Fold a leading GenerateTarget(VideoPoseLifting) into per-video
        encodings and swap in the fast flip and packing transforms."""
        transforms = list(self.pipeline.transforms)
        self._codec: Optional[VideoPoseLifting] = None
        if transforms and isinstance(transforms[0], GenerateTarget) and \
                isinstance(transforms[0].encoder, VideoPoseLifting) and \
                not transforms[0].use_dataset_keypoint_weights:
            self._codec = transforms.pop(0).encoder
        fast = []
        for t in transforms:
            if type(t) is RandomFlipAroundRoot:
                f = FastRandomFlipAroundRoot.__new__(FastRandomFlipAroundRoot)
                f.__dict__.update(t.__dict__)
                t = f
            elif type(t) is PackPoseInputs:
                f = FastPackPoseInputs.__new__(FastPackPoseInputs)
                f.__dict__.update(t.__dict__)
                t = f
            fast.append(t)
        self.pipeline = Compose(fast)
        self._pipeline_keys = set()
        for t in fast:
            self._pipeline_keys.update(getattr(t, 'meta_keys', ()))
        self._full_info = self._codec is None or any(
            not isinstance(t, (FastRandomFlipAroundRoot, FastPackPoseInputs))
            for t in fast)

    def _encoded(self, video: _Video) -> Dict[str, np.ndarray]:
        """The codec's encoding of a whole video (cached)."""
        if not video.encoded:
            f = video.frames
            enc = self._codec.encode(
                keypoints=self._kpts_2d[f],
                keypoints_visible=self._kpts_2d_visible[f],
                lifting_target=self._kpts_3d[f],
                lifting_target_visible=self._kpts_3d_visible[f],
                camera_param=video.camera_param)
            if self._codec.reshape_keypoints:  # (K*D, n) -> per frame
                n = len(f)
                enc['keypoint_labels'] = np.ascontiguousarray(
                    enc['keypoint_labels'].T).reshape(n, -1)
            video.encoded = enc
        return video.encoded

    def get_data_info(self, idx: int) -> dict:
        self.full_init()
        wid = int(self._ids[idx])
        frames = self.sequence_indices[wid]
        video = self._videos[self._window_video[wid]]
        target = frames[[self._target_pos]]
        info = {
            'id': wid,
            'category_id': 1,
            'num_keypoints': self._num_keypoints,
            'iscrowd': 0,
            'img_ids': frames,
            'keypoints': self._kpts_2d[frames],
            'keypoints_visible': self._kpts_2d_visible[frames],
            'lifting_target': self._kpts_3d[target],
            'lifting_target_visible': self._kpts_3d_visible[target],
            'target_img_path': self._imgnames[target],
            'sample_idx': idx,
        }
        if video.camera_param is not None:
            info['camera_param'] = video.camera_param
        if self._full_info or 'img_paths' in self._pipeline_keys:
            info['img_paths'] = list(self._imgnames[frames])
        if self._full_info:  # everything the stock dataset provides
            info.update(
                img_ids=frames.tolist(),
                keypoints_3d=self._kpts_3d[frames],
                keypoints_3d_visible=self._kpts_3d_visible[frames],
                scale=self._scales[wid],
                center=self._centers[wid].astype(np.float32).reshape(1, -1),
                factor=self._factors[frames])
            if 'camera_param' in info:
                info['camera_param'] = copy.deepcopy(info['camera_param'])
            info.update(self._encode_window(video, wid))
            for key in _METAINFO_KEYS:
                info[key] = copy.deepcopy(self._metainfo[key])
        else:
            info.update(self._encode_window(video, wid))
            info['_fresh_keys'] = _FRESH_KEYS
            flip_indices = self._metainfo['flip_indices']
            info['flip_indices'] = list(flip_indices) if isinstance(
                flip_indices, list) else copy.deepcopy(flip_indices)
            for key in _METAINFO_KEYS:
                if key != 'flip_indices' and key in self._pipeline_keys:
                    info[key] = copy.deepcopy(self._metainfo[key])
        return info

    def _encode_window(self, video: _Video, wid: int) -> dict:
        """The encoder's output for window ``wid``, sliced from the video's
        encoding; empty without a folded GenerateTarget."""
        codec = self._codec
        if codec is None:
            return {}
        enc = self._encoded(video)
        pos = self._frame_pos[self.sequence_indices[wid]]
        tpos = pos[[self._target_pos]]
        out = {
            'keypoint_labels': enc['keypoint_labels'][pos],
            'keypoints_visible': enc['keypoints_visible'][pos],
            'lifting_target_label': enc['lifting_target_label'][tpos],
            'lifting_target_weight': enc['lifting_target_weight'][tpos],
            'trajectory_weights': enc['trajectory_weights'][tpos],
        }
        if codec.reshape_keypoints:
            labels = out['keypoint_labels']
            out['keypoint_labels'] = np.ascontiguousarray(labels.T)
        if 'target_root' in enc:
            out['target_root'] = enc['target_root'][tpos]
        for key in ('target_root_removed', 'target_root_index'):
            if key in enc:
                out[key] = enc[key]
        if 'camera_param' in enc:
            out['camera_param'] = copy.deepcopy(enc['camera_param'])
        for name in ('instance_mapping_table', 'label_mapping_table',
                     'field_mapping_table'):
            table = getattr(codec, name)
            if table:
                out[name] = table
        return out

    def prepare_data(self, idx) -> dict:
        return self.pipeline(self.get_data_info(idx))


__all__ = [
    'FastHuman36mDataset', 'FastRandomFlipAroundRoot', 'FastPackPoseInputs'
]
