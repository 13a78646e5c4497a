# CrossFormer-9f with CJI's norm over the channels of each joint (strictly
# local CJI) instead of the released GroupNorm over the joints; everything
# else as configs/crossformer_h36m_9f.py (docs/ablation.md).
_base_ = ['../crossformer_h36m_9f.py']
model = dict(backbone=dict(cji_norm_over_joints=False))
