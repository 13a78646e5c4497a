"""mmcrossformer: CrossFormer 2D-to-3D pose lifting as an MMPose plugin.

Importing the package registers its modules in MMPose's registries (scope
``mmpose``); configs pull it in with
``custom_imports = dict(imports=['mmcrossformer'], allow_failed_imports=False)``.
"""
from .datasets import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
from .utils import *  # noqa: F401,F403
from .visualization import *  # noqa: F401,F403

__version__ = '0.1.0'
