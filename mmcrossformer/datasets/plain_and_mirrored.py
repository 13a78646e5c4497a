# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""The training epoch of the released CrossFormer: every window twice."""
import copy
from typing import Optional, Union

from mmengine.dataset import BaseDataset, Compose

from mmpose.datasets.transforms import RandomFlipAroundRoot
from mmpose.registry import DATASETS


@DATASETS.register_module()
class PlainAndMirroredDataset:
    """Every sample of ``dataset`` twice per epoch: index ``i`` as it is and
    index ``N + i`` mirrored (N = ``len(dataset)``).

    This is the epoch of the released CrossFormer (and PoseFormer,
    VideoPose3D): ``ChunkedGenerator(augment=True)`` lists each training
    window once unflipped and once flipped (x negated, left and right joints
    swapped) and shuffles the doubled list. The wrapped dataset's pipeline
    must hold one :class:`RandomFlipAroundRoot` (or a subclass such as
    ``FastRandomFlipAroundRoot``); the mirrored copy runs that transform
    with ``flip_prob=1``, the plain copy runs the pipeline without it. So
    each epoch holds each window exactly once in each orientation, whatever
    the random state.

    Args:
        dataset (dict | BaseDataset): The dataset (or its config), e.g.
            ``Human36mDataset`` or ``FastHuman36mDataset`` with the training
            pipeline.
        metainfo (dict, optional): The dataset meta (e.g.
            ``dict(from_file='configs/_base_/datasets/h36m.py')``), passed on
            to the wrapped dataset's config. Set it in configs: MMPose's
            ``init_model`` (the inferencers, the demo) reads the skeleton of
            a checkpoint without one from ``train_dataloader.dataset.metainfo``
            and falls back to COCO's when a wrapper hides it.

    Example::

        train_dataloader = dict(dataset=dict(
            type='PlainAndMirroredDataset',
            dataset=dict(type='Human36mDataset', ..., pipeline=[
                dict(type='GenerateTarget', encoder=codec),
                dict(type='RandomFlipAroundRoot', ...),
                dict(type='PackPoseInputs')])))
    """

    def __init__(self,
                 dataset: Union[dict, BaseDataset],
                 metainfo: Optional[dict] = None) -> None:
        if isinstance(dataset, dict):
            if metainfo is not None:
                dataset = dict(dataset, metainfo=metainfo)
            dataset = DATASETS.build(dataset)
        self.dataset = dataset
        transforms = list(self.dataset.pipeline.transforms)
        flips = [
            i for i, t in enumerate(transforms)
            if isinstance(t, RandomFlipAroundRoot)
        ]
        if len(flips) != 1:
            raise ValueError(
                'PlainAndMirroredDataset needs exactly one '
                f'RandomFlipAroundRoot in the pipeline of the wrapped '
                f'{type(self.dataset).__name__}, found {len(flips)}')
        i = flips[0]
        mirror = copy.copy(transforms[i])
        mirror.flip_prob = 1.  # np.random.rand() <= 1 always holds
        self.plain_pipeline = Compose(transforms[:i] + transforms[i + 1:])
        self.mirrored_pipeline = Compose(transforms[:i] + [mirror] +
                                         transforms[i + 1:])

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        self.dataset.full_init()

    def __len__(self) -> int:
        return 2 * len(self.dataset)

    def is_mirrored(self, idx: int) -> bool:
        """Whether sample ``idx`` is the mirrored copy."""
        return idx >= len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        """The wrapped dataset's info of the window behind sample ``idx``."""
        n = len(self.dataset)
        if not 0 <= idx < 2 * n:
            raise IndexError(f'index {idx} out of range for '
                             f'PlainAndMirroredDataset of length {2 * n}')
        return self.dataset.get_data_info(idx % n)

    def __getitem__(self, idx: int) -> dict:
        pipeline = self.mirrored_pipeline if self.is_mirrored(
            idx) else self.plain_pipeline
        data = pipeline(self.get_data_info(idx))
        if data is None:
            raise RuntimeError(
                f'the pipeline of {type(self.dataset).__name__} dropped '
                f'sample {idx}; PlainAndMirroredDataset keeps every window')
        return data


def unwrap_dataset_cfg(cfg: dict) -> dict:
    """The innermost dataset config of ``cfg``: the one wrappers such as
    ``PlainAndMirroredDataset`` hold under their ``dataset`` key."""
    while 'dataset' in cfg:
        cfg = cfg['dataset']
    return cfg


__all__ = ['PlainAndMirroredDataset', 'unwrap_dataset_cfg']
