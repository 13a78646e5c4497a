# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Checks of the environment, run when ``mmcrossformer`` is imported, that
turn a cryptic failure deep inside MMPose into a message saying what to do."""

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
