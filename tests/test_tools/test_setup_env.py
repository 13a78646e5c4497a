"""The README's set-up (tools/setup_env.sh): idempotent, and a clear stop
that leaves nothing half-built when it cannot proceed."""
import shutil
import subprocess
import time

from ..helpers import REPO


def test_second_setup_is_a_quick_no_op():
    start = time.time()
    proc = subprocess.run(['bash', 'tools/setup_env.sh'], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert 'environment up to date' in proc.stdout
    assert time.time() - start < 30


def test_missing_python_stops_with_a_message_and_no_venv(tmp_path):
    for rel in ('tools/setup_env.sh', 'setup.py',
                'mmcrossformer/ops/csrc/token_major_attention.cpp'):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, tmp_path / rel)
    shutil.copytree(REPO / 'requirements', tmp_path / 'requirements')
    proc = subprocess.run(['bash', 'tools/setup_env.sh'], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60,
                          env={'PATH': '/usr/bin:/bin',
                               'PYTHON': 'python3.99',
                               'HOME': str(tmp_path)})
    assert proc.returncode == 1
    assert 'python3.99 not found' in proc.stderr
    assert 'PYTHON=/path/to/python3.11' in proc.stderr
    assert not (tmp_path / '.venv').exists()
