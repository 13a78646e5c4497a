# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Crash-safe file writing."""
import os
import os.path as osp
import tempfile
from typing import Any

import torch


def atomic_save(obj: Any, path: str) -> None:
    """``torch.save`` to a temporary file in the destination folder, flushed
    to disk, then renamed over ``path``: a kill at any moment leaves either
    the old file or the new one, never a truncated one."""
    folder = osp.dirname(osp.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-', suffix='.pth')
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
