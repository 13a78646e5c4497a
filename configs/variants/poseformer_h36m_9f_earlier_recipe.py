# PoseFormer-9f with the earlier recipe of this repository (Adam without
# weight decay, the timm TruncNormal(0.02) initialisation, every window once
# per epoch with a random flip): the PoseFormer counterpart of
# configs/crossformer_synthetic_h36m_9f.py in docs/ablation.md.
_base_ = ['../crossformer_synthetic_h36m_9f.py']
model = dict(backbone=dict(use_cji=False, use_cfi=False))
