# Paper Table 5, row 2 (9 frames): CJI on, CFI off, spatial embedding off,
# temporal embedding off.
_base_ = ['../crossformer_h36m_9f.py']
model = dict(
    backbone=dict(
        use_cfi=False, spatial_pos_embed=False, temporal_pos_embed='none'))
