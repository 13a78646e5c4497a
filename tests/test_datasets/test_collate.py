"""lifting_collate: pseudo_collate's batch with the tensors in a few
storages, which the configs' loaders use so that their workers hand a batch
over in a few shared-memory blocks."""
import copy

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.runner import Runner

from mmcrossformer.datasets import lifting_collate, unwrap_dataset_cfg
from mmcrossformer.runtime.benchmark import same_sample
from mmpose.registry import DATASETS
from mmpose.utils import register_all_modules

from ..helpers import REPO, small_h36m

CFG = REPO / 'configs' / 'crossformer_h36m_9f.py'


def _train_cfg(data_root: str) -> Config:
    cfg = Config.fromfile(str(CFG))
    loader = copy.deepcopy(cfg.train_dataloader)
    unwrap_dataset_cfg(loader.dataset).data_root = data_root
    return loader


def _storages(batch: dict) -> dict:
    """Distinct storages of the inputs and of each label field."""
    labels = [d.gt_instance_labels for d in batch['data_samples']]
    out = {'inputs': {t.untyped_storage().data_ptr()
                      for t in batch['inputs']}}
    for key in labels[0].keys():
        out[key] = {getattr(e, key).untyped_storage().data_ptr()
                    for e in labels}
    return out


def test_same_batch_as_pseudo_collate_in_few_storages(tmp_path):
    register_all_modules()
    loader = _train_cfg(small_h36m(tmp_path, ('S1', )))
    dataset = DATASETS.build(loader.dataset)
    samples = [dataset[i] for i in range(0, 40, 3)]
    plain = pseudo_collate(copy.deepcopy(samples))
    batch = lifting_collate(copy.deepcopy(samples))
    assert len(batch['inputs']) == len(batch['data_samples']) == 14
    for i in range(14):
        assert same_sample(
            dict(inputs=batch['inputs'][i],
                 data_samples=batch['data_samples'][i]),
            dict(inputs=plain['inputs'][i],
                 data_samples=plain['data_samples'][i])), i
    assert len(_storages(plain)['inputs']) == 14
    storages = _storages(batch)
    assert set(storages) >= {'inputs', 'lifting_target_label',
                             'lifting_target_weight'}
    assert all(len(s) == 1 for s in storages.values()), storages
    # each sample still owns its values: writing one leaves the others
    batch['inputs'][0].zero_()
    torch.testing.assert_close(batch['inputs'][1], plain['inputs'][1])


def test_configs_loader_hands_batches_over_in_few_blocks(tmp_path):
    # the configs' training loader collates with lifting_collate: a
    # worker's batch reaches the main process as one block per field (with
    # pseudo_collate, one per sample and field)
    register_all_modules()
    loader_cfg = _train_cfg(small_h36m(tmp_path, ('S1', )))
    cfg = Config.fromfile(str(CFG))
    assert cfg.train_dataloader.collate_fn == dict(type='lifting_collate')
    # the test loader keeps pseudo_collate: MMPose's inferencers read its
    # collate_fn as a registry name, which a runner's dict is not
    assert 'collate_fn' not in cfg.val_dataloader
    assert 'collate_fn' not in cfg.test_dataloader
    loader_cfg.batch_size = 16
    loader_cfg.num_workers = 1
    loader_cfg.persistent_workers = False
    batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    assert len(batch['inputs']) == 16
    assert all(len(s) == 1 for s in _storages(batch).values())
    assert np.isfinite(torch.stack(batch['inputs']).numpy()).all()


def test_leaves_ragged_and_non_tensor_fields_alone():
    from mmengine.structures import InstanceData
    from mmpose.structures import PoseDataSample
    samples = []
    for n in (1, 2):
        d = PoseDataSample()
        d.gt_instance_labels = InstanceData(
            ragged=torch.zeros(1, n), same=torch.full((1, 3), float(n)))
        d.gt_instances = InstanceData(keypoints=np.zeros((1, 17, 2)))
        samples.append(dict(inputs=torch.zeros(n, 2), data_samples=d))
    batch = lifting_collate(samples)
    labels = [d.gt_instance_labels for d in batch['data_samples']]
    assert [t.shape[1] for t in batch['inputs']] == [2, 2]
    assert len({t.untyped_storage().data_ptr()
                for t in batch['inputs']}) == 2  # ragged: not stacked
    assert len({e.ragged.untyped_storage().data_ptr() for e in labels}) == 2
    assert len({e.same.untyped_storage().data_ptr() for e in labels}) == 1
    assert [e.same[0, 0].item() for e in labels] == [1., 2.]
    assert isinstance(batch['data_samples'][0].gt_instances.keypoints,
                      np.ndarray)
