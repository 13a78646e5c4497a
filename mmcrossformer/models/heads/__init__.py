from .crossformer_head import CrossFormerHead, flip_pose3d

__all__ = ['CrossFormerHead', 'flip_pose3d']
