# Over 400 lines: the inference APIs end to end (windows, lifter, files,
# tracking, the video demo) on one shared model fixture.
"""Inference: 2D -> 3D lifting of videos and keypoint files (issue 6).

Nothing is downloaded: a tiny top-down 2D model built from a dict (random
weights), a CrossFormer 9-frame config shrunk through cfg options whose
weights come from a checkpoint that tools/train.py wrote (``trained_lifter``
in tests/conftest.py: message hub, optimizer and random states included,
loaded with weights_only=True), frames drawn with OpenCV (stick figures on
a plain background).
"""
import json
import math
import os.path as osp
import tracemalloc

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmcrossformer.apis import (
    FrameSource, GreedyTracker, KeypointLayoutError, LiftResult, Lifter,
    OnlineLifter, PoseInstance, Pose2DEstimator, convert_keypoints,
    estimate_pose2d, group_tracks, iter_window_batches,
    load_coco_keypoints_json, load_keypoints_file, result_meta, save_json,
    save_npz, target_index, window_indices)
from mmcrossformer.apis.keypoints import COCO_SKELETON, conversion_matrix
from mmpose.apis import convert_keypoint_definition
from mmpose.registry import KEYPOINT_CODECS
from mmpose.structures import PoseDataSample

from mmcrossformer.engine import safe_load

from ..helpers import REPO, TINY_LIFTER as TINY

CFG_9F = str(REPO / 'configs/crossformer_h36m_9f.py')
DEMO = REPO / 'demo/body3d_crossformer_demo.py'

# COCO-17 stick figure, offsets from the hip centre in units of its height
COCO_TEMPLATE = np.array([(0, -.42), (.03, -.45), (-.03, -.45), (.06, -.43),
                          (-.06, -.43), (.12, -.3), (-.12, -.3), (.18, -.12),
                          (-.18, -.12), (.2, .05), (-.2, .05), (.08, .05),
                          (-.08, .05), (.09, .3), (-.09, .3), (.1, .55),
                          (-.1, .55)],
                         dtype=np.float32)


def figure(cx: float, cy: float, height: float = 160.) -> np.ndarray:
    """COCO keypoints (17, 3) of a stick figure at (cx, cy)."""
    xy = COCO_TEMPLATE * height + np.array([cx, cy], np.float32)
    return np.concatenate([xy, np.ones((17, 1), np.float32)], -1)


def draw(img: np.ndarray, kpts: np.ndarray) -> np.ndarray:
    for a, b in COCO_SKELETON:
        cv2.line(img, tuple(int(v) for v in kpts[a, :2]),
                 tuple(int(v) for v in kpts[b, :2]), (20, 20, 20), 3)
    cv2.circle(img, tuple(int(v) for v in kpts[0, :2]), 10, (20, 20, 20), 2)
    return img


def two_people(t: int):
    """Frame t (240 x 320) and the keypoints of its two people: person A
    walks right on the left half, person B walks left on the right."""
    a, b = figure(80 + 3 * t, 120), figure(240 - 3 * t, 125)
    img = np.full((240, 320, 3), 235, np.uint8)
    return draw(draw(img, a), b), [a, b]


def box(kpts: np.ndarray, score: float = .9) -> np.ndarray:
    lo, hi = kpts[:, :2].min(0) - 8, kpts[:, :2].max(0) + 8
    return np.array([*lo, *hi, score], np.float32)


