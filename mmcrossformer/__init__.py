"""mmcrossformer: CrossFormer 2D-to-3D pose lifting as an MMPose plugin.

Importing the package registers its modules in MMPose's registries (scope
``mmpose``); configs pull it in with
``custom_imports = dict(imports=['mmcrossformer'], allow_failed_imports=False)``.
Runtime fast paths (:mod:`mmcrossformer.runtime`), data tools
(:mod:`mmcrossformer.data_tools`, but for the file names of
:mod:`~mmcrossformer.data_tools.h36m_layout` that the evaluation baselines
read), inference APIs (:mod:`mmcrossformer.apis`) and the tools' helpers
(:mod:`mmcrossformer.entrypoints`) are imported only when used.
"""
from .version import (__version__, check_dependencies,  # noqa: F401
                      check_xtcocotools)

check_dependencies()
check_xtcocotools()  # before MMPose's datasets import it

from .datasets import *  # noqa: E402,F401,F403
from .engine import *  # noqa: E402,F401,F403
from .evaluation import *  # noqa: E402,F401,F403
from .models import *  # noqa: E402,F401,F403
from .visualization import *  # noqa: E402,F401,F403
