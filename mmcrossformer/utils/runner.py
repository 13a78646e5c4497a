# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Runner settings shared by tools/train.py and tools/test.py."""
import torch
from mmengine.config import Config


def prepare_runner_cfg(cfg: Config) -> Config:
    """Make one config run on GPU clusters and on CPU-only machines: without
    CUDA, distributed runs use the gloo backend instead of NCCL."""
    if not torch.cuda.is_available():
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    return cfg
