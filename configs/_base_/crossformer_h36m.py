# CrossFormer on Human3.6M: everything the 9/27/81-frame configs share.
# The recipe of the code that produced the paper's numbers (run_crossformer.py
# of the release; docs/reproduce.md lists where it differs from the paper's
# section 4.2): AdamW with weight decay 0.1, lr 1e-4 decaying by 0.99 per
# epoch, 100 epochs, batch 512 in total (2 GPUs x 256 per GPU;
# `--auto-scale-lr` rescales the lr for other totals), PyTorch's default
# initialisation, MPJPE loss, every training window twice per epoch (as it is
# and mirrored), flip averaging in testing, CPN-detected 2D input. The window
# length is set by the child configs (`model.backbone.num_frames`,
# `model.head.num_frames`, `seq_len` of the datasets).
_base_ = ['mmpose::_base_/default_runtime.py']
custom_imports = dict(imports=['mmcrossformer'], allow_failed_imports=False)

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='CrossFormerPose3dVisualizer',
    vis_backends=vis_backends,
    name='visualizer')

# runtime
train_cfg = dict(max_epochs=100, val_interval=10)
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.1))
param_scheduler = [
    dict(type='ExponentialLR', gamma=0.99, end=100, by_epoch=True)
]
auto_scale_lr = dict(base_batch_size=512)  # the release's batch
default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook',
        interval=1,
        save_best='MPJPE',
        rule='less',
        max_keep_ckpts=2,
        backend_args=dict(backend='atomic_local')),  # crash-safe writes
    logger=dict(type='LoggerHook', interval=20),
)
# checkpoints carry the random generators: a resumed run continues exactly
custom_hooks = [dict(type='SyncBuffersHook'), dict(type='RandomStateHook')]

# codec: screen-normalised 2D input (x / w * 2 - 1, y / w * 2 - h / w) as a
# (F, J, 2) window; root-relative 3D target in metres
codec = dict(
    type='VideoPoseLifting',
    num_keypoints=17,
    zero_center=True,
    root_index=0,
    remove_root=False,
    reshape_keypoints=False)

# model
model = dict(
    type='PoseLifter',
    backbone=dict(
        type='CrossFormer',
        num_joints=17,
        in_channels=2,
        embed_dim=32,
        depth=4,
        num_heads=8,
        mlp_ratio=2.,
        drop_path_rate=0.1,
        # as the release: PyTorch's constructor initialisation, positional
        # embeddings zero (mmcrossformer/models/weight_init.py also offers
        # TRUNC_NORMAL_INIT, the timm ViT one)
        init_cfg=dict(type='PyTorchDefault'),
        # inference (test, demo, inferencer): oneDNN linear layers with the
        # GELU fused, within 1e-5 of the plain fp32 model; `--cfg-options
        # model.backbone.fast_inference=False` for the plain layers.
        # inference_dtype='bf16' (or `--bf16` of tools/test.py and the demo)
        # runs it in bfloat16; docs/benchmark.md gives speed and MPJPE change
        fast_inference=True,
        inference_dtype='fp32'),
    head=dict(
        type='CrossFormerHead',
        in_channels=17 * 32,
        num_joints=17,
        loss=dict(type='MPJPELoss'),
        decoder=codec,
        init_cfg=dict(type='PyTorchDefault')),
    test_cfg=dict(flip_test=True))

# data
dataset_type = 'Human36mDataset'
data_root = 'data/h36m/'
meta_keys = ('id', 'category_id', 'target_img_path', 'flip_indices',
             'target_root')
train_pipeline = [
    dict(type='GenerateTarget', encoder=codec),
    # mirror the normalised 2D input and the root-relative target about x=0;
    # PlainAndMirroredDataset runs it on the mirrored copy of each window only
    dict(
        type='RandomFlipAroundRoot',
        keypoints_flip_cfg=dict(center_mode='static', center_x=0.),
        target_flip_cfg=dict(center_mode='static', center_x=0.),
        flip_label=True),
    dict(type='PackPoseInputs', meta_keys=meta_keys)
]
val_pipeline = [
    dict(type='GenerateTarget', encoder=codec),
    dict(type='PackPoseInputs', meta_keys=meta_keys)
]
# an epoch holds every window twice, as it is and mirrored (the release's
# ChunkedGenerator(augment=True)): ceil(2 x windows / 512) iterations
train_dataloader = dict(
    batch_size=256,  # per GPU
    num_workers=2,
    persistent_workers=True,
    # the workers hand batches over in a few shared-memory blocks
    collate_fn=dict(type='lifting_collate'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='PlainAndMirroredDataset',
        # the skeleton MMPose's init_model reads (inferencers, demo)
        metainfo=dict(from_file='configs/_base_/datasets/h36m.py'),
        dataset=dict(
            type=dataset_type,
            ann_file='annotation_body3d/fps50/h36m_train.npz',
            causal=False,
            pad_video_seq=True,
            keypoint_2d_src='detection',
            keypoint_2d_det_file='joint_2d_det_files/'
            'cpn_ft_h36m_dbb_train.npy',
            camera_param_file='annotation_body3d/cameras.pkl',
            data_root=data_root,
            data_prefix=dict(img='images/'),
            pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=256,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    # no collate_fn: MMPose's inferencers read test_dataloader.collate_fn as
    # a registry name, the runner needs a dict; pseudo_collate it is
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    dataset=dict(
        type=dataset_type,
        ann_file='annotation_body3d/fps50/h36m_test.npz',
        causal=False,
        pad_video_seq=True,
        keypoint_2d_src='detection',
        keypoint_2d_det_file='joint_2d_det_files/cpn_ft_h36m_dbb_test.npy',
        camera_param_file='annotation_body3d/cameras.pkl',
        data_root=data_root,
        data_prefix=dict(img='images/'),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader

# evaluation in millimetres, overall and per action (paper Tables 1-2)
val_evaluator = [
    dict(type='MPJPEmm', mode='mpjpe'),
    dict(type='MPJPEmm', mode='p-mpjpe'),
    dict(type='MPJPEmm', mode='n-mpjpe'),
]
test_evaluator = val_evaluator
