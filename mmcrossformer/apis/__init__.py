# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Inference helpers: 2D keypoint conversion, tracking, windowed (offline)
and causal (online) lifting, keypoint file readers and result writers."""
from .io import (FrameSource, KeypointFile, LiftResult,
                 load_coco_keypoints_json, load_keypoints_file,
                 load_keypoints_json, load_keypoints_npy,
                 load_mmpose_predictions_json, result_meta, save_json,
                 save_npz)
from .keypoints import (H36M_KEYPOINTS, H36M_SKELETON, KEYPOINT_LAYOUTS,
                        KeypointLayoutError, bbox_from_keypoints,
                        conversion_matrix, convert_keypoints, normalize_screen,
                        normalize_to_dataset_bbox)
from .lifting import (Lifter, OnlineLifter, WindowBatch, fill_gaps,
                      iter_window_batches, latency_stats, target_index,
                      window_indices, window_offsets)
from .pose2d import PersonDetector, Pose2DEstimator, estimate_pose2d
from .render import SideBySideRenderer, VideoSink
from .tracking import (GreedyTracker, PoseInstance, Track, bbox_iou,
                       group_tracks)

__all__ = [
    'FrameSource', 'GreedyTracker', 'H36M_KEYPOINTS', 'H36M_SKELETON',
    'KEYPOINT_LAYOUTS', 'KeypointFile', 'KeypointLayoutError', 'LiftResult',
    'Lifter', 'OnlineLifter', 'PersonDetector', 'Pose2DEstimator',
    'PoseInstance', 'SideBySideRenderer', 'Track', 'VideoSink', 'WindowBatch',
    'bbox_from_keypoints', 'bbox_iou', 'conversion_matrix',
    'convert_keypoints', 'estimate_pose2d', 'fill_gaps', 'group_tracks',
    'iter_window_batches', 'latency_stats', 'load_coco_keypoints_json',
    'load_keypoints_file', 'load_keypoints_json', 'load_keypoints_npy',
    'load_mmpose_predictions_json', 'normalize_screen',
    'normalize_to_dataset_bbox', 'result_meta', 'save_json', 'save_npz',
    'target_index', 'window_indices', 'window_offsets'
]
