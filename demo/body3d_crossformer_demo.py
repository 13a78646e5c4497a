# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""3D human poses from a video / image folder, or from a 2D keypoint file,
with CrossFormer behind any MMPose 2D pose estimator.

Pipeline: [person detection (MMDetection, optional; without it the whole
frame is one person)] -> 2D poses (any MMPose 2D model) -> greedy tracking
(IoU or keypoint similarity) -> COCO-style -> Human3.6M-17 conversion ->
CrossFormer lifting (offline: centred windows with edge replication, lazily
batched; ``--online``: causal windows, frame by frame, with latency stats)
-> JSON + npz per frame and track, and a side-by-side 2D / 3D video.

Examples::

    # video or image folder, whole frame = one person, RTMPose-m 2D
    P2D=mmpose::body_2d_keypoint/rtmpose/coco
    python demo/body3d_crossformer_demo.py configs/crossformer_h36m_81f.py \
        crossformer_81f.pth --input demo.mp4 \
        --pose2d-config $P2D/rtmpose-m_8xb256-420e_coco-256x192.py \
        --pose2d-checkpoint rtmpose-m_coco.pth

    # 2D predictions of MMPose's demo/inferencer_demo.py --pred-out-dir
    # (or a COCO-style prediction file), no 2D model, online mode
    python demo/body3d_crossformer_demo.py configs/crossformer_h36m_81f.py \
        crossformer_81f.pth --kpt-file preds.json --kpt-layout coco \
        --img-size 1920 1080 --fps 50 --online --no-vis
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
import warnings

import numpy as np
from mmengine.config import DictAction
from mmengine.utils import ProgressBar

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmcrossformer.apis import (FrameSource, GreedyTracker,  # noqa: E402
                                LiftResult, Lifter, OnlineLifter,
                                PersonDetector, Pose2DEstimator,
                                SideBySideRenderer, VideoSink,
                                conversion_matrix, convert_keypoints,
                                estimate_pose2d, group_tracks,
                                load_keypoints_file, result_meta, save_json,
                                save_npz)
from mmcrossformer.apis.keypoints import KEYPOINT_LAYOUTS  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('lifter_config', help='CrossFormer config')
    p.add_argument(
        'lifter_checkpoint',
        nargs='?',
        default=None,
        help='CrossFormer checkpoint (random weights when omitted)')
    src = p.add_argument_group('input')
    src.add_argument(
        '--input',
        help='video file, image folder or image (frames to run '
        'the 2D model on, and the background of the visualisation)')
    src.add_argument(
        '--kpt-file',
        help='2D keypoints instead of a 2D model: the .json that MMPose\'s '
        'demo/inferencer_demo.py --pred-out-dir writes, a COCO-style '
        'prediction .json, or .npy (T, K, 2|3) / (T, P, K, 2|3) in pixels')
    src.add_argument(
        '--kpt-layout',
        default='coco',
        choices=sorted(KEYPOINT_LAYOUTS),
        help='layout of --kpt-file keypoints (default coco)')
    src.add_argument(
        '--img-size',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='frame size of --kpt-file keypoints (default: --input size)')
    src.add_argument(
        '--fps', type=float, default=None, help='frame rate of the output')
    m2d = p.add_argument_group('2D model')
    m2d.add_argument('--pose2d-config', help='any MMPose 2D config')
    m2d.add_argument('--pose2d-checkpoint', help='its checkpoint')
    m2d.add_argument('--det-config', help='MMDetection config (optional)')
    m2d.add_argument('--det-checkpoint', help='its checkpoint')
    m2d.add_argument('--det-cat-id', type=int, default=0)
    m2d.add_argument('--bbox-thr', type=float, default=0.5)
    m2d.add_argument('--nms-thr', type=float, default=0.3)
    trk = p.add_argument_group('tracking')
    trk.add_argument('--tracking', choices=('iou', 'kpt'), default='iou')
    trk.add_argument('--tracking-thr', type=float, default=0.3)
    trk.add_argument('--max-age', type=int, default=10)
    lift = p.add_argument_group('lifting')
    lift.add_argument(
        '--online',
        action='store_true',
        help='causal frame-by-frame lifting with latency statistics')
    lift.add_argument(
        '--batch-size',
        type=int,
        default=64,
        help='windows per forward pass (CPU: 32-64 is fastest; larger on GPU)')
    lift.add_argument(
        '--norm-mode',
        choices=('screen', 'bbox'),
        default='screen',
        help='screen: normalise by the frame (default); bbox: move every '
        'person to the Human3.6M mean box first')
    lift.add_argument('--no-flip', action='store_true', help='no flip test')
    lift.add_argument(
        '--bf16',
        action='store_true',
        help='run the lifter in bfloat16 (model.backbone.inference_dtype)')
    out = p.add_argument_group('output')
    out.add_argument('--output-root', default='vis_results')
    out.add_argument('--no-vis', action='store_true')
    out.add_argument('--vis-height', type=int, default=480)
    out.add_argument(
        '--max-vis-frames',
        type=int,
        default=None,
        help='render only the first N frames')
    p.add_argument('--device', default='cpu')
    p.add_argument(
        '--num-threads',
        type=int,
        default=None,
        help='torch CPU threads (1 gives the steadiest online latency on a '
        'busy CPU)')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the lifter config')
    args = p.parse_args(argv)
    if args.input is None and args.kpt_file is None:
        p.error('give --input (with --pose2d-config) or --kpt-file')
    if args.kpt_file is None and args.pose2d_config is None:
        p.error('--input needs a 2D model: --pose2d-config')
    if (args.det_config is None) != (args.det_checkpoint is None):
        p.error('--det-config and --det-checkpoint go together')
    return args


