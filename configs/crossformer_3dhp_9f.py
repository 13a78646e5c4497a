# CrossFormer, 9-frame window, ground-truth 2D input, MPI-INF-3DHP (paper
# Table 3: 3DPCK, AUC, MPJPE). Model, recipe and pipeline are those of the
# Human3.6M configs; what differs: the 3DHP skeleton (its pelvis, joint 14,
# is the root of the targets), the dataset and the metrics. Data:
# tools/dataset_converters/preprocess_mpi_inf_3dhp.py of MMPose 1.3 writes
# data/mpi_inf_3dhp/annotations/ (generate_synthetic_3dhp.py a synthetic
# stand-in).
_base_ = ['./_base_/crossformer_h36m.py']

root_index = 14
codec = dict(_base_.codec, root_index=root_index)
model = dict(
    backbone=dict(num_frames=9), head=dict(num_frames=9, decoder=codec))


def _with_codec(pipeline):
    return [
        dict(step, encoder=codec) if step['type'] == 'GenerateTarget' else step
        for step in pipeline
    ]


train_pipeline = _with_codec(_base_.train_pipeline)
val_pipeline = _with_codec(_base_.val_pipeline)

dataset_type = 'MpiInf3dhpDataset'
data_root = 'data/mpi_inf_3dhp/'
_dataset = dict(
    type=dataset_type,
    data_root=data_root,
    seq_len=9,
    keypoint_2d_src='gt',
    keypoint_2d_det_file=None)
train_dataloader = dict(
    dataset=dict(
        metainfo=dict(from_file='configs/_base_/datasets/mpi_inf_3dhp.py'),
        dataset=dict(
            _dataset,
            ann_file='annotations/mpi_inf_3dhp_train.npz',
            camera_param_file='annotations/cameras_train.pkl',
            pipeline=train_pipeline)))
val_dataloader = dict(
    dataset=dict(
        _dataset,
        ann_file='annotations/mpi_inf_3dhp_test_valid.npz',
        camera_param_file='annotations/cameras_test.pkl',
        pipeline=val_pipeline))
test_dataloader = val_dataloader

# 3DPCK (150 mm), AUC (0-150 mm, 31 thresholds) and MPJPE over the 14
# benchmark joints, overall and per test sequence (`3DPCK`, `3DAUC_TS1`, ...);
# the same after rigid (Procrustes) alignment (`P-3DPCK`, ...); and the MPJPE
# over all 17 joints (`all17/MPJPE`, as MMPose 0.x and the PoseFormer family
# compute it)
val_evaluator = [
    dict(type='MpiInf3dhpMetric', joints='mpi14'),
    dict(type='MpiInf3dhpMetric', joints='mpi14', alignment='procrustes'),
    dict(
        type='MpiInf3dhpMetric',
        joints=None,
        metrics=['MPJPE'],
        per_sequence=False,
        prefix='all17'),
]
test_evaluator = val_evaluator
