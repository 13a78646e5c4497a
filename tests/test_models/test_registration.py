"""Importing the plugin registers its modules in MMPose's registries and
changes no stock MMPose entry; configs mix stock and plugin modules."""
import json
import subprocess

from mmengine.config import Config

from ..helpers import PYTHON, REPO

SNAPSHOT = '''
import json, sys
from mmpose.utils import register_all_modules
from mmpose.registry import (DATASETS, HOOKS, KEYPOINT_CODECS, METRICS,
                             MODELS, TRANSFORMS, VISUALIZERS)
register_all_modules()
def snap():
    return {r.name: {k: f'{v.__module__}.{v.__qualname__}'
                     for k, v in r.module_dict.items()}
            for r in (DATASETS, HOOKS, KEYPOINT_CODECS, METRICS, MODELS,
                      TRANSFORMS, VISUALIZERS)}
before = snap()
import mmcrossformer
json.dump(dict(before=before, after=snap()), sys.stdout)
'''


def test_plugin_adds_modules_and_changes_no_stock_entry():
    out = subprocess.run([PYTHON, '-c', SNAPSHOT], cwd='/', check=True,
                         capture_output=True, text=True).stdout
    snap = json.loads(out)
    added = {}
    for registry, before in snap['before'].items():
        after = snap['after'][registry]
        assert {k: after[k] for k in before} == before, registry
        added.update({k: after[k] for k in set(after) - set(before)})
    assert all(v.startswith('mmcrossformer.') for v in added.values())
    for name in ('CrossFormer', 'CrossFormerHead', 'MPJPEmm',
                 'RandomStateHook', 'MpiInf3dhpDataset', 'PCK3D', 'AUC3D',
                 'CrossFormerPose3dVisualizer'):
        assert name in added, name


def test_config_builds_stock_and_plugin_modules_side_by_side():
    from mmpose.registry import KEYPOINT_CODECS, MODELS
    cfg = Config.fromfile(REPO / 'configs/crossformer_h36m_81f.py')
    assert cfg.custom_imports == dict(imports=['mmcrossformer'],
                                      allow_failed_imports=False)
    model = MODELS.build(cfg.model)
    assert type(model).__module__.startswith('mmpose.')  # PoseLifter
    assert type(model.backbone).__module__.startswith('mmcrossformer.')
    assert type(model.head.decoder) is type(KEYPOINT_CODECS.build(cfg.codec))
    assert type(model.head.loss_module).__module__.startswith('mmpose.')


def test_every_config_builds():
    from mmpose.registry import MODELS
    configs = sorted(REPO.glob('configs/**/*.py'))
    configs = [c for c in configs if '_base_' not in c.parts]
    assert len(configs) >= 20
    for path in configs:
        cfg = Config.fromfile(path)
        assert cfg.custom_imports.imports == ['mmcrossformer'], path
        MODELS.build(cfg.model)