def track(frames, tracker):
    """Assign track ids to untracked ``(frame_idx, instances)``."""
    for t, insts in frames:
        tracker.update(insts, t)
        yield t, insts


def keypoint_frames(args, lifter, source):
    """(frames iterator, layout, img_size, num_frames)."""
    if args.kpt_file:
        kf = load_keypoints_file(args.kpt_file)
        layout = args.kpt_layout
        conversion_matrix(layout, lifter.layout, kf.num_keypoints)
        img_size = tuple(args.img_size) if args.img_size else (
            source.size if source else None)
        if img_size is None and lifter.norm_mode == 'screen':
            raise SystemExit(
                'error: screen normalisation needs the frame size of the '
                'keypoints: pass --img-size W H (or --input, or use '
                '--norm-mode bbox)')
        frames = enumerate(kf.frames)
        if not kf.tracked:
            frames = track(
                frames,
                GreedyTracker(args.tracking, args.tracking_thr, args.max_age))
        return frames, layout, img_size, len(kf)
    estimator = Pose2DEstimator(args.pose2d_config, args.pose2d_checkpoint,
                                args.device)
    conversion_matrix(estimator.layout, lifter.layout, estimator.num_keypoints)
    detector = None
    if args.det_config:
        detector = PersonDetector(args.det_config, args.det_checkpoint,
                                  args.device, args.det_cat_id, args.bbox_thr,
                                  args.nms_thr)
    tracker = GreedyTracker(args.tracking, args.tracking_thr, args.max_age)
    frames = estimate_pose2d(source, estimator, detector, tracker)
    return frames, estimator.layout, source.size, len(source)


def run_offline(frames, lifter, layout, img_size, num_frames):
    print('2D poses ...')
    bar = ProgressBar(num_frames) if num_frames else None
    collected = []
    for t, insts in frames:
        collected.append((t, insts))
        if bar:
            bar.update()
    print()
    num_frames = max(num_frames, collected[-1][0] + 1 if collected else 0)
    tracks = group_tracks(collected)
    print(f'{len(tracks)} track(s); lifting with {lifter.seq_len}-frame '
          f"{'causal' if lifter.causal else 'centred'} windows ...")
    poses = lifter.lift_tracks(tracks, layout, img_size, progress=True)
    return LiftResult.from_tracks(tracks, poses, num_frames), None


def run_online(frames, lifter, layout, img_size, num_frames, max_age):
    online = OnlineLifter(lifter, layout, img_size, max_age=max_age)
    rows = []
    K = KEYPOINT_LAYOUTS[layout].num_keypoints
    bar = ProgressBar(num_frames) if num_frames else None
    last = -1
    for t, insts in frames:
        by_id = {i.track_id: i for i in insts}
        out = online.step({
            k: i.keypoints
            for k, i in by_id.items()
        }, {
            k: i.bbox
            for k, i in by_id.items()
        })
        for tid, pose in out.items():
            rows.append((t, tid, by_id[tid].keypoints, by_id[tid].bbox, pose))
        last = t
        if bar:
            bar.update()
    print()
    stats = online.stats(skip=min(5, max(len(online.latencies_ms) - 1, 0)))
    result = LiftResult.from_rows(rows, max(num_frames, last + 1), K)
    return result, stats


