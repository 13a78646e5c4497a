# Paper Table 5, row 5 (9 frames): CJI on, CFI on, spatial embedding off,
# temporal embedding on.
_base_ = ['../crossformer_h36m_9f.py']
model = dict(backbone=dict(spatial_pos_embed=False))
