"""``import mmcrossformer`` stops with the command that fixes xtcocotools
when it is missing or compiled against another numpy (PyPI's wheels are
built against numpy 1 and fail under numpy 2)."""
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from .helpers import REPO

# what numpy 2 raises when a Cython module built against numpy 1 loads
ABI_ERROR = ('numpy.dtype size changed, may indicate binary '
             'incompatibility. Expected 96 from C header, got 88 from '
             'PyObject')


def import_plugin(*path: Path) -> subprocess.CompletedProcess:
    paths = ':'.join([*map(str, path), str(REPO)])
    return subprocess.run(
        [sys.executable, '-c', 'import mmcrossformer'], capture_output=True,
        text=True, timeout=300, env={'PYTHONPATH': paths, 'PATH': '/usr/bin'})


def fake_xtcocotools(root: Path, body: str) -> Path:
    pkg = root / 'xtcocotools'
    pkg.mkdir(parents=True)
    (pkg / '__init__.py').write_text('')
    (pkg / 'mask.py').write_text(body)
    return root


def test_xtcocotools_built_against_another_numpy(tmp_path):
    root = fake_xtcocotools(tmp_path, f'raise ValueError({ABI_ERROR!r})\n')
    proc = import_plugin(root)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()
    assert any(line.startswith('ImportError: xtcocotools was compiled '
                               'against another numpy') for line in last)
    assert f'installed numpy {np.__version__}' in proc.stderr
    assert ('pip install --force-reinstall --no-deps --no-binary xtcocotools'
            ' --no-build-isolation xtcocotools') in proc.stderr


def test_missing_xtcocotools(tmp_path):
    from mmcrossformer.version import check_xtcocotools
    root = fake_xtcocotools(tmp_path, 'import xtcocotools._absent\n')
    proc = import_plugin(root)
    assert proc.returncode == 1
    assert 'ImportError: mmcrossformer needs xtcocotools' in proc.stderr
    check_xtcocotools()  # the test environment's own build is fine


def test_pypi_wheel_under_numpy_2_is_named(tmp_path):
    """The real artifact: PyPI's xtcocotools 1.14.3 wheel (numpy 1 ABI)."""
    if int(np.__version__.split('.')[0]) < 2:
        pytest.skip('the PyPI wheel works under numpy 1')
    proc = subprocess.run(
        [sys.executable, '-m', 'pip', 'download', '--no-deps',
         '--only-binary', ':all:', 'xtcocotools==1.14.3', '-d',
         str(tmp_path)], capture_output=True, text=True, timeout=120)
    wheels = list(tmp_path.glob('xtcocotools-*.whl'))
    if proc.returncode or not wheels:
        pytest.skip(f'package index unreachable: {proc.stderr[-300:]}')
    zipfile.ZipFile(wheels[0]).extractall(tmp_path / 'site')
    proc = import_plugin(tmp_path / 'site')
    assert proc.returncode == 1
    assert 'xtcocotools was compiled against another numpy' in proc.stderr
    assert 'binary incompatib' in proc.stderr
