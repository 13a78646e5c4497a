# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Checks that give a clear message before mmengine meets a bad checkpoint
(mmengine loads weights with strict=False and only warns)."""
import os.path as osp
from typing import Optional

from mmengine.config import ConfigDict

from ..models.official import CONVERT_HINT, is_official_state_dict
from .checkpoint_io import is_readable_checkpoint
from .safe_load import safe_load


def _state_dict(ckpt) -> dict:
    if not isinstance(ckpt, dict):
        return {}
    if 'model_pos' in ckpt:
        return ckpt['model_pos']
    return ckpt.get('state_dict', ckpt)


def check_checkpoint(path: str, model_cfg: Optional[ConfigDict] = None) -> None:
    """Raise a ValueError naming the problem if ``path`` is not a complete
    MMPose checkpoint of the model ``model_cfg`` builds: missing, truncated,
    a released CrossFormer file that needs conversion first, or weights of
    another architecture (missing, unexpected or differently shaped
    tensors), or a file that references objects outside the allow-list of
    :mod:`.safe_load` (:class:`UnsafeCheckpointError`, a ValueError)."""
    if not osp.isfile(path):
        raise ValueError(f'checkpoint {path} does not exist')
    if not is_readable_checkpoint(path):
        raise ValueError(f'checkpoint {path} is truncated or damaged (not a '
                         'complete torch zip archive)')
    state_dict = _state_dict(safe_load(path, map_location='cpu', mmap=True))
    if is_official_state_dict(state_dict):
        raise ValueError(f'{path} is a released CrossFormer checkpoint in the '
                         f'authors\' layout; {CONVERT_HINT}')
    if model_cfg is None:
        return
    from mmpose.registry import MODELS
    expected = MODELS.build(model_cfg).state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    reshaped = [
        f'{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}'
        for k, v in expected.items()
        if k in state_dict and state_dict[k].shape != v.shape
    ]
    if missing or unexpected or reshaped:
        problems = [
            f'{name}: {items[:5]}{" ..." if len(items) > 5 else ""}'
            for name, items in (('missing', missing),
                                ('unexpected', unexpected),
                                ('shape (checkpoint vs model)', reshaped))
            if items
        ]
        raise ValueError(f'checkpoint {path} does not fit the model of this '
                         'config (another architecture or window length?): '
                         + '; '.join(problems))
