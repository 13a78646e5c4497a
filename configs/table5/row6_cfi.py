# Paper Table 5, row 6 (9 frames): CJI off, CFI on, spatial embedding off,
# temporal embedding off.
_base_ = ['../crossformer_h36m_9f.py']
model = dict(
    backbone=dict(
        use_cji=False, spatial_pos_embed=False, temporal_pos_embed='none'))
