from .crossformer import (CrossFormer, CrossFormerBlock, CrossFrameInteraction,
                          CrossJointInteraction)

__all__ = [
    'CrossFormer', 'CrossFormerBlock', 'CrossFrameInteraction',
    'CrossJointInteraction'
]
