"""The key mapping between the released CrossFormer layout and this
plugin's, both directions (models/official.py)."""
import re

import pytest
import torch

from mmcrossformer.models.official import (UNUSED_KEYS,
                                           convert_official_state_dict,
                                           convert_to_official_state_dict,
                                           official_to_plugin_key,
                                           plugin_to_official_key)

from .test_official_checkpoint import (build_official_model,
                                       released_state_dict)


def _used(sd):
    return {
        k: v
        for k, v in sd.items()
        if not any(re.fullmatch(p, k) for p in UNUSED_KEYS)
    }


def test_released_to_plugin_to_released_is_the_identity():
    released = released_state_dict()
    back = convert_to_official_state_dict(
        convert_official_state_dict(released))
    used = _used(released)
    assert set(back) == set(used)
    for key, value in used.items():
        assert back[key].shape == value.shape, key
        assert torch.equal(back[key], value), key


def test_plugin_to_released_to_plugin_is_the_identity():
    model = build_official_model()
    with torch.no_grad():  # distinct values everywhere
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.randn_like(p) + i)
    ours = model.state_dict()
    released = convert_to_official_state_dict(ours)
    assert set(released) == set(_used(released_state_dict()))
    back = convert_official_state_dict(released)
    assert set(back) == set(ours)
    for key, value in ours.items():
        assert torch.equal(back[key], value), key


@pytest.mark.parametrize('official,plugin', [
    ('Spatial_blocks.2.norm2.weight',
     'backbone.spatial_blocks.2.norm3.weight'),
    ('blocks1.0.norm3.bias', 'backbone.temporal_blocks.0.norm2.bias'),
    ('blocks1.3.gamma3', 'backbone.temporal_blocks.3.layer_scales.1'),
    ('Spatial_blocks.0.local_mp.gn.weight',
     'backbone.spatial_blocks.0.interaction.norm.weight'),
    ('blocks1.1.local.z.weight',
     'backbone.temporal_blocks.1.interaction.conv.weight'),
    ('head.0.bias', 'head.norm.bias'),
    ('weighted_mean.weight', 'head.weighted_mean.weight'),
])
def test_key_functions_are_inverse(official, plugin):
    assert official_to_plugin_key(official) == plugin
    assert plugin_to_official_key(plugin) == official


def test_plugin_key_without_released_counterpart_is_named():
    with pytest.raises(KeyError, match='backbone.extra.weight'):
        plugin_to_official_key('backbone.extra.weight')
    with pytest.raises(KeyError, match='temporal_pos_embed'):
        convert_to_official_state_dict(
            {'backbone.temporal_pos_embed.x': torch.zeros(1)})
