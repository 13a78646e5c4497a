from .crossformer_head import CrossFormerHead, flip_average, flip_pose

__all__ = ['CrossFormerHead', 'flip_average', 'flip_pose']
