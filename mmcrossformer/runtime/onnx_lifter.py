# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Running an exported lifting model (``export_onnx``) with onnxruntime.

ONNX has no operator that raises: a check inside the graph could only turn
bad input into a flag or into NaN output, which a caller may pass on
unread. So the input is checked here, before the session runs, with the
messages of the PyTorch paths; code that runs the ``.onnx`` file from
another language must check its input (finite, (batch, F, J, C) float32)
itself.
"""
from typing import Sequence

import numpy as np

from ..models.inputs import check_finite_keypoints


class OnnxLifter:
    """(B, F, J, C) screen-normalised keypoints -> (B, J, 3) root-relative
    poses through an ONNX file written by ``export_onnx``.

    Args:
        path: The ``.onnx`` file.
        providers: onnxruntime execution providers, in order of preference.
    """

    def __init__(self,
                 path: str,
                 providers: Sequence[str] = ('CPUExecutionProvider', )
                 ) -> None:
        import onnxruntime as ort
        self.session = ort.InferenceSession(path, providers=list(providers))
        (inp, ) = self.session.get_inputs()
        self.input_name = inp.name
        # (F, J, C) after the dynamic batch axis
        self.window_shape = tuple(inp.shape[1:])

    def __call__(self, keypoints: np.ndarray) -> np.ndarray:
        """Raises TypeError / ValueError naming a non-float input, a shape
        other than (B, F, J, C) or the first NaN or infinite keypoint."""
        x = np.asarray(keypoints)
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError('the ONNX lifter expects floating-point '
                            f'keypoints, got {x.dtype}')
        if x.ndim != 4 or x.shape[1:] != self.window_shape:
            raise ValueError('the ONNX lifter expects keypoints of shape '
                             f'(B, {", ".join(map(str, self.window_shape))})'
                             f', got {x.shape}')
        check_finite_keypoints(x)
        feed = {self.input_name: x.astype(np.float32)}
        return self.session.run(None, feed)[0]
