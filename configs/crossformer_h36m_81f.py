# CrossFormer, 81-frame window, CPN-detected 2D input (paper Tables 1, 4).
_base_ = ['./_base_/crossformer_h36m.py']
model = dict(backbone=dict(num_frames=81), head=dict(num_frames=81))
train_dataloader = dict(dataset=dict(dataset=dict(seq_len=81)))
val_dataloader = dict(dataset=dict(seq_len=81))
test_dataloader = val_dataloader