@pytest.fixture(scope='module')
def pose2d_cfg(tmp_path_factory) -> str:
    """A tiny top-down heatmap model (ResNet-18 with 8 base channels, 48x64
    input), random weights, COCO-17 metainfo; dumped to a file."""
    codec = dict(
        type='MSRAHeatmap',
        input_size=(48, 64),
        heatmap_size=(12, 16),
        sigma=2)
    meta = dict(from_file='configs/_base_/datasets/coco.py')
    cfg = Config(
        dict(
            default_scope='mmpose',
            dataset_type='CocoDataset',
            data_mode='topdown',
            visualizer=dict(type='PoseLocalVisualizer', name='visualizer'),
            model=dict(
                type='TopdownPoseEstimator',
                data_preprocessor=dict(
                    type='PoseDataPreprocessor',
                    mean=[123.675, 116.28, 103.53],
                    std=[58.395, 57.12, 57.375],
                    bgr_to_rgb=True),
                backbone=dict(
                    type='ResNet',
                    depth=18,
                    stem_channels=8,
                    base_channels=8,
                    init_cfg=None),
                head=dict(
                    type='HeatmapHead',
                    in_channels=64,
                    out_channels=17,
                    deconv_out_channels=(16, 16, 16),
                    deconv_kernel_sizes=(4, 4, 4),
                    loss=dict(type='KeypointMSELoss', use_target_weight=True),
                    decoder=codec),
                test_cfg=dict(flip_test=False)),
            train_dataloader=dict(
                dataset=dict(type='CocoDataset', metainfo=meta)),
            test_dataloader=dict(
                dataset=dict(
                    type='CocoDataset',
                    metainfo=meta,
                    pipeline=[
                        dict(type='LoadImage'),
                        dict(type='GetBBoxCenterScale'),
                        dict(type='TopdownAffine', input_size=(48, 64)),
                        dict(type='PackPoseInputs')
                    ]))))
    path = tmp_path_factory.mktemp('cfg') / 'tiny_pose2d.py'
    cfg.dump(str(path))
    return str(path)


@pytest.fixture(scope='module')
def checkpoint(trained_lifter) -> str:
    """A tools/train.py checkpoint of the ``TINY`` CrossFormer."""
    return str(trained_lifter[1] / 'epoch_2.pth')


def assert_trained_weights(model: torch.nn.Module, checkpoint: str) -> None:
    """``model`` holds exactly the weights of ``checkpoint``."""
    state_dict = safe_load(checkpoint, map_location='cpu')['state_dict']
    ours = model.state_dict()
    assert set(ours) == set(state_dict)
    for key, value in state_dict.items():
        assert torch.equal(ours[key].cpu(), value), key


@pytest.fixture(scope='module')
def lifter(checkpoint) -> Lifter:
    lifter = Lifter.from_config(CFG_9F, checkpoint, cfg_options=dict(TINY))
    assert_trained_weights(lifter.model, checkpoint)
    return lifter


@pytest.fixture(scope='module')
def video(tmp_path_factory) -> str:
    """An 8-frame mp4 of the two stick figures."""
    path = str(tmp_path_factory.mktemp('video') / 'two.mp4')
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10,
                             (320, 240))
    for t in range(8):
        writer.write(two_people(t)[0])
    writer.release()
    return path


# ------------------------------------------------------------ conversion
def test_coco_to_h36m_by_hand():
    rng = np.random.default_rng(0)
    coco = rng.uniform(0, 500, (4, 17, 3)).astype(np.float32)
    h36m = convert_keypoints(coco, 'coco')
    assert h36m.shape == (4, 17, 3)
    pelvis = (coco[:, 11] + coco[:, 12]) / 2
    thorax = (coco[:, 5] + coco[:, 6]) / 2
    np.testing.assert_allclose(h36m[:, 0], pelvis, rtol=1e-5)
    np.testing.assert_allclose(h36m[:, 8], thorax, rtol=1e-5)
    np.testing.assert_allclose(h36m[:, 7], (pelvis + thorax) / 2, rtol=1e-5)
    np.testing.assert_allclose(h36m[:, 9], coco[:, 0], rtol=1e-5)  # nose
    np.testing.assert_allclose(
        h36m[:, 10], (coco[:, 1] + coco[:, 2]) / 2, rtol=1e-5)  # eyes
    # limbs: H36M right hip/knee/foot, left ..., left arm, right arm
    limbs = {
        1: 12,
        2: 14,
        3: 16,
        4: 11,
        5: 13,
        6: 15,
        11: 5,
        12: 7,
        13: 9,
        14: 6,
        15: 8,
        16: 10
    }
    for j, c in limbs.items():
        np.testing.assert_array_equal(h36m[:, j], coco[:, c])
    # a worked example: hips (0, 0) and (2, 4) -> pelvis (1, 2)
    one = np.zeros((17, 2), np.float32)
    one[11], one[12], one[5], one[6] = (0, 0), (2, 4), (0, 10), (4, 10)
    out = convert_keypoints(one, 'coco')
    np.testing.assert_allclose(out[0], (1, 2))
    np.testing.assert_allclose(out[8], (2, 10))
    np.testing.assert_allclose(out[7], (1.5, 6))


@pytest.mark.parametrize('img_size', [(1000, 1002), (1920, 1080),
                                      (720, 1280)])