def render(args, result, layout, img_size, source, fps, path):
    num = result.num_frames if args.max_vis_frames is None else min(
        result.num_frames, args.max_vis_frames)
    if img_size is None:  # keypoints only, no frame size: fit them
        hi = np.nanmax(result.keypoints_2d[..., :2].reshape(-1, 2), 0)
        img_size = tuple(int(v * 1.05) + 1 for v in hi)
    renderer = SideBySideRenderer(img_size, height=args.vis_height)
    sink = VideoSink(path, fps)
    if path.endswith('.jpg'):  # one image in, one image out
        import cv2
        sink.write = lambda frame: cv2.imwrite(path, frame)
    frames = iter(source) if source is not None else None
    print('rendering ...')
    bar = ProgressBar(num)
    for t in range(num):
        img = next(frames, (t, None))[1] if frames is not None else None
        rows = result.frame(t)
        k2 = result.keypoints_2d[rows]
        k2 = convert_keypoints(k2, layout) if len(k2) else k2
        sink.write(
            renderer.render(img, result.track_id[rows].tolist(), list(k2),
                            list(result.keypoints_3d[rows]),
                            list(result.bboxes[rows]), f'frame {t}'))
        bar.update()
    print()
    sink.close()


def main(argv=None):
    args = parse_args(argv)
    if args.num_threads:
        import torch
        torch.set_num_threads(args.num_threads)
    lifter = Lifter.from_config(
        args.lifter_config,
        args.lifter_checkpoint,
        device=args.device,
        cfg_options=dict(args.cfg_options or {},
                         **({'model.backbone.inference_dtype': 'bf16'}
                            if args.bf16 else {})),
        causal=True if args.online else None,
        flip_test=False if args.no_flip else None,
        batch_size=args.batch_size,
        norm_mode=args.norm_mode)
    source = FrameSource(args.input) if args.input else None
    fps = args.fps or (source.fps if source else 25.)
    frames, layout, img_size, num_frames = keypoint_frames(
        args, lifter, source)

    t0 = time.perf_counter()
    if args.online:
        result, stats = run_online(frames, lifter, layout, img_size,
                                   num_frames, args.max_age)
    else:
        result, stats = run_offline(frames, lifter, layout, img_size,
                                    num_frames)
    elapsed = time.perf_counter() - t0

    name = osp.splitext(
        osp.basename((args.input or args.kpt_file).rstrip('/')))[0]
    os.makedirs(args.output_root, exist_ok=True)
    meta = result_meta(
        lifter_config=str(args.lifter_config),
        lifter_checkpoint=args.lifter_checkpoint,
        seq_len=lifter.seq_len,
        causal=lifter.causal,
        flip_test=lifter.flip_test,
        norm_mode=lifter.norm_mode,
        layout_2d=layout,
        img_size=list(img_size) if img_size else None,
        fps=fps,
        num_frames=result.num_frames,
        track_ids=result.track_ids.tolist())
    if stats is not None:
        meta['latency_ms'] = stats
    json_path = osp.join(args.output_root, f'{name}_3d.json')
    npz_path = osp.join(args.output_root, f'{name}_3d.npz')
    save_json(result, json_path, meta)
    save_npz(result, npz_path, meta)
    print(f'{len(result)} poses of {len(result.track_ids)} track(s) in '
          f'{result.num_frames} frames ({elapsed:.1f} s) -> {json_path}, '
          f'{npz_path}')
    if stats is not None:
        print('online latency per frame (ms): ' + json.dumps({
            k: round(v, 2)
            for k, v in stats.items()
        }))
    if not args.no_vis:
        single = source is not None and source.names is not None and \
            not osp.isdir(args.input)
        vis_path = osp.join(args.output_root,
                            f"{name}_3d_vis.{'jpg' if single else 'mp4'}")
        render(args, result, layout, img_size, source, fps, vis_path)
        print(f'visualisation -> {vis_path}')


if __name__ == '__main__':
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore', category=FutureWarning)
        main()
