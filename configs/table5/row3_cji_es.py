# Paper Table 5, row 3 (9 frames): CJI on, CFI off, spatial embedding on,
# temporal embedding off.
_base_ = ['../crossformer_h36m_9f.py']
model = dict(backbone=dict(use_cfi=False, temporal_pos_embed='none'))
