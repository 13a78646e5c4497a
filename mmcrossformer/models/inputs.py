# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The finiteness check of 2D keypoints, run where user data enters (the
inference APIs, the fast and ONNX lifters, the datasets) rather than in the
model's forward, where it would cost a device-to-host sync per step."""
from typing import Sequence, Type, Union

import numpy as np
import torch
from torch import Tensor

KEYPOINT_AXES = ('sample', 'frame', 'joint', 'channel')


def check_finite_keypoints(
        keypoints: Union[Tensor, np.ndarray],
        what: str = 'keypoints',
        axes: Sequence[str] = KEYPOINT_AXES,
        error: Type[Exception] = ValueError,
        hint: str = 'fill or drop missing detections before lifting'
) -> None:
    """Raise ``error`` naming ``what``, the number of NaN or infinite entries
    of ``keypoints`` (a tensor or an array, e.g. (B, F, J, C) windows) and
    the position of the first (``axes`` names the dimensions, the last ones
    when it has fewer), followed by ``hint``. A tensor on an accelerator
    costs one device-to-host sync."""
    if torch.is_tensor(keypoints):
        bad = ~torch.isfinite(keypoints)
        if not bool(bad.any()):
            return
        count, first = int(bad.sum()), bad.nonzero()[0].tolist()
    else:
        bad = ~np.isfinite(np.asarray(keypoints))
        if not bad.any():
            return
        count, first = int(bad.sum()), np.argwhere(bad)[0].tolist()
    names = tuple(axes)[-len(first):] if first else ()
    where = ', '.join(f'{n} {i}' for n, i in zip(names, first))
    raise error(f'{what}: {count} NaN or infinite value(s), the first at '
                f'{where}; {hint}')
