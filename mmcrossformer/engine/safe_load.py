# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Checkpoint loading that never runs code from the file.

Every checkpoint this package reads goes through :func:`safe_load`:
``torch.load(weights_only=True)`` with an explicit allow-list of the few
non-tensor objects that real checkpoints hold (:data:`SAFE_GLOBALS`). A file
that names any other global (a pickled callable such as ``os.system``) is
refused with :class:`UnsafeCheckpointError` before anything is called.

Importing :mod:`mmcrossformer` also routes mmengine's local-file checkpoint
loader (``CheckpointLoader``, used by ``Runner.load_checkpoint``,
``Runner.resume``, ``mmengine.runner.load_checkpoint`` and MMPose's
``init_model`` / inferencers) through :func:`safe_load`.
"""
import os.path as osp
import pickle
import re
from typing import Any, Callable, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader
from numpy.random import _pickle as np_random_pickle

_NP_MULTIARRAY = np._core.multiarray if hasattr(
    np, '_core') else np.core.multiarray


#: dtypes of the numpy arrays and scalars in checkpoints: ``uint32`` (numpy
#: generator states), ``float64`` (message-hub scalars), ``float32``,
#: ``int64`` and ``uint8`` (``dataset_meta`` arrays)
NUMPY_DTYPES = (np.uint8, np.uint32, np.int64, np.float32, np.float64)


def _numpy_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """numpy arrays and scalars, under the module names of numpy 2
    (``numpy._core``) and numpy 1 (``numpy.core``), and the dtypes they hold
    in checkpoints (:data:`NUMPY_DTYPES`)."""
    out = []
    for name in ('_reconstruct', 'scalar'):
        func = getattr(_NP_MULTIARRAY, name)
        out += [(func, f'numpy.core.multiarray.{name}'),
                (func, f'numpy._core.multiarray.{name}')]
    return out + [np.ndarray, np.dtype
                  ] + [type(np.dtype(t)) for t in NUMPY_DTYPES]




class UnsafeCheckpointError(ValueError):
    """The checkpoint references globals outside :data:`SAFE_GLOBALS`."""


def _empty_bytes() -> bytes:
    """Stands in for ``bytes``: pickle protocol 2 writes ``b''`` as
    ``bytes()`` (empty numpy arrays); any other call is refused."""
    return b''


def _history_buffer_statistic(cls: type, name: str) -> Callable:
    """Stands in for ``getattr``: mmengine's :class:`HistoryBuffer` pickles
    its statistics methods as ``getattr(HistoryBuffer, 'mean')`` etc.; any
    other lookup is refused."""
    if cls is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(HistoryBuffer, name)
    raise UnsafeCheckpointError(
        f'it calls getattr({cls!r}, {name!r}); only the statistics methods '
        'of mmengine\'s HistoryBuffer may be looked up')


#: Everything a checkpoint may reference besides tensors and builtins:
#:
#: * numpy arrays, scalars and dtypes: mmengine's message hub (loss history,
#:   ``dataset_meta`` arrays such as ``flip_indices`` / ``sigmas``) and
#:   :class:`~mmcrossformer.engine.RandomStateHook` (``np.random.get_state()``
#:   holds a ``uint32`` array);
#: * mmengine's :class:`HistoryBuffer` (message-hub scalars), with
#:   ``getattr`` and ``bytes`` restricted to what its pickle uses
#:   (:func:`_history_buffer_statistic`, :func:`_empty_bytes`);
#: * numpy's ``RandomState`` reconstruction, which the authors' released files
#:   hold in ``random_state`` (``run_crossformer.py`` saves the generator
#:   object itself): ``numpy.random._pickle.__randomstate_ctor`` with the
#:   ``MT19937`` bit generator it builds.
SAFE_GLOBALS: List[Union[Callable, Tuple[Callable, str]]] = [
    *_numpy_globals(),
    HistoryBuffer,
    (_history_buffer_statistic, 'builtins.getattr'),
    (_empty_bytes, 'builtins.bytes'),
    (getattr(np_random_pickle, '__randomstate_ctor'),
     'numpy.random._pickle.__randomstate_ctor'),
    (getattr(np_random_pickle, '__bit_generator_ctor'),
     'numpy.random._pickle.__bit_generator_ctor'),
    np.random.RandomState,
    np.random.MT19937,
]


def safe_load(f: str,
              map_location: Optional[Union[str, Callable,
                                           torch.device]] = None,
              mmap: Optional[bool] = None) -> Any:
    """``torch.load(f, weights_only=True)`` allowing :data:`SAFE_GLOBALS`.

    Raises:
        UnsafeCheckpointError: naming the globals of ``f`` that are not
            allowed (nothing in the file has been called).
    """
    with torch.serialization.safe_globals(SAFE_GLOBALS):
        try:
            return torch.load(
                f, map_location=map_location, weights_only=True, mmap=mmap)
        except pickle.UnpicklingError as e:
            raise UnsafeCheckpointError(
                f'refusing to load {f}: it references '
                f'{_offending_globals(f, e)}, outside the allow-list of '
                'checkpoint contents (tensors, optimizer and scheduler '
                'states, numpy arrays, mmengine message hub, numpy '
                'RandomState). Such a file could run any code while loading; '
                'nothing in it was run.') from None
        except UnsafeCheckpointError as e:
            raise UnsafeCheckpointError(f'refusing to load {f}: {e}') from None


def _offending_globals(f: str, error: Exception) -> str:
    """The names of the globals of ``f`` that are not allowed (call inside
    the ``safe_globals`` context)."""
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(f)
    except (ValueError, RuntimeError, OSError):  # not a zip checkpoint
        names = re.findall(r'GLOBAL (\S+)', str(error))
    return ', '.join(sorted(set(names))) or str(error).splitlines()[0]


def load_from_local_weights_only(filename: str,
                                 map_location=None) -> Any:
    """mmengine's local-file checkpoint loader, through :func:`safe_load`."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename} can not be found.')
    return safe_load(filename, map_location=map_location)


CheckpointLoader.register_scheme(
    prefixes='', loader=load_from_local_weights_only, force=True)
