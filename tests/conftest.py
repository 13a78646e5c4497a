import os

# One thread per process: pytest-xdist runs two workers on two cores and the
# end-to-end tests start further processes; oversubscribed OpenMP threads spin
# and slow everything down by an order of magnitude.
os.environ.setdefault('OMP_NUM_THREADS', '1')

import mmcrossformer  # noqa: E402,F401  (registers the plugin's modules)
from mmpose.utils import register_all_modules  # noqa: E402

register_all_modules(init_default_scope=True)