def test_screen_normalisation_matches_the_training_codec(lifter, img_size):
    """The lifter's input is what MMPose's VideoPoseLifting codec (the one in
    the model's config, used by the training pipeline) makes of the same
    pixel keypoints and image size."""
    codec = KEYPOINT_CODECS.build(lifter.model.cfg.codec)
    assert type(codec).__name__ == 'VideoPoseLifting'
    w, h = img_size
    rng = np.random.default_rng(w)
    kpts = rng.uniform(0, 1, (9, 17, 2)) * [w, h]
    kpts = kpts.astype(np.float32)
    encoded = codec.encode(
        kpts, np.ones((9, 17), np.float32),
        np.zeros((1, 17, 3), np.float32), np.ones((1, 17), np.float32),
        dict(w=w, h=h))['keypoint_labels']
    ours = lifter.prepare(kpts, 'h36m', img_size)
    assert ours.shape == encoded.shape == (9, 17, 2)
    np.testing.assert_allclose(ours, encoded, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize('layout,num', [('coco', 17), ('aic', 14),
                                        ('crowdpose', 14),
                                        ('posetrack18', 17)])
def test_conversion_matches_mmpose(layout, num):
    kpts = np.random.default_rng(1).uniform(0, 300, (3, num, 3))
    ours = convert_keypoints(kpts, layout)
    ref = convert_keypoint_definition(kpts.copy(), layout, 'h36m')
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9)
    assert np.array_equal(convert_keypoints(ours, 'h36m'), ours)


def test_unconvertible_layout_is_a_clear_error(lifter):
    hand = np.zeros((21, 3), np.float32)
    with pytest.raises(
            KeypointLayoutError, match=r"21 keypoints of layout 'onehand10k'"):
        convert_keypoints(hand, 'onehand10k')
    with pytest.raises(
            KeypointLayoutError,
            match=r"21 keypoints as layout 'coco'.*has 17"):
        convert_keypoints(hand, 'coco')
    with pytest.raises(KeypointLayoutError, match='Supported 2D layouts'):
        lifter.prepare(hand[None], 'onehand10k', (640, 480))
    with pytest.raises(KeypointLayoutError, match='Human3.6M-17'):
        conversion_matrix('coco', 'onehand10k')


# ------------------------------------------------------------ windows
def test_window_edge_padding():
    T, F = 20, 9
    np.testing.assert_array_equal(
        window_indices([0], T, F, causal=False)[0],
        [0, 0, 0, 0, 0, 1, 2, 3, 4])
    np.testing.assert_array_equal(
        window_indices([0], T, F, causal=True)[0], [0] * 9)
    np.testing.assert_array_equal(
        window_indices([3], T, F, causal=True)[0], [0, 0, 0, 0, 0, 0, 1, 2, 3])
    np.testing.assert_array_equal(
        window_indices([19], T, F, causal=False)[0],
        [15, 16, 17, 18, 19, 19, 19, 19, 19])
    np.testing.assert_array_equal(
        window_indices([19], T, F, causal=True)[0], np.arange(11, 20))
    np.testing.assert_array_equal(
        window_indices([10], T, 5, causal=False, step=2)[0],
        [6, 8, 10, 12, 14])
    assert target_index(F, False) == 4 and target_index(F, True) == 8

    seq = np.arange(T, dtype=np.float32)[:, None, None] * np.ones((1, 17, 2))
    first = next(iter_window_batches(seq, F, causal=False, batch_size=4))
    assert first.windows.shape == (4, F, 17, 2)
    # the window of frame 0 replicates frame 0 left of the centre
    np.testing.assert_array_equal(first.windows[0, :5], seq[[0] * 5])
    np.testing.assert_array_equal(first.windows[0, 4:], seq[0:5])
    first_causal = next(iter_window_batches(seq, F, True, batch_size=4))
    np.testing.assert_array_equal(first_causal.windows[0],
                                  np.repeat(seq[:1], F, 0))


def test_window_batches_cover_many_sequences():
    seqs = [np.random.rand(n, 17, 2).astype(np.float32) for n in (5, 1, 12)]
    seen = []
    for batch in iter_window_batches(seqs, 9, False, batch_size=4):
        assert 0 < len(batch) <= 4
        assert batch.windows.shape[1:] == (9, 17, 2)
        for s, t, win in zip(batch.seq_index, batch.targets, batch.windows):
            np.testing.assert_array_equal(win[4], seqs[s][t])
            seen.append((int(s), int(t)))
    assert sorted(seen) == [(s, t) for s, n in enumerate((5, 1, 12))
                            for t in range(n)]


