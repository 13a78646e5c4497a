from .mpi_inf_3dhp import MpiInf3dhpDataset  # noqa: F401
from .fast_h36m import (FastHuman36mDataset, FastPackPoseInputs,  # noqa: F401
                        FastRandomFlipAroundRoot)
