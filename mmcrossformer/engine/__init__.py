"""Training-loop machinery: hooks, the atomic checkpoint backend, resume
finding and checkpoint checks."""
from .checkpoint_checks import check_checkpoint
from .checkpoint_io import (AtomicLocalBackend, atomic_save,
                            find_resumable_checkpoint, is_readable_checkpoint)
from .onednn_linear_hook import OneDNNLinearHook
from .pose3d_vis_hook import Pose3dVisualizationHook
from .random_state_hook import RandomStateHook

__all__ = [
    'AtomicLocalBackend', 'OneDNNLinearHook', 'Pose3dVisualizationHook',
    'RandomStateHook',
    'atomic_save', 'check_checkpoint', 'find_resumable_checkpoint',
    'is_readable_checkpoint'
]
