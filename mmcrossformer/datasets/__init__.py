from .mpi_inf_3dhp import MpiInf3dhpDataset  # noqa: F401
from .fast_h36m import (FastHuman36mDataset, FastPackPoseInputs,  # noqa: F401
                        FastRandomFlipAroundRoot)
from .plain_and_mirrored import (PlainAndMirroredDataset,  # noqa: F401
                                 unwrap_dataset_cfg)
from .collate import lifting_collate  # noqa: F401