def test_long_input_is_lifted_lazily_in_bounded_memory(lifter, monkeypatch):
    """30,000 frames (10 min at 50 fps): windows exist one batch at a time;
    all 81-frame windows at once would take 330 MB."""
    T, F, B = 30000, 81, 256
    seq = np.random.rand(T, 17, 2).astype(np.float32)
    gen = iter_window_batches(seq, F, False, batch_size=B)
    assert not isinstance(gen, (list, tuple))
    tracemalloc.start()
    try:
        num, peak_batch = 0, 0
        for batch in gen:
            assert batch.windows.shape == (len(batch), F, 17, 2)
            peak_batch = max(peak_batch, len(batch))
            num += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert num == math.ceil(T / B) and peak_batch == B
    all_windows = T * F * 17 * 2 * 4
    assert peak < 4 * B * F * 17 * 2 * 4 < all_windows / 20

    # the lifter feeds the network batch by batch (network stubbed: shape
    # and order of the calls only), with a progress bar
    sizes = []

    def fake_forward(windows):
        sizes.append(windows.shape)
        return windows[:, (lifter.seq_len - 1) // 2, :, :1].repeat(3, -1)

    monkeypatch.setattr(lifter, 'forward_windows', fake_forward)
    monkeypatch.setattr(lifter, 'batch_size', 1024)
    seq9 = np.random.rand(T, 17, 2).astype(np.float32)
    out = lifter.lift_sequences(seq9, progress=True)[0]
    assert out.shape == (T, 17, 3)
    assert max(s[0] for s in sizes) == 1024 and len(sizes) == 30
    assert all(s[1:] == (9, 17, 2) for s in sizes)
    np.testing.assert_array_equal(out[:, :, 0], seq9[:, :, 0])


# ------------------------------------------------------------ lifter
def test_lifter_reads_the_config(lifter):
    assert lifter.seq_len == 9 and lifter.causal is False
    assert lifter.flip_test is True and lifter.layout == 'h36m'
    cfg = Config.fromfile(CFG_9F)
    assert cfg.test_dataloader.dataset.seq_len == 9
    assert cfg.codec.reshape_keypoints is False  # (F, J, 2) windows


def test_lifter_matches_pose_lifter_predict(lifter):
    """The batched path == PoseLifter.predict (flip test included)."""
    x = torch.randn(3, 9, 17, 2)
    samples = [
        PoseDataSample(metainfo=dict(flip_indices=lifter.flip_indices))
        for _ in range(3)
    ]
    with torch.no_grad():
        ref = lifter.model.predict(x.clone(), samples)
    ref = np.stack([r.pred_instances.keypoints[0] for r in ref])
    ours = lifter.forward_windows(x.numpy())
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-5)


def test_lift_sequences_centred_and_causal(lifter):
    rng = np.random.default_rng(2)
    seq = rng.uniform(-1, 1, (15, 17, 2)).astype(np.float32)
    centred = lifter.lift_sequences(seq)[0]
    assert centred.shape == (15, 17, 3) and np.isfinite(centred).all()
    # frame 0: its window replicates frame 0 to the left
    win0 = seq[window_indices([0], 15, 9, causal=False)]
    np.testing.assert_allclose(
        centred[0], lifter.forward_windows(win0)[0], rtol=1e-4, atol=1e-5)
    causal = Lifter(lifter.model, causal=True).lift_sequences(seq)[0]
    win0c = np.repeat(seq[:1], 9, 0)[None]
    np.testing.assert_allclose(
        causal[0], lifter.forward_windows(win0c)[0], rtol=1e-4, atol=1e-5)
    assert not np.allclose(causal[7], centred[7])
    # a static pose lifts to the same 3D pose everywhere
    static = lifter.lift_sequences(np.repeat(seq[:1], 12, 0))[0]
    np.testing.assert_allclose(static, static[:1].repeat(12, 0), atol=1e-5)


