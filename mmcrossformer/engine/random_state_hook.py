# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Save the random number generators in checkpoints and restore them on
resume, so that a resumed run continues exactly as an uninterrupted one."""
import random

import numpy as np
import torch
from mmengine.hooks import Hook

from mmpose.registry import HOOKS


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Store the states of Python's, NumPy's and torch's generators (CPU and
    CUDA) in every checkpoint and restore them when training resumes.

    mmengine re-seeds the generators when a resumed run starts, so stochastic
    depth, dropout and main-process augmentation would otherwise draw other
    numbers than the uninterrupted run. Data-loader workers are seeded by
    mmengine per rank and worker, independently of the resume.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._resumed_state = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['random_state'] = dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all()
            if torch.cuda.is_available() else [])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # applied in before_train: the runner may re-seed after loading
        self._resumed_state = checkpoint.get('random_state')

    def before_train(self, runner) -> None:
        state, self._resumed_state = self._resumed_state, None
        if state is None:
            return
        random.setstate(state['python'])
        np.random.set_state(state['numpy'])
        torch.set_rng_state(state['torch'])
        if state['cuda'] and torch.cuda.device_count() == len(state['cuda']):
            torch.cuda.set_rng_state_all(state['cuda'])
