# CrossFormer for online use: 27-frame windows that end at the target frame
# (the network predicts the last frame of its window), CPN-detected 2D input.
_base_ = ['./crossformer_h36m_27f.py']
model = dict(backbone=dict(causal=True))
train_dataloader = dict(dataset=dict(dataset=dict(causal=True)))
val_dataloader = dict(dataset=dict(causal=True))
test_dataloader = val_dataloader
