"""A test-only hook (imported by training runs of the tests through
``custom_imports``): every rank writes its parameters, as plain arrays, to
``params_{before,after}_rank{rank}.npz`` in the work dir before and after
training."""
import numpy as np
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpose.registry import HOOKS

#: config lines that add the hook to a tiny_config (the base's hooks kept)
CONFIG = dict(
    custom_imports="dict(imports=['mmcrossformer', "
    "'tests.test_tools.param_dump_hook'], allow_failed_imports=False)",
    custom_hooks="[dict(type='SyncBuffersHook'), "
    "dict(type='RandomStateHook'), dict(type='ParamDumpHook')]")


def load_params(path) -> dict:
    """The arrays of a dump (no pickles)."""
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@HOOKS.register_module()
class ParamDumpHook(Hook):
    """Dump the model's state dict (unwrapped from DDP) as float arrays."""

    def _dump(self, runner, when: str) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        np.savez(f'{runner.work_dir}/params_{when}_rank{get_rank()}.npz',
                 **{k: v.detach().cpu().float().numpy()
                    for k, v in model.state_dict().items()})

    def before_train(self, runner) -> None:
        self._dump(runner, 'before')

    def after_train(self, runner) -> None:
        self._dump(runner, 'after')
