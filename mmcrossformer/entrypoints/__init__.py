"""Helpers of the command-line entry points in ``tools/`` (argument
parsing, runner preparation, the metrics table). Not imported by
``import mmcrossformer``."""
from .cli import add_runner_args, load_runner_cfg
from .metrics_table import format_metrics
from .runner import (COMPILE_MIN_FRAMES, compile_test_model,
                     prepare_runner_cfg)

__all__ = [
    'add_runner_args', 'format_metrics', 'load_runner_cfg',
    'prepare_runner_cfg', 'COMPILE_MIN_FRAMES', 'compile_test_model'
]
