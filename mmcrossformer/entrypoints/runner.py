# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Runner settings and checks shared by tools/train.py and tools/test.py."""
from typing import Sequence

import torch
from mmengine.config import Config

from ..datasets.checks import check_dataset_cfgs


def prepare_runner_cfg(cfg: Config, loaders: Sequence[str]) -> Config:
    """Make one config run on GPU clusters and on CPU-only machines (without
    CUDA, torchrun jobs use the gloo backend instead of NCCL) and check
    the data files of the named dataloaders up front, so that a missing,
    empty or inconsistent file stops the job with a message naming it.

    Raises:
        mmcrossformer.datasets.checks.DataCheckError: on bad data files.
    """
    if not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg['backend'] = 'gloo'
        if cfg.get('launcher', 'none') != 'none':
            if cfg.launcher == 'pytorch' and \
                    not torch.distributed.is_initialized():
                # mmengine's init_dist always selects a CUDA device; with the
                # group initialised here it skips that step
                torch.distributed.init_process_group('gloo')
            # and its DDP wrapper pins the model to cuda:LOCAL_RANK
            wrapper = cfg.get('model_wrapper_cfg') or dict(
                type='MMDistributedDataParallel', broadcast_buffers=False)
            wrapper['device_ids'] = None
            cfg.model_wrapper_cfg = wrapper
    check_dataset_cfgs(
        (cfg.get(name) or {}).get('dataset') for name in loaders)
    return cfg
