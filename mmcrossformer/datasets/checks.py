# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Pre-flight checks of Human3.6M-layout files, with messages that name the
file and the problem, before MMPose's dataset meets them."""
import os.path as osp
import zipfile
from typing import Iterable, Optional

import numpy as np
from mmengine.config import ConfigDict

from .plain_and_mirrored import unwrap_dataset_cfg

ANN_KEYS = ('imgname', 'center', 'scale', 'part', 'S')


class DataCheckError(ValueError):
    """A data file is missing, empty, damaged or inconsistent."""


def _path(data_root: Optional[str], path: str) -> str:
    return path if osp.isabs(path) or not data_root else osp.join(
        data_root, path)


def _require_file(path: str, what: str) -> None:
    if not osp.isfile(path):
        raise DataCheckError(f'{what} {path} does not exist')
    if osp.getsize(path) == 0:
        raise DataCheckError(f'{what} {path} is empty (0 bytes)')


def check_h36m_files(data_root: Optional[str],
                     ann_file: str,
                     keypoint_2d_det_file: Optional[str] = None,
                     camera_param_file: Optional[str] = None) -> int:
    """Check an annotation npz (and its detection and camera files) in
    MMPose's Human3.6M layout; return the number of frames.

    Raises:
        DataCheckError: naming the file and what is wrong with it.
    """
    ann_path = _path(data_root, ann_file)
    _require_file(ann_path, 'annotation file')
    try:
        with np.load(ann_path) as ann:
            missing = [k for k in ANN_KEYS if k not in ann.files]
            if missing:
                raise DataCheckError(f'annotation file {ann_path} lacks the '
                                     f'arrays {missing}')
            arrays = {k: ann[k] for k in ANN_KEYS}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        if isinstance(e, DataCheckError):
            raise
        raise DataCheckError(f'annotation file {ann_path} is not a readable '
                             f'npz file: {e}') from e
    lengths = {k: len(v) for k, v in arrays.items()}
    num = lengths['imgname']
    if num == 0:
        raise DataCheckError(f'annotation file {ann_path} holds no frames')
    if len(set(lengths.values())) > 1:
        raise DataCheckError(f'annotation file {ann_path}: its arrays '
                             f'disagree in length {lengths}')
    for key in ('part', 'S'):
        if arrays[key].ndim != 3:
            raise DataCheckError(f'annotation file {ann_path}: {key} has '
                                 f'shape {arrays[key].shape}, expected '
                                 '(frames, joints, channels)')
        if not np.isfinite(arrays[key]).all():
            raise DataCheckError(f'annotation file {ann_path}: {key} holds '
                                 'NaN or infinite values')

    if keypoint_2d_det_file:
        det_path = _path(data_root, keypoint_2d_det_file)
        _require_file(det_path, '2D detection file')
        try:
            det = np.load(det_path, mmap_mode='r')
        except (OSError, ValueError, EOFError) as e:
            raise DataCheckError(f'2D detection file {det_path} is not a '
                                 f'readable npy file: {e}') from e
        if det.ndim != 3 or det.shape[0] != num or det.shape[2] != 3:
            raise DataCheckError(
                f'2D detection file {det_path} has shape {det.shape}; '
                f'{ann_path} needs ({num}, {arrays["part"].shape[1]}, 3): '
                'one (x, y, score) row per annotated frame, in its order')
        if not np.isfinite(det).all():
            raise DataCheckError(f'2D detection file {det_path} holds NaN or '
                                 'infinite values')
    if camera_param_file:
        _require_file(_path(data_root, camera_param_file), 'camera file')
    return num


# datasets that read the Human3.6M file layout
CHECKED_TYPES = ('Human36mDataset', 'MpiInf3dhpDataset')


def check_dataset_cfgs(dataset_cfgs: Iterable[Optional[ConfigDict]]) -> None:
    """Run :func:`check_h36m_files` on every dataset config of the types in
    :data:`CHECKED_TYPES`, inside wrappers such as ``PlainAndMirroredDataset``
    too (``None`` entries and other types are skipped)."""
    for cfg in dataset_cfgs:
        if cfg is not None:
            cfg = unwrap_dataset_cfg(cfg)
        if cfg is None or cfg.get('type') not in CHECKED_TYPES:
            continue
        uses_det = cfg.get('keypoint_2d_src', 'gt') == 'detection'
        check_h36m_files(
            cfg.get('data_root'), cfg.ann_file,
            cfg.get('keypoint_2d_det_file') if uses_det else None,
            cfg.get('camera_param_file'))
