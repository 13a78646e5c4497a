"""Training-loop machinery: hooks, the atomic checkpoint backend, resume
finding, checkpoint checks and safe (``weights_only``) checkpoint loading,
which importing this package installs as mmengine's local-file loader."""
from .checkpoint_checks import check_checkpoint
from .checkpoint_io import (AtomicLocalBackend, atomic_save,
                            find_resumable_checkpoint, is_readable_checkpoint)
from .onednn_linear_hook import OneDNNLinearHook
from .pose3d_vis_hook import Pose3dVisualizationHook
from .random_state_hook import RandomStateHook
from .safe_load import SAFE_GLOBALS, UnsafeCheckpointError, safe_load

__all__ = [
    'AtomicLocalBackend', 'OneDNNLinearHook', 'Pose3dVisualizationHook',
    'RandomStateHook', 'SAFE_GLOBALS', 'UnsafeCheckpointError', 'atomic_save',
    'check_checkpoint', 'find_resumable_checkpoint', 'is_readable_checkpoint',
    'safe_load'
]
