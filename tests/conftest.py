import mmcrossformer  # noqa: F401  (registers the plugin's modules)
from mmpose.utils import register_all_modules

register_all_modules(init_default_scope=True)
