# Paper Table 5, row 4 (9 frames): CJI on, CFI off, spatial embedding on,
# temporal embedding on.
_base_ = ['../crossformer_h36m_9f.py']
model = dict(backbone=dict(use_cfi=False))
