# configs/crossformer_3dhp_9f.py on the protocol of the PoseFormer family
# (PoseFormer, MHFormer, P-STMO), whose numbers the paper's Table 3 compares
# with: training and test targets from the universal skeleton (univ_annot3),
# test windows cut over every frame in time order, only the valid frames
# evaluated. Data: tools/dataset_converters/mpi_inf_3dhp_raw_to_mmpose.py
# converts the raw 3DHP files.
_base_ = ['./crossformer_3dhp_9f.py']
train_dataloader = dict(dataset=dict(dataset=dict(protocol='poseformer')))
val_dataloader = dict(
    dataset=dict(
        protocol='poseformer',
        ann_file='annotations/mpi_inf_3dhp_test_all.npz'))
test_dataloader = val_dataloader
