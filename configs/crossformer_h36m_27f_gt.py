# CrossFormer, 27-frame window, ground-truth 2D input (paper Table 2).
# lr 4e-4, as the release's README trains on ground-truth 2D input.
_base_ = ['./crossformer_h36m_27f.py']
train_dataloader = dict(dataset=dict(dataset=dict(keypoint_2d_src='gt')))
val_dataloader = dict(dataset=dict(keypoint_2d_src='gt'))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=4e-4))
