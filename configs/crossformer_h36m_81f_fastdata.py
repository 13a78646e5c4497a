# configs/crossformer_h36m_81f.py with the fast data pipeline (see
# crossformer_h36m_9f_fastdata.py).
_base_ = ['./crossformer_h36m_81f.py']
train_dataloader = dict(
    dataset=dict(dataset=dict(type='FastHuman36mDataset')))
val_dataloader = dict(dataset=dict(type='FastHuman36mDataset'))
test_dataloader = val_dataloader
