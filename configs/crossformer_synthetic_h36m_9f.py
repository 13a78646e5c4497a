# The README's main job (`make demo`, tools/run_demo.py): the 9-frame
# CrossFormer of the paper trained on a CPU for one epoch of the synthetic
# Human3.6M that tools/dataset_converters/generate_synthetic_h36m.py writes.
# A short schedule instead of the paper's 100 epochs: lr 1e-3 at batch 128,
# cosine decay over the iterations. It keeps the recipe that the README's
# numbers and figure were measured with rather than the release's (README,
# "Training recipe"): Adam without weight decay, the timm initialisation and
# one pass over the windows with a random flip each (the release's epoch,
# every window plain and mirrored, would double the run time).
_base_ = ['./crossformer_h36m_9f.py']
data_root = 'data/synthetic_h36m/'
train_cfg = dict(max_epochs=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=0.))
param_scheduler = [
    dict(type='CosineAnnealingLR', by_epoch=False, eta_min=1e-5, T_max=470)
]
_trunc_normal_init = [  # mmcrossformer.models.weight_init.TRUNC_NORMAL_INIT
    dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
    dict(type='Constant', layer='LayerNorm', val=1., bias=0.),
    dict(type='PosEmbedTruncNormal', std=.02),
]
model = dict(
    backbone=dict(init_cfg=_trunc_normal_init),
    head=dict(init_cfg=_trunc_normal_init[:1]))
default_hooks = dict(logger=dict(interval=50))
train_dataloader = dict(
    batch_size=128,
    num_workers=1,
    dataset=dict(
        _delete_=True,
        **dict(_base_.train_dataloader.dataset.dataset, data_root=data_root)))
val_dataloader = dict(
    batch_size=512, num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