def test_online_lifter_matches_causal_offline(lifter):
    rng = np.random.default_rng(3)
    pix = rng.uniform(50, 250, (12, 17, 3)).astype(np.float32)
    pix[..., 2] = 1
    with pytest.warns(UserWarning, match='centred windows'):
        online = OnlineLifter(lifter, 'h36m', img_size=(320, 240))
    outs = [online.step({7: k})[7] for k in pix]
    offline = Lifter(
        lifter.model,
        causal=True).lift_sequences(lifter.prepare(pix, 'h36m', (320, 240)))[0]
    np.testing.assert_allclose(np.stack(outs), offline, rtol=1e-4, atol=1e-5)
    stats = online.stats()
    assert stats['frames'] == 12
    assert 0 < stats['p50'] <= stats['p95'] <= stats['max']
    # unseen tracks are dropped after max_age frames
    online.max_age = 2
    for _ in range(3):
        online.step({})
    assert 7 not in online.buffers


def test_lifter_names_non_finite_input(lifter):
    """NaN keypoints are refused with the sequence, frame and joint the user
    gave, not the position in an internal batch of windows."""
    seqs = [np.zeros((12, 17, 2), np.float32) for _ in range(2)]
    seqs[1][5, 7, 0] = np.nan
    with pytest.raises(ValueError, match=r'^sequence 1: 1 NaN or infinite'
                       r' value\(s\), the first at frame 5, joint 7, '
                       'channel 0'):
        lifter.lift_sequences(seqs)
    windows = np.zeros((3, 9, 17, 2), np.float32)
    windows[2, 0, 16, 1] = np.inf
    with pytest.raises(ValueError, match='^windows: .* sample 2, frame 0, '
                       'joint 16, channel 1'):
        lifter.forward_windows(windows)


def test_online_lifter_names_the_track_with_non_finite_keypoints(lifter):
    with pytest.warns(UserWarning, match='centred windows'):
        online = OnlineLifter(lifter, 'h36m', img_size=(320, 240))
    good = np.full((17, 3), 100., np.float32)
    bad = good.copy()
    bad[4, 1] = np.nan
    online.step({1: good})
    with pytest.raises(ValueError, match='^track 2: .* joint 4, channel 1'):
        online.step({1: good, 2: bad})
    assert online.frame_idx == 0 and 2 not in online.buffers
    assert online.step({1: good})[1].shape == (17, 3)


# ------------------------------------------------------------ tracking
def test_greedy_tracker_keeps_two_ids():
    for mode in ('iou', 'kpt'):
        tracker = GreedyTracker(mode, thr=0.3)
        history = {}
        for t in range(6):
            _, (a, b) = two_people(t)
            insts = [PoseInstance(b), PoseInstance(a)] if t % 2 else \
                [PoseInstance(a), PoseInstance(b)]
            tracker.update(insts, t)
            for inst in insts:
                who = 'A' if inst.keypoints[0, 0] < 160 else 'B'
                history.setdefault(who, set()).add(inst.track_id)
        assert history['A'] != history['B']
        assert len(history['A']) == 1 and len(history['B']) == 1, mode


def test_pose2d_two_people_tracked_and_lifted(pose2d_cfg, lifter, tmp_path):
    torch.manual_seed(0)
    estimator = Pose2DEstimator(pose2d_cfg)
    assert estimator.layout == 'coco' and not estimator.bottomup
    frames = [two_people(t) for t in range(6)]

    def detector(img):  # boxes of the drawn figures, order flips per frame
        t = next(i for i, (f, _) in enumerate(frames) if f is img)
        boxes = [box(k) for k in frames[t][1]]
        return np.stack(boxes[::-1] if t % 2 else boxes)

    results = list(
        estimate_pose2d(((t, f) for t, (f, _) in enumerate(frames)), estimator,
                        detector, GreedyTracker('iou')))
    ids_by_side = {}
    for t, insts in results:
        assert len(insts) == 2
        for inst in insts:
            assert inst.keypoints.shape == (17, 3)
            side = 'left' if inst.bbox[0] < 160 else 'right'
            ids_by_side.setdefault(side, set()).add(inst.track_id)
    assert ids_by_side == {'left': {0}, 'right': {1}}

    tracks = group_tracks(results)
    assert [t.track_id for t in tracks] == [0, 1]
    poses = lifter.lift_tracks(tracks, estimator.layout, (320, 240))
    assert {
        k: v.shape
        for k, v in poses.items()
    } == {
        0: (6, 17, 3),
        1: (6, 17, 3)
    }
    result = LiftResult.from_tracks(tracks, poses, 6)
    assert len(result) == 12 and result.frame(3) == slice(6, 8)
    meta = result_meta(layout_2d='coco')
    save_json(result, str(tmp_path / 'r.json'), meta)
    save_npz(result, str(tmp_path / 'r.npz'), meta)
    data = json.load(open(tmp_path / 'r.json'))
    assert len(data['frames']) == 6
    inst = data['frames'][2]['instances'][1]
    assert inst['track_id'] == 1 and np.shape(inst['keypoints_3d']) == (17, 3)
    npz = np.load(tmp_path / 'r.npz')
    assert npz['keypoints_3d'].shape == (12, 17, 3)
    np.testing.assert_array_equal(npz['track_id'], [0, 1] * 6)


