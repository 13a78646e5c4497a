# The authors' released 81-frame CrossFormer trained on ground-truth 2D input
# (they report 28.5 mm MPJPE); see crossformer_h36m_81f_official.py.
_base_ = ['./crossformer_h36m_81f_official.py']
train_dataloader = dict(dataset=dict(dataset=dict(keypoint_2d_src='gt')))
val_dataloader = dict(dataset=dict(keypoint_2d_src='gt'))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=4e-4))  # the release's README
