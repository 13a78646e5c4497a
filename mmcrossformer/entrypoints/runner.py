# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Runner settings and checks shared by tools/train.py and tools/test.py."""
import shutil
from typing import Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper

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


#: Frames (test windows x window length) from which ``tools/test.py
#: --compile auto`` compiles the backbone's CPU inference: compiling takes
#: 10-35 s on 2 cores and saved 3.5-5.8 ms per 81-frame window (43-72 us
#: per frame; docs/benchmark.md), so it pays from 0.15-0.8 M frames
#: (Human3.6M's test split with 81-frame windows: 44 M; the generated
#: one's 24,000 windows: 1.9 M with 81 frames, 0.2 M with 9). At one
#: torch thread only: with more, the eager model's single-threaded workers
#: were 6-19 % faster than compiled code (docs/benchmark.md)
COMPILE_MIN_FRAMES = 1_000_000


def cpp_compiler() -> Optional[str]:
    """The C++ compiler that inductor would use on the CPU, or ``None``
    when none is installed."""
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler
        return shutil.which(get_cpp_compiler())
    except (ImportError, RuntimeError):
        return None


def compile_test_model(runner, mode: str = 'auto') -> bool:
    """``tools/test.py --compile``: make the CPU inference of the runner's
    CrossFormer backbones compiled
    (:func:`~mmcrossformer.runtime.fast_paths.compile_cpu_inference_`,
    within 1e-5 of the eager model) when ``mode`` is ``'on'``, or
    ``'auto'`` and the model is on the CPU, a C++ compiler is installed
    (inductor emits C++), torch runs one thread (with more, the eager
    model's single-threaded workers are faster:
    :mod:`~mmcrossformer.runtime.cpu_workers`) and the test set holds at
    least :data:`COMPILE_MIN_FRAMES` frames (windows x window length);
    logs the choice and returns it. Build the runner first; the checkpoint
    may be loaded after (the weights are read at every call)."""
    if mode not in ('auto', 'on', 'off'):
        raise ValueError(f"compile mode must be 'auto', 'on' or 'off', "
                         f'got {mode!r}')
    if mode == 'off':
        return False
    from ..models.backbones import CrossFormer
    model = runner.model.module if is_model_wrapper(runner.model) \
        else runner.model
    backbones = [m for m in model.modules() if isinstance(m, CrossFormer)]
    device = next(model.parameters()).device.type
    logger = MMLogger.get_current_instance()
    problem = None
    if not backbones:
        problem = 'the model has no CrossFormer backbone'
    elif device != 'cpu':
        problem = f'the model is on {device}'
    elif cpp_compiler() is None:
        problem = 'no C++ compiler is installed (inductor emits C++ on ' \
            'the CPU)'
    if problem is not None:
        if mode == 'on':
            raise ValueError(f'--compile on compiles the CPU inference of '
                             f'CrossFormer, but {problem}: use --compile '
                             f'off or auto')
        logger.info(f'Eager inference: {problem}')
        return False
    if mode == 'auto':
        windows = len(runner.test_dataloader.dataset)
        frames = windows * backbones[0].num_frames
        threads = torch.get_num_threads()
        if threads > 1:
            logger.info(f'Eager CPU inference: with {threads} torch threads '
                        'the eager model encodes on single-threaded '
                        'workers, faster than compiled code (docs/'
                        'benchmark.md; --compile on to compile anyway)')
            return False
        if frames < COMPILE_MIN_FRAMES:
            logger.info(f'Eager CPU inference: {windows} test windows of '
                        f'{backbones[0].num_frames} frames, fewer than the '
                        f'{COMPILE_MIN_FRAMES} frames from which compiling '
                        f'pays (--compile on to compile anyway)')
            return False
    from ..runtime.fast_paths import compile_cpu_inference_
    compile_cpu_inference_(model)
    logger.info('CPU inference compiled (torch.compile; --compile off for '
                'the eager model): the first batch compiles, 10-35 s')
    return True