def test_whole_image_is_one_person_without_detector(pose2d_cfg):
    estimator = Pose2DEstimator(pose2d_cfg)
    img, _ = two_people(0)
    (_, insts), = estimate_pose2d([(0, img)], estimator)
    assert len(insts) == 1 and insts[0].track_id == 0
    np.testing.assert_array_equal(insts[0].bbox, [0, 0, 320, 240])


# ------------------------------------------------------------ files
def test_keypoint_file_readers(tmp_path):
    a, b = figure(80, 120), figure(240, 125)
    preds = [
        dict(
            image_id=10, category_id=1, keypoints=a.ravel().tolist(),
            score=.9),
        dict(
            image_id=10, category_id=1, keypoints=b.ravel().tolist(),
            score=.8),
        dict(
            image_id=12,
            category_id=1,
            keypoints=a.ravel().tolist(),
            score=.9,
            bbox=[60, 40, 40, 100]),
    ]
    path = tmp_path / 'preds.json'
    path.write_text(json.dumps(preds))
    kf = load_coco_keypoints_json(str(path))
    assert len(kf) == 3 and [len(f) for f in kf.frames] == [2, 0, 1]
    assert kf.num_keypoints == 17 and not kf.tracked
    np.testing.assert_array_equal(kf.frames[2][0].bbox, [60, 40, 100, 140])
    for p, tid in zip(preds, (4, 5, 4)):
        p['track_id'] = tid
    path.write_text(json.dumps(preds))
    kf = load_keypoints_file(str(path))
    assert kf.tracked and [i.track_id for i in kf.frames[0]] == [4, 5]

    arr = np.stack([figure(80 + t, 120) for t in range(5)])  # (T, 17, 3)
    np.save(tmp_path / 'one.npy', arr)
    kf = load_keypoints_file(str(tmp_path / 'one.npy'))
    assert len(kf) == 5 and all(len(f) == 1 for f in kf.frames)
    multi = np.stack([arr[..., :2], arr[..., :2] + 100], 1)  # (T, 2, 17, 2)
    multi[3, 1] = np.nan  # person 1 missing in frame 3
    np.save(tmp_path / 'multi.npy', multi)
    kf = load_keypoints_file(str(tmp_path / 'multi.npy'))
    assert [len(f) for f in kf.frames] == [2, 2, 2, 1, 2]
    tracks = group_tracks(enumerate(kf.frames))
    np.testing.assert_array_equal(tracks[1].frames, [0, 1, 2, 4])
    with pytest.raises(ValueError, match='unsupported keypoint file'):
        load_keypoints_file(str(tmp_path / 'x.txt'))


