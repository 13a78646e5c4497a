from .mpi_inf_3dhp import MpiInf3dhpDataset  # noqa: F401
