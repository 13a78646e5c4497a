from .checkpoint import check_checkpoint
from .cli import add_runner_args, load_runner_cfg
from .io import (AtomicLocalBackend, atomic_save, find_resumable_checkpoint,
                 is_readable_checkpoint)
from .metrics_table import format_metrics
from .runner import prepare_runner_cfg

__all__ = [
    'AtomicLocalBackend', 'add_runner_args', 'atomic_save', 'check_checkpoint',
    'load_runner_cfg',
    'find_resumable_checkpoint', 'format_metrics', 'is_readable_checkpoint',
    'prepare_runner_cfg'
]