# ------------------------------------------------------------ demo
def _run_demo(checkpoint, *argv):
    import importlib.util
    spec = importlib.util.spec_from_file_location('cf_demo', DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    opts = [f'{k}={v}' for k, v in TINY.items()]
    demo.main([CFG_9F, checkpoint, *argv, '--cfg-options', *opts])


def test_demo_video_with_2d_model(video, pose2d_cfg, checkpoint, tmp_path):
    _run_demo(checkpoint, '--input', video, '--pose2d-config', pose2d_cfg,
              '--output-root', str(tmp_path), '--vis-height', '120')
    data = json.load(open(tmp_path / 'two_3d.json'))
    assert data['meta']['seq_len'] == 9 and len(data['frames']) == 8
    assert all(len(f['instances']) == 1 for f in data['frames'])
    assert FrameSource(str(tmp_path / 'two_3d_vis.mp4')).num_frames == 8
    assert np.load(tmp_path / 'two_3d.npz')['keypoints_3d'].shape == (8, 17, 3)


def test_demo_keypoint_file_online(lifter, checkpoint, tmp_path, capsys):
    arr = np.stack([
        np.stack([figure(80 + t, 120),
                  figure(240 - t, 125)]) for t in range(10)
    ])  # (T, P, 17, 3), COCO layout
    np.save(tmp_path / 'kpts.npy', arr)
    _run_demo(checkpoint, '--kpt-file', str(tmp_path / 'kpts.npy'),
              '--img-size', '320', '240', '--online', '--no-vis',
              '--output-root', str(tmp_path))
    out = capsys.readouterr().out
    assert 'online latency per frame (ms)' in out and 'p95' in out
    npz = np.load(tmp_path / 'kpts_3d.npz')
    assert npz['keypoints_3d'].shape == (20, 17, 3)
    meta = json.loads(str(npz['meta']))
    assert meta['causal'] is True and meta['latency_ms']['frames'] > 0
    assert meta['lifter_checkpoint'] == checkpoint
    # the trained lifter's poses: person 0 of the file, causal windows
    person0 = lifter.prepare(arr[:, 0], 'coco', (320, 240))
    expected = Lifter(lifter.model, causal=True).lift_sequences(person0)[0]
    np.testing.assert_allclose(
        npz['keypoints_3d'][npz['track_id'] == 0], expected, rtol=1e-4,
        atol=1e-5)

    # 21 hand keypoints cannot become Human3.6M joints
    np.save(tmp_path / 'hand.npy', np.zeros((4, 21, 3), np.float32))
    with pytest.raises(KeypointLayoutError, match="21 keypoints as layout"):
        _run_demo(checkpoint, '--kpt-file', str(tmp_path / 'hand.npy'),
                  '--img-size', '320', '240', '--no-vis', '--output-root',
                  str(tmp_path))


# ------------------------------------------------------------ MMPose
def test_mmpose_inferencers_with_crossformer_config(video, pose2d_cfg,
                                                    trained_lifter,
                                                    checkpoint, tmp_path):
    from mmpose.apis.inferencers import MMPoseInferencer, Pose3DInferencer
    cfg = str(trained_lifter[0])  # CFG_9F with the TINY model
    inferencer = MMPoseInferencer(
        pose2d=pose2d_cfg,
        pose3d=cfg,
        pose3d_weights=checkpoint,
        det_model='whole_image',
        device='cpu')
    assert_trained_weights(inferencer.inferencer.model, checkpoint)
    shapes = []
    inferencer.inferencer.model.backbone.register_forward_hook(
        lambda m, args, out: shapes.append(tuple(args[0].shape)))
    results = list(
        inferencer(
            video,
            vis_out_dir=str(tmp_path / 'vis'),
            disable_norm_pose_2d=True))
    assert len(results) == 8
    assert np.shape(results[0]['predictions'][0][0]['keypoints']) == (17, 3)
    assert set(shapes) == {(1, 9, 17, 2)}
    assert osp.isfile(tmp_path / 'vis' / 'two.mp4')

    pose3d = Pose3DInferencer(
        cfg,
        checkpoint,
        pose2d_model=pose2d_cfg,
        det_model='whole_image',
        device='cpu')
    assert_trained_weights(pose3d.model, checkpoint)
    img, _ = two_people(0)
    res = next(pose3d(img, return_vis=True))
    assert np.shape(res['predictions'][0][0]['keypoints']) == (17, 3)
    assert res['visualization'][0].ndim == 3


def test_mmpose_inference_pose_lifter_model(lifter):
    """MMPose's functional API (demo/body3d_pose_lifter_demo.py) builds
    (F, J, 2) windows for CrossFormer configs from the test pipeline."""
    from mmengine.structures import InstanceData
    from mmpose.apis import extract_pose_sequence, inference_pose_lifter_model
    frames = []
    for t in range(5):
        ds = PoseDataSample()
        ds.gt_instances = InstanceData()
        ds.pred_instances = InstanceData(
            keypoints=convert_keypoints(figure(100 + t, 120), 'coco')[None,
                                                                      ..., :2],
            bboxes=box(figure(100 + t, 120))[None, :4])
        ds.track_id = 0
        frames.append([ds])
    seq = extract_pose_sequence(
        frames, frame_idx=2, causal=lifter.causal, seq_len=lifter.seq_len)
    assert len(seq) == 9
    res = inference_pose_lifter_model(lifter.model, seq, image_size=(320, 240))
    assert res[0].pred_instances.keypoints.shape == (1, 17, 3)
