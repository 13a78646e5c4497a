# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Checks that give a clear message before mmengine meets a bad file."""
import os.path as osp

import torch

from ..models.official import CONVERT_HINT, is_official_state_dict
from .io import is_readable_checkpoint


def check_checkpoint(path: str) -> None:
    """Raise a ValueError naming the problem if ``path`` is not a complete
    MMPose checkpoint: missing, truncated, or a released CrossFormer file that
    needs conversion first."""
    if not osp.isfile(path):
        raise ValueError(f'checkpoint {path} does not exist')
    if not is_readable_checkpoint(path):
        raise ValueError(f'checkpoint {path} is truncated or damaged (not a '
                         'complete torch zip archive)')
    ckpt = torch.load(path, map_location='cpu', weights_only=False, mmap=True)
    state_dict = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) \
        else {}
    if isinstance(ckpt, dict) and 'model_pos' in ckpt:
        state_dict = ckpt['model_pos']
    if is_official_state_dict(state_dict):
        raise ValueError(f'{path} is a released CrossFormer checkpoint in the '
                         f'authors\' layout; {CONVERT_HINT}')
