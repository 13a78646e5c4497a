# The README's main job (`make demo`, tools/run_demo.py): the 9-frame
# CrossFormer trained for a few minutes on a CPU, on the synthetic
# Human3.6M that tools/dataset_converters/generate_synthetic_h36m.py writes.
# A shorter, faster schedule than the paper's (lr 1e-3 at batch 128).
_base_ = ['./crossformer_h36m_9f.py']
data_root = 'data/synthetic_h36m/'
train_cfg = dict(max_epochs=2, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='ExponentialLR', gamma=0.5, end=2, by_epoch=True)]
default_hooks = dict(logger=dict(interval=50))
train_dataloader = dict(
    batch_size=128, num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = dict(
    batch_size=512, num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
