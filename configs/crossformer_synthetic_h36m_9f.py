# The README's main job (`make train-demo`, tools/train_demo.py): the 9-frame
# CrossFormer of the paper trained on a CPU for one epoch of the synthetic
# Human3.6M that tools/dataset_converters/generate_synthetic_h36m.py writes.
# A short schedule instead of the paper's 100 epochs: lr 1e-3 at batch 128,
# cosine decay over the iterations.
_base_ = ['./crossformer_h36m_9f.py']
data_root = 'data/synthetic_h36m/'
train_cfg = dict(max_epochs=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, eta_min=1e-5, T_max=470)
]
default_hooks = dict(logger=dict(interval=50))
train_dataloader = dict(
    batch_size=128, num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=512, num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
