# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Person detection (MMDetection, optional) and 2D pose estimation (any
MMPose top-down or bottom-up model) per frame, with tracking."""
import importlib
import os.path as osp
from typing import (Callable, Iterable, Iterator, List, Optional, Tuple, Union)

import numpy as np

from .tracking import GreedyTracker, PoseInstance


def load_config(config):
    """A config path, ``'mmpose::<path>'`` / ``'mmdet::<path>'`` (a config
    shipped in that package's ``.mim/configs``) or a Config -> Config."""
    from mmengine.config import Config
    if not isinstance(config, str):
        return config
    if '::' in config:
        package, rel = config.split('::', 1)
        root = osp.dirname(importlib.import_module(package).__file__)
        path = osp.join(root, '.mim', 'configs', rel)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{config}: no such config ({path})')
        config = path
    return Config.fromfile(config)


class PersonDetector:
    """An MMDetection detector returning person boxes (N, 5) xyxy + score
    of category ``cat_id`` above ``score_thr``, after NMS."""

    def __init__(self,
                 config,
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 cat_id: int = 0,
                 score_thr: float = 0.5,
                 nms_thr: float = 0.3) -> None:
        try:
            from mmdet.apis import init_detector
        except ImportError as e:  # pragma: no cover
            raise RuntimeError('person detection needs MMDetection 3.x') from e
        self.model = init_detector(
            load_config(config), checkpoint, device=device)
        self.cat_id, self.score_thr, self.nms_thr = cat_id, score_thr, nms_thr

    def __call__(self, img: np.ndarray) -> np.ndarray:
        from mmdet.apis import inference_detector
        from mmpose.evaluation.functional import nms
        pred = inference_detector(self.model, img).pred_instances.cpu()
        keep = (pred.labels.numpy() == self.cat_id) & (
            pred.scores.numpy() > self.score_thr)
        boxes = np.concatenate(
            [pred.bboxes.numpy()[keep],
             pred.scores.numpy()[keep, None]],
            axis=1).astype(np.float32)
        if len(boxes) > 1:
            boxes = boxes[nms(boxes, self.nms_thr)]
        return boxes


class Pose2DEstimator:
    """Any MMPose 2D model: top-down models estimate a pose in every given
    box (the whole image when none is given), bottom-up models find the
    people themselves. ``layout`` is the model's ``dataset_name``."""

    def __init__(self,
                 config,
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 cfg_options: Optional[dict] = None) -> None:
        import torch
        from mmpose.apis import init_model
        if isinstance(config, torch.nn.Module):  # an initialised model
            self.model = config
        else:  # a config path or Config
            self.model = init_model(
                load_config(config),
                checkpoint,
                device=device,
                cfg_options=cfg_options)
        self.layout = self.model.dataset_meta['dataset_name']
        self.num_keypoints = self.model.dataset_meta['num_keypoints']
        self.bottomup = self.model.cfg.model.type == 'BottomupPoseEstimator'

    def __call__(self,
                 img: np.ndarray,
                 bboxes: Optional[np.ndarray] = None) -> List[PoseInstance]:
        from mmpose.apis import inference_bottomup, inference_topdown
        if self.bottomup:
            samples = inference_bottomup(self.model, img)
            pred = samples[0].pred_instances
            kpts, scores = pred.keypoints, pred.keypoint_scores
            boxes = pred.bboxes if 'bboxes' in pred else [None] * len(kpts)
            box_scores = pred.bbox_scores if 'bbox_scores' in pred else \
                scores.mean(-1)
            return [
                PoseInstance(
                    np.concatenate([k, s[:, None]], -1), b, float(bs))
                for k, s, b, bs in zip(kpts, scores, boxes, box_scores)
            ]
        if bboxes is None:
            h, w = img.shape[:2]
            bboxes = np.array([[0, 0, w, h, 1.]], np.float32)
        bboxes = np.asarray(bboxes, np.float32)
        if bboxes.size == 0:
            return []
        bboxes = bboxes.reshape(len(bboxes), -1)
        samples = inference_topdown(self.model, img, bboxes[:, :4])
        out = []
        for box, ds in zip(bboxes, samples):
            pred = ds.pred_instances
            k = np.concatenate(
                [pred.keypoints[0], pred.keypoint_scores[0][:, None]], -1)
            score = float(box[4]) if len(box) > 4 else 1.
            out.append(PoseInstance(k, box[:4], score))
        return out


def estimate_pose2d(
    frames: Iterable[Tuple[int, np.ndarray]],
    estimator: Pose2DEstimator,
    detector: Optional[Union[PersonDetector, Callable]] = None,
    tracker: Optional[GreedyTracker] = None
) -> Iterator[Tuple[int, List[PoseInstance]]]:
    """Yield ``(frame_idx, instances)`` with track ids for every frame:
    detect people (``detector(img) -> (N, 4|5)``), estimate their 2D poses
    and track them. Without a detector a top-down model sees the whole image
    as one person, who is track 0 in every frame."""
    tracker = tracker or GreedyTracker()
    whole_image = detector is None and not estimator.bottomup
    for idx, img in frames:
        boxes = None
        if detector is not None:
            boxes = np.asarray(detector(img), np.float32)
            boxes = boxes.reshape(len(boxes), -1) if boxes.size else \
                np.zeros((0, 5), np.float32)
        instances = estimator(img, boxes)
        if whole_image:
            for inst in instances:
                inst.track_id = 0
        else:
            tracker.update(instances, idx)
        yield idx, instances


__all__ = [
    'PersonDetector', 'Pose2DEstimator', 'estimate_pose2d', 'load_config'
]
