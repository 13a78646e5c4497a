"""FastHuman36mDataset yields the samples of the stock MMPose pipeline."""
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmcrossformer.datasets import unwrap_dataset_cfg
from mmpose.registry import DATASETS

from ..helpers import REPO, small_h36m


@pytest.fixture(scope='module')
def h36m_root(tmp_path_factory):
    return small_h36m(tmp_path_factory.mktemp('h36m'), ('S1', 'S5', 'S9'))


def _same(a, b, what):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor), what
        assert a.dtype == b.dtype and a.shape == b.shape, what
        assert torch.equal(a, b), what
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), what
        assert a.dtype == b.dtype and a.shape == b.shape, what
        assert np.array_equal(a, b), what
    else:
        assert type(a) is type(b) and a == b, (what, a, b)


def assert_same_sample(a, b):
    _same(a['inputs'], b['inputs'], 'inputs')
    da, db = a['data_samples'], b['data_samples']
    assert set(da.metainfo_keys()) == set(db.metainfo_keys())
    for k in da.metainfo_keys():
        _same(da.metainfo[k], db.metainfo[k], k)
    assert set(da.keys()) == set(db.keys())
    for field in da.keys():
        fa, fb = da.get(field), db.get(field)
        assert set(fa.keys()) == set(fb.keys()), field
        for k in fa.keys():
            _same(fa.get(k), fb.get(k), f'{field}.{k}')


@pytest.mark.parametrize('split,overrides', [
    ('train', dict()),
    ('train', dict(seq_len=9, causal=True)),
    ('train', dict(seq_len=9, seq_step=2, pad_video_seq=False)),
    ('test', dict()),
    ('test', dict(seq_len=27, seq_step=3, keypoint_2d_src='gt')),
])
def test_fast_dataset_matches_stock(h36m_root, split, overrides):
    """Every sample: inputs, targets, target weights, instance fields and
    metainfo, random flips included (same draws from numpy's generator)."""
    cfg = Config.fromfile(str(REPO / 'configs' / 'crossformer_h36m_81f.py'))
    dataset = cfg.train_dataloader.dataset.dataset if split == 'train' \
        else cfg.val_dataloader.dataset
    built = []
    for dataset_type in ('Human36mDataset', 'FastHuman36mDataset'):
        d = dataset.copy()
        d.update(overrides, data_root=h36m_root, type=dataset_type)
        np.random.seed(3)  # the subset draw of get_sequence_indices
        built.append(DATASETS.build(d))
    stock, fast = built
    assert len(stock) == len(fast) > 0
    np.random.seed(7)
    expected = [stock[i] for i in range(len(stock))]
    np.random.seed(7)
    for i, want in enumerate(expected):
        assert_same_sample(want, fast[i])


def test_fast_dataset_opt_in_config():
    """The fast config differs from the stock one by the dataset type only."""
    for window in (9, 27, 81):
        fast = Config.fromfile(
            str(REPO / 'configs' / f'crossformer_h36m_{window}f_fastdata.py'))
        stock = Config.fromfile(
            str(REPO / 'configs' / f'crossformer_h36m_{window}f.py'))
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            f = unwrap_dataset_cfg(fast[loader].to_dict())
            s = unwrap_dataset_cfg(stock[loader].to_dict())
            assert f.pop('type') == 'FastHuman36mDataset'
            assert s.pop('type') == 'Human36mDataset'
            assert f == s
        assert fast.model == stock.model
