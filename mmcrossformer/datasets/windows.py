# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Window arithmetic shared by the datasets and the inference APIs: where
the target frame sits in a window of ``seq_len`` frames."""
import numpy as np


def target_index(seq_len: int, causal: bool) -> int:
    """Position of the target frame in its window = the number of frames
    before it: ``F - 1`` causal (the window ends at the target), ``(F - 1)
    // 2`` centred."""
    return seq_len - 1 if causal else (seq_len - 1) // 2


def window_offsets(seq_len: int, causal: bool, step: int = 1) -> np.ndarray:
    """Frame offsets (F, ) of a window relative to its target frame: ``[-(F-1)
    .. 0]`` causal, ``[-(F-1)//2 .. F//2]`` centred; times ``step``."""
    if seq_len < 1 or step < 1:
        raise ValueError(f'seq_len and step must be >= 1, got {seq_len}, '
                         f'{step}')
    return (np.arange(seq_len) - target_index(seq_len, causal)) * step


__all__ = ['target_index', 'window_offsets']
