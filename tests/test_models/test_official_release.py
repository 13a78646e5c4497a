"""The authors' released network and checkpoint files.

Golden outputs: ``tests/fixtures/official_golden.npz`` holds numbers produced
by the authors' own ``common/model_crossformer.py``
(``tools/model_converters/make_official_golden.py``): the released
state-dict layout, the seed of its random weights, inputs and outputs. The
converted weights in ``configs/crossformer_h36m_81f_official.py`` must give
the same outputs.

Release files: a checkpoint written the way the release's
``run_crossformer.py`` writes one (``epoch``, ``lr``, the training
generator's ``numpy.random.RandomState`` object, the AdamW state after a step,
the DataParallel-wrapped ``model_pos`` state dict) converts with the
command-line converter, which reads it with ``weights_only=True``.
"""
import importlib.util
import json
import pickle
from typing import Dict

import numpy as np
import pytest
import torch
from mmengine.config import Config
from torch import nn

from mmcrossformer.engine.safe_load import safe_load
from mmcrossformer.models.official import convert_official_state_dict
from mmpose.registry import MODELS

from ..helpers import REPO, pickle_globals, run_script

GOLDEN = REPO / 'tests/fixtures/official_golden.npz'
OFFICIAL_CFG = REPO / 'configs/crossformer_h36m_81f_official.py'
CONVERTER = 'tools/model_converters/crossformer_official_to_mmpose.py'
# Written by torch.save under numpy 1.26 (the released files predate numpy 2,
# which renamed numpy.core), as run_crossformer.py saves, with:
#   random = np.random.RandomState(1234); random.permutation(np.arange(100))
#   model_pos_train = nn.DataParallel(nn.Linear(2, 3))
#   optimizer = AdamW(model_pos_train.parameters(), lr=1e-4,
#                     weight_decay=0.1); one step on model(ones(1, 2)).sum()
#   torch.save({'epoch': 1, 'lr': 0.99e-4, 'random_state': random,
#               'optimizer': optimizer.state_dict(),
#               'model_pos': model_pos_train.state_dict()}, path)
NUMPY1_FILE = REPO / 'tests/fixtures/release_file_numpy1.bin'


