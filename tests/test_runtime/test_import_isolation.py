"""``import mmcrossformer`` registers the plugin without the runtime fast
paths: no ``mmcrossformer.runtime`` module, no custom operator."""
import subprocess
import sys
import textwrap

from ..helpers import REPO

SCRIPT = textwrap.dedent('''
    import sys
    sys.path.insert(0, {repo!r})
    import torch
    import mmcrossformer
    from mmpose.registry import MODELS
    assert MODELS.get('CrossFormer') is not None
    print('RUNTIME-MODULES', sorted(
        m for m in sys.modules if m.startswith('mmcrossformer.runtime')))
    print('CUSTOM-OP', hasattr(torch.ops.mmcrossformer, 'onednn_linear'))
    import mmcrossformer.runtime.fast_paths  # the control: now it is there
    print('AFTER-IMPORT', hasattr(torch.ops.mmcrossformer, 'onednn_linear'))
''')


def test_import_mmcrossformer_leaves_the_runtime_alone():
    proc = subprocess.run(
        [sys.executable, '-c', SCRIPT.format(repo=str(REPO))],
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'RUNTIME-MODULES []' in proc.stdout, proc.stdout
    assert 'CUSTOM-OP False' in proc.stdout, proc.stdout
    assert 'AFTER-IMPORT True' in proc.stdout, proc.stdout
