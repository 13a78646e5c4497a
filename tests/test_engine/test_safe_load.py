"""Checkpoints are loaded with ``weights_only=True`` and an explicit
allow-list (``mmcrossformer/engine/safe_load.py``): what this project's own
training and the authors' release write loads; a pickled callable is refused
by name, everywhere a checkpoint enters, and never runs."""
import os

import numpy as np
import pytest
import torch
from mmengine.runner import CheckpointLoader, load_checkpoint

from mmcrossformer.engine.safe_load import (NUMPY_DTYPES, SAFE_GLOBALS,
                                            UnsafeCheckpointError, safe_load)

from ..helpers import REPO, pickle_globals, run_script, run_tool

DEMO = REPO / 'demo/body3d_crossformer_demo.py'
CONVERTER = 'tools/model_converters/crossformer_official_to_mmpose.py'


class Exploit:
    """Unpickling this runs ``touch <marker>``."""

    def __init__(self, marker) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def allowed_names() -> set:
    return {
        g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
        for g in SAFE_GLOBALS
    }


@pytest.fixture
def evil_checkpoint(trained_lifter, tmp_path):
    """The trained checkpoint with a pickled ``os.system`` call in its meta;
    returns (path, marker file the call would create)."""
    _, work_dir = trained_lifter
    ckpt = safe_load(str(work_dir / 'epoch_2.pth'), map_location='cpu')
    marker = tmp_path / 'MARKER'
    ckpt['meta']['note'] = Exploit(marker)
    path = tmp_path / 'evil.pth'
    torch.save(ckpt, path)
    assert 'posix.system' in pickle_globals(path)
    return path, marker


def assert_refused(message: str, marker) -> None:
    assert 'posix.system' in message, message
    assert not marker.exists(), 'the pickled callable ran'


# ------------------------------------------------------------ allow-list
def test_allow_list_is_what_real_checkpoints_hold(trained_lifter, tmp_path):
    """Every global of a tools/train.py checkpoint and of a release-style
    file is allowed, and every allowed name occurs in one of them."""
    _, work_dir = trained_lifter
    trained = pickle_globals(work_dir / 'epoch_2.pth')
    release = tmp_path / 'release.bin'
    torch.save(dict(epoch=1, lr=1e-4,
                    random_state=np.random.RandomState(1234),
                    model_pos={'module.x': torch.zeros(2)}), release)
    released = pickle_globals(release)
    default = {n for n in trained | released if n.startswith(
        ('torch.', 'collections.OrderedDict', '_codecs.encode'))}
    needed = (trained | released) - default
    assert needed <= allowed_names(), needed - allowed_names()
    # numpy 1 wrote the same functions under numpy.core (released files);
    # classes that are only built, never named (RandomState, dtypes), are
    # checked on the loaded objects below
    numpy1_aliases = {n.replace('numpy._core.', 'numpy.core.')
                      for n in needed}
    built = {'numpy.random.mtrand.RandomState'} | {
        f'numpy.dtypes.{type(np.dtype(t)).__name__}' for t in NUMPY_DTYPES}
    assert allowed_names() - built <= needed | numpy1_aliases, (
        allowed_names() - built - needed - numpy1_aliases)
    ckpt = safe_load(str(work_dir / 'epoch_2.pth'), map_location='cpu')
    assert {'meta', 'state_dict', 'message_hub', 'optimizer',
            'random_state'} <= set(ckpt)
    assert isinstance(ckpt['random_state']['numpy'][1], np.ndarray)
    release_ckpt = safe_load(str(release))
    assert isinstance(release_ckpt['random_state'], np.random.RandomState)
    assert numpy_dtypes(ckpt) | numpy_dtypes(release_ckpt) == {
        np.dtype(t) for t in NUMPY_DTYPES}


def numpy_dtypes(obj) -> set:
    """dtypes of the numpy arrays and scalars anywhere in ``obj``."""
    if isinstance(obj, (np.ndarray, np.generic)):
        return {obj.dtype}
    if isinstance(obj, dict):
        obj = list(obj.values())
    elif not isinstance(obj, (list, tuple)):
        obj = list(getattr(obj, '__dict__', {}).values())
    return set().union(*map(numpy_dtypes, obj)) if obj else set()


def test_safe_load_refuses_a_pickled_callable(tmp_path):
    marker = tmp_path / 'MARKER'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': Exploit(marker)}, path)
    with pytest.raises(UnsafeCheckpointError) as e:
        safe_load(str(path))
    assert_refused(str(e.value), marker)
    # mmengine's loader (Runner.load_checkpoint / resume, init_model, the
    # inferencers) goes through safe_load too
    with pytest.raises(UnsafeCheckpointError) as e:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert_refused(str(e.value), marker)
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint(torch.nn.Linear(1, 1), str(path), map_location='cpu')
    assert not marker.exists()


# ------------------------------------------------------------ entry points
def test_tools_test_refuses_a_pickled_callable(trained_lifter,
                                               evil_checkpoint):
    cfg, _ = trained_lifter
    path, marker = evil_checkpoint
    proc = run_tool(['tools/test.py', str(cfg), str(path)], check=False)
    assert proc.returncode != 0
    assert_refused(proc.stderr, marker)


def test_resume_refuses_a_pickled_callable(trained_lifter, evil_checkpoint,
                                           tmp_path):
    cfg, _ = trained_lifter
    path, marker = evil_checkpoint
    proc = run_tool(['tools/train.py', str(cfg), '--work-dir',
                     str(tmp_path / 'wd'), '--resume', str(path)],
                    check=False)
    assert proc.returncode != 0
    assert_refused(proc.stderr, marker)


def test_demo_refuses_a_pickled_callable(trained_lifter, evil_checkpoint,
                                         tmp_path):
    import importlib.util
    spec = importlib.util.spec_from_file_location('cf_demo', DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    cfg, _ = trained_lifter
    path, marker = evil_checkpoint
    np.save(tmp_path / 'kpts.npy', np.random.rand(5, 17, 3) * 100)
    with pytest.raises(UnsafeCheckpointError) as e:
        demo.main([str(cfg), str(path), '--kpt-file',
                   str(tmp_path / 'kpts.npy'), '--img-size', '320', '240',
                   '--no-vis', '--output-root', str(tmp_path)])
    assert_refused(str(e.value), marker)


def test_converter_refuses_a_pickled_callable(tmp_path, capsys):
    marker = tmp_path / 'MARKER'
    src = tmp_path / 'released.bin'
    torch.save(dict(epoch=1, random_state=Exploit(marker),
                    model_pos={'module.head.1.bias': torch.zeros(51)}), src)
    assert run_script(CONVERTER, [str(src), str(tmp_path / 'out.pth')]) != 0
    assert_refused(capsys.readouterr().err, marker)
    assert not (tmp_path / 'out.pth').exists()


class Lookup:
    """Unpickling this calls ``getattr(HistoryBuffer, '__init__')``."""

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, '__init__')


def test_getattr_only_reaches_history_buffer_statistics(tmp_path):
    path = tmp_path / 'lookup.pth'
    torch.save({'x': Lookup()}, path)
    with pytest.raises(UnsafeCheckpointError, match=r"getattr\(.*'__init__'"):
        safe_load(str(path))
