# Paper Table 5, row 7 (9 frames): CJI off, CFI on, spatial embedding off,
# temporal embedding on.
_base_ = ['../crossformer_h36m_9f.py']
model = dict(backbone=dict(use_cji=False, spatial_pos_embed=False))
