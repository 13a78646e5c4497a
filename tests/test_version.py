"""The import-time check of the dependency versions (mmcrossformer/version.py)
and requirements/runtime.txt say the same."""
import re
import subprocess
import sys
import textwrap

import pytest

from mmcrossformer.version import (SUPPORTED, check_versions, parse_version,
                                   supported_range)

from .helpers import REPO


def test_ranges_are_the_ones_of_requirements():
    lines = (REPO / 'requirements' / 'runtime.txt').read_text().splitlines()
    spec = {}
    for line in lines:
        m = re.match(r'^([A-Za-z_-]+)([<>=!,.\d]+)$', line.strip())
        if m:
            spec[m.group(1)] = m.group(2)
    # mmpose is installed with --no-deps (its chumpy requirement does not
    # build), so requirements/runtime.txt states its range in a comment
    assert 'mmpose' not in spec
    assert f"mmpose{supported_range('mmpose')}" in ''.join(lines)
    for name in set(SUPPORTED) - {'mmpose'}:
        assert spec[name] == supported_range(name), name
    assert supported_range('torch') == '>=2.5'


def test_check_versions_names_package_version_and_range():
    check_versions({'torch': '2.14.1+cu130', 'mmcv': '2.1.0',
                    'mmengine': '0.10.7', 'mmpose': '1.3.2'})
    check_versions({'torch': '2.5', 'mmcv': '2.0.1'})  # the lower bounds
    for name, version, allowed in (('torch', '2.4.1', '>=2.5'),
                                   ('mmcv', '2.2.0', '>=2.0.1,<2.2.0'),
                                   ('mmengine', '0.9.1', '>=0.10.3,<1.0'),
                                   ('mmpose', '1.4.0', '>=1.3.0,<1.4.0')):
        with pytest.raises(ImportError) as err:
            check_versions({name: version})
        msg = str(err.value)
        assert 'mmcrossformer' in msg and f'{name} {version}' in msg
        assert f'{name}{allowed}' in msg
    assert parse_version('2.14.1+cu130') == (2, 14, 1)


SCRIPT = textwrap.dedent('''
    import sys
    sys.path.insert(0, {repo!r})
    import {package}
    {package}.__version__ = {version!r}
    try:
        import mmcrossformer
    except ImportError as e:
        print('IMPORT-ERROR', e)
    else:
        print('IMPORTED')
''')


@pytest.mark.parametrize('package,version,imported', [
    ('torch', '2.4.1', False),
    ('mmcv', '2.2.0', False),
    ('torch', '2.5.0', True),
])
def test_import_fails_on_an_unsupported_version(package, version, imported):
    code = SCRIPT.format(repo=str(REPO), package=package, version=version)
    out = subprocess.run([sys.executable, '-c', code],
                         capture_output=True,
                         text=True,
                         timeout=300).stdout
    if imported:
        assert 'IMPORTED' in out, out
    else:
        assert 'IMPORT-ERROR' in out, out
        assert f'{package} {version}' in out
        assert f'{package}{supported_range(package)}' in out
