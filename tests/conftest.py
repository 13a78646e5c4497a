import os

import pytest

# One thread per process: pytest-xdist runs two workers on two cores and the
# end-to-end tests start further processes; oversubscribed OpenMP threads spin
# and slow everything down by an order of magnitude.
os.environ.setdefault('OMP_NUM_THREADS', '1')

import mmcrossformer  # noqa: E402,F401  (registers the plugin's modules)
from mmpose.utils import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def trained_lifter(tmp_path_factory):
    """(config, work dir) of a tiny CrossFormer trained by tools/train.py."""
    from .helpers import train_tiny_lifter
    return train_tiny_lifter(tmp_path_factory.mktemp('trained'))