def golden_script():
    spec = importlib.util.spec_from_file_location(
        'make_official_golden',
        REPO / 'tools/model_converters/make_official_golden.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def golden() -> dict:
    with np.load(GOLDEN) as data:  # no pickles: allow_pickle=False
        out = {k: data[k] for k in data.files}
    out['layout'] = json.loads(str(out['layout']))
    return out


def released_weights(golden: dict) -> Dict[str, torch.Tensor]:
    """The golden fixture's weights in the released layout (no prefix)."""
    script = golden_script()
    weights = script.released_random_weights(golden['layout'],
                                             int(golden['seed']))
    # the very weights the authors' network ran with
    np.testing.assert_allclose(
        script.checksums(weights), golden['checksums'], rtol=1e-12)
    return {k: torch.from_numpy(v) for k, v in weights.items()}


def test_converted_weights_reproduce_the_released_network(golden):
    assert golden['inputs'].shape == (2, 81, 17, 2)
    assert golden['outputs'].shape == (2, 17, 3)
    model = MODELS.build(Config.fromfile(OFFICIAL_CFG).model).double().eval()
    model.load_state_dict(
        convert_official_state_dict(released_weights(golden)), strict=True)
    with torch.no_grad():
        ours = model(torch.from_numpy(golden['inputs']).double(), None,
                     mode='tensor')
    # both sides run in float64 and differ only in the order of operations
    # (3e-15 measured on outputs of size ~1); weights rounded to float32 on
    # one side already give 5e-7, a wrong mapping far more
    np.testing.assert_allclose(
        ours.numpy(), golden['outputs'], rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------- release files
class ReleasedLayout(nn.Module):
    """A module whose state dict has exactly the given (released) keys."""

    def __init__(self, tensors: Dict[str, torch.Tensor]) -> None:
        super().__init__()
        for key, value in tensors.items():
            *path, name = key.split('.')
            module = self
            for part in path:
                if not hasattr(module, part):
                    module.add_module(part, nn.Module())
                module = getattr(module, part)
            if value.is_floating_point():
                module.register_parameter(name, nn.Parameter(value))
            else:
                module.register_buffer(name, value)


def write_as_run_crossformer(path, tensors: Dict[str, torch.Tensor]) -> None:
    """Train one step and save as run_crossformer.py does (its defaults:
    AdamW with weight decay 0.1, lr 1e-4 decayed by 0.99 per epoch, the
    ChunkedGenerator's RandomState(1234) after one epoch's permutation)."""
    model_pos_train = nn.DataParallel(ReleasedLayout(tensors))
    lr, lr_decay = 0.0001, 0.99
    optimizer = torch.optim.AdamW(
        model_pos_train.parameters(), lr=lr, weight_decay=0.1)
    random = np.random.RandomState(1234)  # ChunkedGenerator.random
    random.permutation(np.arange(100))  # ChunkedGenerator.next_pairs
    optimizer.zero_grad()
    loss = sum(p.square().mean() for p in model_pos_train.parameters())
    loss.backward()
    optimizer.step()
    lr *= lr_decay
    for param_group in optimizer.param_groups:
        param_group['lr'] *= lr_decay
    epoch = 1
    torch.save({
        'epoch': epoch,
        'lr': lr,
        'random_state': random,  # train_generator.random_state()
        'optimizer': optimizer.state_dict(),
        'model_pos': model_pos_train.state_dict(),
    }, path)


def test_converter_reads_a_file_saved_as_the_release_saves_it(
        golden, tmp_path):
    # the released architecture with one spatial and one temporal block
    one_block = {
        k: v.float()
        for k, v in released_weights(golden).items()
        if not k.startswith(('Spatial_blocks.', 'blocks1.'))
        or k.split('.')[1] == '0'
    }
    src, dst = tmp_path / 'epoch_1.bin', tmp_path / 'converted.pth'
    write_as_run_crossformer(src, one_block)
    ckpt = safe_load(str(src), map_location='cpu')
    # the generator comes back as the object, in the state it was saved in
    expected = np.random.RandomState(1234)
    expected.permutation(np.arange(100))
    assert isinstance(ckpt['random_state'], np.random.RandomState)
    np.testing.assert_array_equal(ckpt['random_state'].permutation(50),
                                  expected.permutation(50))
    assert ckpt['epoch'] == 1 and ckpt['lr'] == pytest.approx(0.99e-4)
    assert set(ckpt['model_pos']) == {'module.' + k for k in one_block}
    num_params = sum(v.is_floating_point() for v in one_block.values())
    assert len(ckpt['optimizer']['state']) == num_params

    cfg = tmp_path / 'one_block.py'
    cfg.write_text(f"_base_ = ['{OFFICIAL_CFG}']\n"
                   'model = dict(backbone=dict(depth=1))\n')
    assert run_script(CONVERTER,
                      [str(src), str(dst), '--config', str(cfg)]) == 0
    converted = torch.load(dst, map_location='cpu', weights_only=True)
    model = MODELS.build(Config.fromfile(cfg).model)
    model.load_state_dict(converted['state_dict'], strict=True)
    trained = {k[len('module.'):]: v for k, v in ckpt['model_pos'].items()}
    torch.testing.assert_close(
        converted['state_dict']['backbone.spatial_blocks.0.attn.qkv.weight'],
        trained['Spatial_blocks.0.attn.qkv.weight'])
    assert converted['meta']['converted_from'] == 'epoch_1.bin'


def test_a_release_file_written_under_numpy_1_loads():
    assert {'numpy.core.multiarray._reconstruct',
            'numpy.random._pickle.__randomstate_ctor'} <= pickle_globals(
                NUMPY1_FILE)
    # plain weights_only loading refuses the generator ...
    with pytest.raises(pickle.UnpicklingError, match='__randomstate_ctor'):
        torch.load(NUMPY1_FILE, map_location='cpu', weights_only=True)
    # ... the allow-list restores it, in the state it was saved in
    ckpt = safe_load(str(NUMPY1_FILE), map_location='cpu')
    expected = np.random.RandomState(1234)
    expected.permutation(np.arange(100))
    np.testing.assert_array_equal(ckpt['random_state'].permutation(50),
                                  expected.permutation(50))
    assert ckpt['epoch'] == 1 and set(ckpt['model_pos']) == {
        'module.weight', 'module.bias'}
    assert ckpt['optimizer']['param_groups'][0]['weight_decay'] == 0.1
