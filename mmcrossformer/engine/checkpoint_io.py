# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Crash-safe checkpoint writing and finding the checkpoint to resume from."""
import glob
import os
import os.path as osp
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable, Optional, Union

import torch
from mmengine.fileio import LocalBackend, register_backend


def _atomic_write(path: Union[str, Path], write: Callable) -> None:
    """Call ``write(file)`` on a temporary file beside ``path``, flush it to
    disk and rename it over ``path``: a kill at any moment leaves the old file
    or the new one, never a truncated one."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(obj: Any, path: Union[str, Path]) -> None:
    """``torch.save`` that never leaves a truncated file behind."""
    _atomic_write(path, lambda f: torch.save(obj, f))


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic writes. Configs select it
    for checkpoints with ``default_hooks.checkpoint.backend_args =
    dict(backend='atomic_local')``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        _atomic_write(filepath, lambda f: f.write(obj))

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        self.put(obj.encode(encoding), filepath)


def is_readable_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete torch checkpoint (zip archive with
    intact members)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile):
        return False


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume from: the one named in ``last_checkpoint`` if
    it is readable, else the newest readable ``epoch_*.pth`` / ``iter_*.pth``.
    """
    candidates = []
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            candidates.append(f.read().strip())

    def step(path: str) -> int:
        return int(re.findall(r'(\d+)\.pth$', path)[0])

    candidates += sorted(
        glob.glob(osp.join(work_dir, 'epoch_*.pth')) +
        glob.glob(osp.join(work_dir, 'iter_*.pth')),
        key=step,
        reverse=True)
    for path in candidates:
        if path and is_readable_checkpoint(path):
            return path
    return None
