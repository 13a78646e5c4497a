from .baselines import mean_pose_mpjpe
from .mpjpe_mm import MPJPEmm
from .pck3d import AUC3D, PCK3D, MpiInf3dhpMetric

__all__ = ['AUC3D', 'MPJPEmm', 'MpiInf3dhpMetric', 'PCK3D', 'mean_pose_mpjpe']
