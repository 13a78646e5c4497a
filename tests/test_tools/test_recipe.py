"""The training recipe of configs/crossformer_h36m_81f.py is the released
one: AdamW with weight decay 0.1, every window once plain and once mirrored
per epoch, lr 1e-4 x 0.99 per epoch."""
import math
from collections import Counter

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmpose.registry import DATASETS

from ..helpers import REPO, small_h36m

BATCH = 96  # does not divide 2 x windows: the last batch is partial


@pytest.fixture(scope='module')
def h36m_root(tmp_path_factory):
    return small_h36m(tmp_path_factory.mktemp('h36m'), ('S1', 'S9'))


class _Record(Hook):
    """The lr at the start of each epoch and the iterations of each."""

    def __init__(self):
        self.lrs, self.iters, self._start = [], [], 0

    def before_train_epoch(self, runner):
        self.lrs.append(runner.optim_wrapper.get_lr()['lr'][0])
        self._start = runner.iter

    def after_train_epoch(self, runner):
        self.iters.append(runner.iter - self._start)


def _runner(cfg_name, data_root, work_dir):
    cfg = Config.fromfile(str(REPO / 'configs' / cfg_name))
    cfg.model.backbone.depth = 0  # the recipe, not the model, is tested
    cfg.train_dataloader.update(
        batch_size=BATCH, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.dataset.data_root = data_root
    cfg.train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=100)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.work_dir = str(work_dir)
    return cfg, Runner.from_cfg(cfg)


def _mirror(x: np.ndarray, flip_indices) -> np.ndarray:
    """An independent mirror of (..., J, C) coordinates centred at x = 0:
    negate x, swap left and right joints."""
    y = x[..., list(flip_indices), :].copy()
    y[..., 0] *= -1
    return y


def test_81f_runner_follows_the_released_recipe(h36m_root, tmp_path):
    cfg, runner = _runner('crossformer_h36m_81f.py', h36m_root, tmp_path)
    record = _Record()
    runner.register_hook(record)
    runner.train()

    # AdamW, weight decay 0.1, lr 1e-4 x 0.99 per epoch
    optimizer = runner.optim_wrapper.optimizer
    assert type(optimizer) is torch.optim.AdamW
    assert all(g['weight_decay'] == 0.1 for g in optimizer.param_groups)
    np.testing.assert_allclose(record.lrs, [1e-4 * 0.99**e for e in range(3)],
                               rtol=1e-12)

    # an epoch is ceil(2 x windows / batch) iterations
    inner_cfg = cfg.train_dataloader.dataset.dataset.copy()
    inner_cfg.pipeline = cfg.val_pipeline  # no flip: the plain windows
    plain = DATASETS.build(inner_cfg)
    num_windows = len(plain)
    assert num_windows == 4 * 2 * 40  # cameras x actions x frames of S1
    assert record.iters == [math.ceil(2 * num_windows / BATCH)] * 3
    assert len(runner.train_dataloader.dataset) == 2 * num_windows

    # one epoch: each window once as it is and once mirrored, the mirrored
    # copy equal to an independent mirror of the plain one
    flip_indices = plain.metainfo['flip_indices']
    reference = {}
    for i in range(num_windows):
        sample = plain[i]
        reference[sample['data_samples'].metainfo['id']] = (
            sample['inputs'].numpy(),  # (F, J, 2)
            sample['data_samples'].gt_instance_labels.lifting_target_label.
            numpy())  # (1, J, 3)
    seen = Counter()
    runner.train_dataloader.sampler.set_epoch(5)
    for batch in runner.train_dataloader:
        for inputs, sample in zip(batch['inputs'], batch['data_samples']):
            wid = sample.metainfo['id']
            kpts = inputs.numpy()
            target = sample.gt_instance_labels.lifting_target_label.numpy()
            kpts_ref, target_ref = reference[wid]
            if np.array_equal(kpts, kpts_ref):
                np.testing.assert_array_equal(target, target_ref)
                seen[wid, 'plain'] += 1
            else:
                np.testing.assert_allclose(
                    kpts, _mirror(kpts_ref, flip_indices), atol=1e-6)
                np.testing.assert_allclose(
                    target, _mirror(target_ref, flip_indices), atol=1e-6)
                seen[wid, 'mirrored'] += 1
    assert seen == Counter({(wid, kind): 1
                            for wid in reference
                            for kind in ('plain', 'mirrored')})


@pytest.mark.parametrize('name', [
    'crossformer_h36m_9f_fastdata.py', 'poseformer_h36m_27f.py',
    'table5/row4_cji_es_et.py', 'crossformer_h36m_27f_gt.py'
])
def test_configs_that_inherit_the_recipe(name, h36m_root):
    """Every window plain and mirrored, with the fast dataset too; the
    ground-truth configs at the release's lr 4e-4."""
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.1
    assert cfg.optim_wrapper.optimizer.lr == (4e-4 if '_gt' in name else
                                              1e-4)
    assert cfg.auto_scale_lr.base_batch_size == 512
    assert cfg.model.backbone.init_cfg == dict(type='PyTorchDefault')
    wrapper = cfg.train_dataloader.dataset
    assert wrapper.type == 'PlainAndMirroredDataset'
    wrapper.dataset.data_root = h36m_root
    dataset = DATASETS.build(wrapper)
    n = len(dataset.dataset)
    assert len(dataset) == 2 * n > 0
    np.random.seed(0)
    for i in (0, n - 1):
        plain, mirrored = dataset[i], dataset[n + i]
        assert plain['data_samples'].metainfo['id'] == \
            mirrored['data_samples'].metainfo['id']
        a = plain['data_samples'].gt_instance_labels.lifting_target_label
        b = mirrored['data_samples'].gt_instance_labels.lifting_target_label
        np.testing.assert_allclose(
            b.numpy(),
            _mirror(a.numpy(), dataset.metainfo['flip_indices']),
            atol=1e-6)


def test_wrapper_needs_one_flip(h36m_root):
    cfg = Config.fromfile(str(REPO / 'configs/crossformer_h36m_9f.py'))
    inner = cfg.train_dataloader.dataset.dataset
    inner.update(data_root=h36m_root, pipeline=cfg.val_pipeline)
    with pytest.raises(ValueError, match='exactly one RandomFlipAroundRoot'):
        DATASETS.build(dict(type='PlainAndMirroredDataset', dataset=inner))
