"""mmcrossformer: CrossFormer 2D-to-3D pose lifting as an MMPose plugin.

Importing the package registers its modules in MMPose's registries (scope
``mmpose``); configs pull it in with
``custom_imports = dict(imports=['mmcrossformer'], allow_failed_imports=False)``.
Runtime fast paths (:mod:`mmcrossformer.runtime`), data tools
(:mod:`mmcrossformer.data_tools`), inference APIs (:mod:`mmcrossformer.apis`)
and the tools' helpers (:mod:`mmcrossformer.entrypoints`) are imported only
when used.
"""
from .env_check import check_xtcocotools

check_xtcocotools()  # before MMPose's datasets import it

from .datasets import *  # noqa: E402,F401,F403
from .engine import *  # noqa: E402,F401,F403
from .evaluation import *  # noqa: E402,F401,F403
from .models import *  # noqa: E402,F401,F403
from .visualization import *  # noqa: E402,F401,F403

__version__ = '0.1.0'
