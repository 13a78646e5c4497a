# PoseFormer (Zheng et al., ICCV 2021), the paper's baseline: CrossFormer
# without CJI and CFI, 27-frame window, CPN-detected 2D input.
_base_ = ['./crossformer_h36m_27f.py']
model = dict(backbone=dict(use_cji=False, use_cfi=False))
