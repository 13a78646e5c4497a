"""The README's "Set-up on a GPU cluster" block, read from README.md and run
line by line in a fresh ``python3.11 -m venv``, then its verification line.

What stands in for the cluster (and nothing else is changed):

- torch / torchvision: the cluster's own install is played by the files of
  the test's environment: a folder of symbolic links to torch, torchvision
  and their installed requirements (numpy, triton, nvidia-*, ...) outside the
  new venv, put on its path by a ``.pth`` file (copying torch's 5 GB would
  take minutes). pip never uninstalls anything outside the venv.
- ``pip install -U openmim`` / ``mim install "mmcv..."``: the mmcv 2.1.0 wheel
  that ``tools/setup_env.sh`` built and cached (no prebuilt mmcv exists for
  this torch; the README's version range must admit it).
- ``pip install --no-binary xtcocotools --no-build-isolation xtcocotools``:
  the xtcocotools wheel that ``tools/setup_env.sh`` built the same way
  against the same numpy, from the same cache.

Every other line runs as written (packages come from the package index).
"""
import os
import re
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import List, Set, Tuple

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from ..helpers import REPO

WHEELS = Path(os.environ.get('MMCROSSFORMER_CACHE',
                             Path.home() / '.cache/mmcrossformer')) / 'wheels'
SECTION = '## Set-up on a GPU cluster'


def readme_cluster_lines() -> List[str]:
    """The commands of the first ```bash block of the README's cluster
    section (comments after ``#`` removed)."""
    text = (REPO / 'README.md').read_text()
    section = text[text.index(SECTION):]
    section = section[:section.index('\n## ', len(SECTION))]
    block = re.search(r'```bash\n(.*?)```', section, re.S).group(1)
    lines = []
    for line in block.splitlines():
        line = re.sub(r'\s+#.*$', '', line).strip()
        if line and not line.startswith('#'):
            lines.append(line)
    return lines


def closure(names: List[str]) -> Set[str]:
    """Installed distributions ``names`` and everything they require (with
    the extras they are required with), in the running environment."""
    seen: Set[str] = set()
    done: Set[Tuple[str, Tuple[str, ...]]] = set()
    todo: List[Tuple[str, Tuple[str, ...]]] = [(n, ()) for n in names]
    while todo:
        name, extras = todo.pop()
        name = canonicalize_name(name)
        if (name, extras) in done:
            continue
        done.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional requirement that is not installed
        seen.add(name)
        for req in map(Requirement, dist.requires or []):
            if req.marker is None or any(
                    req.marker.evaluate({'extra': e})
                    for e in ('', ) + extras):
                todo.append((req.name, tuple(sorted(req.extras))))
    return seen


def link_cluster_torch(dst: Path) -> List[str]:
    """Symbolic links in ``dst`` to the files of torch, torchvision and
    their requirements (top-level packages/modules and dist-info)."""
    dst.mkdir()
    # the venv has its own pip and setuptools
    dists = sorted(closure(['torch', 'torchvision']) - {'pip', 'setuptools'})
    for name in dists:
        dist = metadata.distribution(name)
        site = Path(dist.locate_file(''))
        tops = {Path(f).parts[0] for f in dist.files or []}
        for top in tops:
            if top == '..' or not (site / top).exists() or \
                    (dst / top).exists():
                continue  # console scripts, or a folder shared by dists
            (dst / top).symlink_to(site / top)
    return dists


def substitute(line: str) -> str:
    """A README line, or what stands in for it here (module docstring)."""
    if line == 'pip install -U openmim':
        return ''
    if line.startswith('mim install'):
        spec = re.fullmatch(r'mim install "mmcv([^"]+)"', line)
        assert spec, f'unexpected mim line: {line}'
        wheel = next(WHEELS.glob('mmcv-2.1.0-*.whl'))
        assert '2.1.0' in SpecifierSet(spec.group(1)), spec.group(1)
        return f'pip install {wheel}'
    if '--no-binary xtcocotools' in line:
        return f"pip install {next(WHEELS.glob('xtcocotools-*.whl'))}"
    return line


@pytest.mark.skipif(shutil.which('python3.11') is None,
                    reason='needs python3.11 (the set-up needs it as well)')
def test_readme_cluster_setup_in_a_fresh_venv(tmp_path):
    lines = readme_cluster_lines()
    assert any('--no-deps "mmpose' in line for line in lines)
    assert lines[-1].startswith('python -c'), 'no verification line last'
    assert list(WHEELS.glob('mmcv-2.1.0-*.whl')), \
        f'no cached mmcv wheel in {WHEELS}: run tools/setup_env.sh first'

    start = time.time()
    # the repository as a user clones it (tracked-file types only)
    src = tmp_path / 'clone'
    shutil.copytree(
        REPO, src, ignore=shutil.ignore_patterns(
            '.venv', '.git', 'data', 'work_dirs', '__pycache__', '*.egg-info',
            '.pytest_cache', '.hypothesis', 'build', 'vis_results', '*.so'))
    venv = tmp_path / 'venv'
    subprocess.run(['python3.11', '-m', 'venv', str(venv)], check=True)
    site = next((venv / 'lib').glob('python3*/site-packages'))
    dists = link_cluster_torch(tmp_path / 'cluster_torch')
    assert {'torch', 'torchvision', 'numpy'} <= set(dists)
    (site / 'cluster_torch.pth').write_text(f'{tmp_path / "cluster_torch"}\n')

    env = {k: v for k, v in os.environ.items()
           if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
    env.update(PATH=f'{venv / "bin"}:{env["PATH"]}', VIRTUAL_ENV=str(venv),
               OMP_NUM_THREADS='1')
    log, printed = [], ''
    for line in lines:
        cmd = substitute(line)
        if not cmd:
            continue
        proc = subprocess.run(['bash', '-c', cmd], cwd=src, env=env,
                              capture_output=True, text=True, timeout=600)
        log.append(f'$ {cmd}  [{proc.returncode}]')
        printed += proc.stdout
        assert proc.returncode == 0, (
            '\n'.join(log) + f'\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    elapsed = time.time() - start
    print('\n'.join(log) + f'\n{elapsed:.0f} s')

    # the verification lines printed the registered class, and that the
    # CPU kernels were compiled (a C++ compiler is installed here)
    assert "<class 'mmcrossformer.models.backbones.crossformer.CrossFormer'>" \
        in printed
    assert 'CPU kernels: True' in printed
    where = subprocess.run(
        [str(venv / 'bin/python'), '-c',
         'import mmpose, mmcrossformer, torch; print(mmpose.__file__); '
         'print(mmcrossformer.__file__); print(torch.__file__)'],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    mmpose_file, plugin_file, torch_file = where.stdout.split()
    assert mmpose_file.startswith(str(venv))
    assert plugin_file.startswith(str(src))  # the editable install
    assert torch_file.startswith(str(tmp_path / 'cluster_torch'))
    # pip left the stand-in torch alone and never built chumpy
    assert not list(site.glob('torch-*.dist-info'))
    assert not list(site.glob('chumpy*'))
