# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The npz and pickle writers of every data tool (one of each)."""
import pickle
import zipfile
from typing import Mapping

import numpy as np


def save_npz(path: str, arrays: Mapping[str, np.ndarray]) -> None:
    """``np.savez`` with fixed zip timestamps, so that the same arrays (in
    the same order) give byte-identical files."""
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(
                f'{name}.npy', date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, 'w', force_zip64=True) as f:
                np.lib.format.write_array(
                    f, np.asanyarray(arr), allow_pickle=False)


def save_pickle(obj: object, path: str) -> None:
    """Pickle ``obj`` with protocol 4 (readable by Python >= 3.4)."""
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=4)
