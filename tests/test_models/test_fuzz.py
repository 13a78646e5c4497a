"""Property-based tests (hypothesis): the codec, the training pipeline and
the model's input checks, on arbitrary inputs and on valid inputs changed
one thing at a time."""
import copy

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from mmengine.config import Config
from mmengine.dataset import Compose

from mmcrossformer.models import CrossFormer
from mmcrossformer.models.inputs import check_finite_keypoints
from mmpose.datasets.datasets.utils import parse_pose_metainfo
from mmpose.registry import KEYPOINT_CODECS

from ..helpers import REPO

BASE = Config.fromfile(REPO / 'configs/crossformer_h36m_9f.py')
FLIP = parse_pose_metainfo(
    dict(from_file='configs/_base_/datasets/h36m.py'))['flip_indices']
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(-5e3, 5e3, allow_nan=False, width=32)


@st.composite
def lifting_sample(draw, frames=st.integers(1, 12)):
    """A pipeline input: a (T, 17, 2) 2D window in pixels, the (1, 17, 3)
    target in metres and the image size."""
    t = draw(frames)
    w = draw(st.integers(64, 4096))
    h = draw(st.integers(64, 4096))
    kpts = draw(arrays(np.float32, (t, 17, 2),
                       elements=st.floats(-w, 2 * w, width=32)))
    target = draw(arrays(np.float32, (1, 17, 3),
                         elements=st.floats(-3, 3, width=32)))
    return dict(
        keypoints=kpts,
        keypoints_visible=np.ones((t, 17), np.float32),
        lifting_target=target,
        lifting_target_visible=np.ones((1, 17), np.float32),
        camera_param=dict(w=w, h=h),
        flip_indices=FLIP)


@FUZZ
@given(lifting_sample())
def test_codec_normalises_to_the_screen_and_decodes_back(sample):
    codec = KEYPOINT_CODECS.build(BASE.codec)
    enc = codec.encode(sample['keypoints'], sample['keypoints_visible'],
                       sample['lifting_target'],
                       sample['lifting_target_visible'],
                       sample['camera_param'])
    w, h = sample['camera_param']['w'], sample['camera_param']['h']
    kp = sample['keypoints'].astype(np.float64)
    expected = np.stack([kp[..., 0] / w * 2 - 1,
                         kp[..., 1] / w * 2 - h / w], axis=-1)
    np.testing.assert_allclose(enc['keypoint_labels'], expected, rtol=1e-4,
                               atol=1e-4)
    assert enc['keypoint_labels'].shape == sample['keypoints'].shape
    np.testing.assert_allclose(enc['lifting_target_label'][..., 0, :], 0,
                               atol=1e-6)  # root-relative
    decoded, scores = codec.decode(enc['lifting_target_label'],
                                   enc['target_root'])
    np.testing.assert_allclose(decoded, sample['lifting_target'], atol=1e-5)
    assert scores.shape == decoded.shape[:-1]


def _flip_pipeline() -> Compose:
    pipeline = copy.deepcopy(BASE.train_pipeline)
    pipeline[1]['flip_prob'] = 1.  # RandomFlipAroundRoot, always
    pipeline[-1]['meta_keys'] = ('flip_indices', 'target_root')
    return Compose(pipeline)


@FUZZ
@given(lifting_sample())
def test_training_flip_mirrors_input_and_target_consistently(sample):
    plain = Compose(copy.deepcopy(BASE.val_pipeline[:1]))(
        copy.deepcopy(sample))
    packed = _flip_pipeline()(copy.deepcopy(sample))
    inputs = packed['inputs'].numpy()
    label = packed['data_samples'].gt_instance_labels.lifting_target_label
    mirrored = plain['keypoint_labels'][:, FLIP] * [-1, 1]
    np.testing.assert_allclose(inputs, mirrored, rtol=1e-5, atol=1e-5)
    mirrored_3d = plain['lifting_target_label'][..., FLIP, :] * [-1, 1, 1]
    np.testing.assert_allclose(label.numpy().reshape(mirrored_3d.shape),
                               mirrored_3d, rtol=1e-5, atol=1e-5)
    assert np.isfinite(inputs).all()


BACKBONE = CrossFormer(num_frames=3, depth=1).eval()
VALID = (3, 17, 2)  # (F, J, C) of BACKBONE
AXES = ('frames', 'joints', 'channels per joint')


CHANGES = ('none', 'batch', 'dim', 'ndim', 'dtype', 'non_finite')


