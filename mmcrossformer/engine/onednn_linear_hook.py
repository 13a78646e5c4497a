# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Opt-in: the model's fp32 linear layers through oneDNN on the CPU."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpose.registry import HOOKS


@HOOKS.register_module()
class OneDNNLinearHook(Hook):
    """Before the run, make every ``nn.Linear`` of the model a
    :class:`~mmcrossformer.runtime.fast_paths.OneDNNTrainLinear`: same
    parameters and checkpoints, fp32 products (forward and backward) by
    oneDNN instead of MKL on the CPU, which is about twice as fast on CPUs
    where MKL does not use AVX-512 (AMD). Nothing changes on GPUs, under
    autocast or where oneDNN is missing. Enable it with::

        custom_hooks = [..., dict(type='OneDNNLinearHook')]

    The runtime module (and its custom operator) is imported only here, when
    the hook runs, never by ``import mmcrossformer``.
    """

    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        from ..runtime.fast_paths import (onednn_available,
                                          use_onednn_train_linear_)
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if onednn_available('cpu'):
            use_onednn_train_linear_(model)
