from .onednn_linear_hook import OneDNNLinearHook
from .random_state_hook import RandomStateHook

__all__ = ['RandomStateHook', 'OneDNNLinearHook']