@st.composite
def one_change(draw, kind: str):
    """A valid (B, 3, 17, 2) float32 input with one change of ``kind``: none,
    the batch size, one other dimension's size, one axis more or less, the
    dtype, or one NaN / inf."""
    batch = draw(st.integers(1, 4))
    x = torch.randn((batch, ) + VALID,
                    generator=torch.Generator().manual_seed(
                        draw(st.integers(0, 2**16))))
    info = None
    if kind == 'batch':  # any batch size is valid
        x = x[:1].expand((draw(st.integers(1, 6)), ) + VALID).clone()
    elif kind == 'dim':
        axis = draw(st.integers(1, 3))
        size = draw(st.integers(0, 20).filter(lambda n: n != VALID[axis - 1]))
        shape = list(x.shape)
        shape[axis] = size
        x, info = torch.zeros(shape), (AXES[axis - 1], size)
    elif kind == 'ndim':
        x = x[0] if draw(st.booleans()) else x[None]
    elif kind == 'dtype':
        dtype = draw(st.sampled_from([torch.float64, torch.bfloat16,
                                      torch.int64, torch.int32, torch.bool]))
        x = x.to(dtype)
    elif kind == 'non_finite':
        index = tuple(draw(st.integers(0, n - 1)) for n in x.shape)
        x[index] = draw(st.sampled_from([float('nan'), float('inf'),
                                         float('-inf')]))
        info = index
    return kind, x, info


@pytest.mark.parametrize('kind', CHANGES)
@settings(FUZZ, max_examples=15)
@given(data=st.data())
def test_model_input_one_change_at_a_time(kind, data):
    """The valid input runs to finite features; each single change is named:
    a wrong dimension (which one, got, expected), a wrong rank, a non-float
    dtype; NaN / inf is the user entry's business (not the model's, which
    reads no values) and is named there with its position."""
    kind, x, info = data.draw(one_change(kind))
    if kind == 'non_finite':
        with pytest.raises(ValueError) as e:
            check_finite_keypoints(x)
        assert 'the first at sample {}, frame {}, joint {}, channel {}'.format(
            *info) in str(e.value)
        return
    if kind in ('dim', 'ndim'):
        with pytest.raises(ValueError, match=r'expects 2D keypoints of '
                           r'shape \(B, 3, 17, 2\)') as e:
            BACKBONE(x)
        if kind == 'dim':
            assert f'{info[0]}: got {info[1]}, the config expects' in str(
                e.value)
        return
    if kind == 'dtype' and not x.is_floating_point():
        with pytest.raises(TypeError, match=f'floating-point.*{x.dtype}'):
            BACKBONE(x)
        return
    model = copy.deepcopy(BACKBONE).to(x.dtype)
    with torch.no_grad():
        (out, ) = model(x)
    check_finite_keypoints(x)  # the valid input passes the entry check
    assert out.shape == (x.shape[0], 3, 17 * 32) and out.dtype == x.dtype
    assert torch.isfinite(out.float()).all()


@pytest.mark.parametrize('frames', [1, 2, 5])
def test_short_sequences_are_edge_padded_by_the_dataset(frames, tmp_path):
    """A sequence shorter than the window is padded with its edge frames."""
    from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
    from mmpose.datasets import Human36mDataset
    generate_h36m(str(tmp_path), frames=frames, subactions=1,
                  subjects=('S9', ), actions=('Walking', ))
    ds = Human36mDataset(
        ann_file='annotation_body3d/fps50/h36m_test.npz', seq_len=9,
        causal=False, pad_video_seq=True,
        camera_param_file='annotation_body3d/cameras.pkl',
        data_root=str(tmp_path), pipeline=[], test_mode=True)
    assert len(ds) == frames * 4
    info = ds.get_data_info(0)
    kpts = info['keypoints']
    assert kpts.shape == (9, 17, 2)
    centre = 4
    np.testing.assert_array_equal(kpts[:centre], np.repeat(
        kpts[centre:centre + 1], centre, axis=0))


@pytest.mark.parametrize('config,target', [
    ('crossformer_h36m_27f.py', 13),  # the centre frame
    ('crossformer_h36m_27f_causal.py', 26),  # the last frame
])
def test_causal_config_predicts_the_last_frame_of_its_window(
        config, target, tmp_path):
    from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
    from mmpose.registry import DATASETS, MODELS
    generate_h36m(str(tmp_path), frames=60, subactions=1,
                  subjects=('S9', ), actions=('Walking', ))
    cfg = Config.fromfile(REPO / 'configs' / config)
    assert MODELS.build(cfg.model).causal == (target == 26)
    dataset_cfg = cfg.test_dataloader.dataset
    dataset_cfg.update(data_root=str(tmp_path), keypoint_2d_src='gt',
                       pipeline=[])
    ds = DATASETS.build(dataset_cfg)
    with np.load(tmp_path / dataset_cfg.ann_file) as ann:
        part, names = ann['part'][..., :2], list(ann['imgname'])
    for idx in (0, 30, 59):
        info = ds.get_data_info(idx)
        frame = names.index(info['target_img_path'][0])
        np.testing.assert_allclose(info['keypoints'][target], part[frame],
                                   atol=1e-3)
