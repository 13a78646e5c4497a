# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The package version and the import-time checks of its dependencies:
the versions of torch, mmengine, mmcv and mmpose (the ranges of
requirements/runtime.txt; mmpose's is stated in the README because it is
installed with ``--no-deps``) and an xtcocotools compiled against the
installed numpy, each turning a cryptic failure deep inside MMPose into a
message that says what to do.

torch >= 2.5: the runtime fast paths register a ``torch.library.custom_op``
and call ``torch.is_autocast_enabled(device_type)`` (2.4), the ONNX export
passes ``dynamo=False`` to ``torch.onnx.export`` (2.5).
"""
import re
from typing import Dict, Mapping, Optional, Tuple

__version__ = '0.1.0'

#: package -> (lowest supported version, first unsupported version or None)
SUPPORTED: Dict[str, Tuple[str, Optional[str]]] = {
    'torch': ('2.5', None),
    'mmengine': ('0.10.3', '1.0'),
    'mmcv': ('2.0.1', '2.2.0'),
    'mmpose': ('1.3.0', '1.4.0'),
}


def parse_version(version: str) -> Tuple[int, ...]:
    """'2.14.1+cu130' -> (2, 14, 1): the leading release numbers."""
    match = re.match(r'\d+(\.\d+)*', str(version))
    if match is None:
        raise ValueError(f'cannot read the version {version!r}')
    return tuple(int(p) for p in match.group(0).split('.'))


def supported_range(package: str) -> str:
    """The range of ``package`` as in requirements/runtime.txt, e.g.
    '>=2.0.1,<2.2.0'."""
    low, high = SUPPORTED[package]
    return f'>={low}' + ('' if high is None else f',<{high}')


def _in_range(version: str, low: str, high: Optional[str]) -> bool:
    v = parse_version(version)
    # (2, 5) < (2, 5, 0): pad to compare release numbers only
    width = max(len(v), len(parse_version(low)),
                len(parse_version(high)) if high else 0)

    def pad(t: Tuple[int, ...]) -> Tuple[int, ...]:
        return t + (0, ) * (width - len(t))

    return pad(parse_version(low)) <= pad(v) and (
        high is None or pad(v) < pad(parse_version(high)))


def check_versions(found: Mapping[str, str]) -> None:
    """Raise ImportError naming mmcrossformer, the package, its found
    version and the supported range for each of ``found`` (package ->
    version) outside :data:`SUPPORTED`."""
    bad = [
        f'{name} {version} (supported: {name}{supported_range(name)})'
        for name, version in found.items()
        if not _in_range(version, *SUPPORTED[name])
    ]
    if bad:
        raise ImportError(f'mmcrossformer {__version__} does not support '
                          f"the installed {', '.join(bad)}; install a "
                          'supported version (requirements/runtime.txt)')


def check_dependencies() -> None:
    """:func:`check_versions` of the installed torch, mmengine, mmcv and
    mmpose (imported in this order, so that an unsupported mmcv is reported
    before mmpose's own check)."""
    import importlib
    for name in SUPPORTED:
        module = importlib.import_module(name)
        check_versions({name: module.__version__})


XTCOCOTOOLS_BUILD = ('pip install "cython>=3" && pip install --force-reinstall '
                     '--no-deps --no-binary xtcocotools --no-build-isolation '
                     'xtcocotools')


def check_xtcocotools() -> None:
    """MMPose's datasets import ``xtcocotools``, a compiled extension that
    must be built against the installed numpy: PyPI's xtcocotools wheels
    are built against numpy 1 and fail under numpy 2 with "numpy.dtype size
    changed, may indicate binary incompatibility".

    Raises:
        ImportError: xtcocotools is missing, or was compiled against
            another numpy; the message gives the command that fixes it.
    """
    import numpy as np
    try:
        import xtcocotools.mask  # noqa: F401  (loads the compiled _mask)
    except ModuleNotFoundError as e:
        raise ImportError(
            'mmcrossformer needs xtcocotools (MMPose imports it): install '
            f'it, compiled against numpy {np.__version__}, with\n    '
            f'{XTCOCOTOOLS_BUILD}') from e
    except ValueError as e:
        if 'binary incompatib' not in str(e):
            raise
        raise ImportError(
            'xtcocotools was compiled against another numpy than the '
            f'installed numpy {np.__version__} ({e}); PyPI\'s xtcocotools '
            'wheels are built against numpy 1. Rebuild it against this '
            f'numpy with\n    {XTCOCOTOOLS_BUILD}') from e


__all__ = [
    'SUPPORTED', '__version__', 'check_dependencies', 'check_versions',
    'check_xtcocotools'
]
