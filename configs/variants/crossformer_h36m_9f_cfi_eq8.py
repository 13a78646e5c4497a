# CrossFormer-9f with CFI's kernel as Eq. 8 of the paper writes it (the
# frame-by-frame correlation applied to g) instead of the released compact
# kernel; everything else as configs/crossformer_h36m_9f.py (docs/ablation.md).
_base_ = ['../crossformer_h36m_9f.py']
model = dict(backbone=dict(cfi_kernel='bilinear'))
