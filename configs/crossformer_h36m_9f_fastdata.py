# configs/crossformer_h36m_9f.py with the fast data pipeline:
# FastHuman36mDataset takes the same arguments and pipeline config and yields
# exactly the samples of the stock Human36mDataset + MMPose transforms
# (tests/test_fast_paths.py compares them sample by sample), several times
# faster per worker (tools/analysis_tools/benchmark.py measures it).
_base_ = ['./crossformer_h36m_9f.py']
train_dataloader = dict(
    dataset=dict(dataset=dict(type='FastHuman36mDataset')))
val_dataloader = dict(dataset=dict(type='FastHuman36mDataset'))
test_dataloader = val_dataloader
