# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
# Over 400 lines: the four benchmarks (inference, training step, accuracy,
# data pipeline) share their timing, data and table helpers.
"""Speed and accuracy measurements of a lifting model, used by
``tools/analysis_tools/benchmark.py``: each ``bench_*`` function returns
the rows of one table (dicts of numbers), each ``*_table`` function formats
them as markdown.

Timings are interleaved round by round (every implementation once per
round) and the median round is reported, so that load from other processes
hits all rows alike. FLOP/s count one multiply-add as 2 FLOPs and a training
step as 3 forward passes.
"""
import contextlib
import copy
import itertools
import math
import os
import re
import statistics
import tempfile
import threading
import time
import warnings
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch import nn

from mmpose.registry import DATASETS
from ..datasets.plain_and_mirrored import unwrap_dataset_cfg
from ..models.backbones.crossformer import scaled_dot_product_attention
from .fast_paths import (OneDNNEvalLinear, TokenMajorAttention,
                         build_fast_lifter, compile_cpu_inference_,
                         onednn_available, use_pytorch_spatial_kernels_,
                         use_onednn_train_linear_, use_plain_inference_)
from . import cpu_workers
from .cpu_workers import no_workers
from .forward import LiftingForward
from .released import ReleasedForward

#: (dtype, compiled, function (B, F, J, C) -> (B, J, 3)) by row name
Paths = Dict[str, Tuple[str, bool, Callable[[torch.Tensor], torch.Tensor]]]
RELEASED = 'released fp32'
PLUGIN_FP32 = 'mmcrossformer fp32'
PLAIN_FP32 = 'mmcrossformer fp32, plain layers (fast_inference=False)'
DEFAULT_FP32 = 'mmcrossformer fp32, default (test.py/demo/inferencer)'
UNCHUNKED_FP32 = 'mmcrossformer fp32, default, batch at once (no chunks)'
PYTORCH_SPATIAL_FP32 = ('mmcrossformer fp32, default, spatial encoder by '
                        "PyTorch's kernels (no mmcrossformer.ops)")
TEST_COMPILED_FP32 = 'mmcrossformer fp32, tools/test.py --compile'
NO_WORKERS = ', all threads on each operator (no workers)'


# ---------------------------------------------------------------- timing
def sync(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def spread(values: Sequence[float]) -> Dict[str, float]:
    """Median, min and max of ``values``."""
    return dict(
        median=statistics.median(values), min=min(values), max=max(values))


def interleaved(fns: Dict[str, Callable[[], object]],
                device: torch.device,
                rounds: int,
                target_s: float = 0.3,
                warm_turns: bool = False) -> Dict[str, Dict[str, float]]:
    """Seconds per call of each function (:func:`spread` over ``rounds``
    rounds: median, min, max), measured round-robin: in every round each
    function runs ``n`` calls in turn, ``n`` chosen so that its share of a
    round lasts about ``target_s``, so that load from other processes hits
    all of them alike. With ``warm_turns`` every turn begins with one
    untimed call, so that each function is timed as it runs when called
    repeatedly, not as the first call after another function evicted its
    data from the caches (16 % slower for the bf16 lifter in a one-off
    check)."""
    reps = {}
    for name, fn in fns.items():  # warm-up and calibration
        fn()
        sync(device)
        t = time.perf_counter()
        fn()
        sync(device)
        reps[name] = max(1, int(target_s / max(time.perf_counter() - t,
                                               1e-6)))
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            if warm_turns:
                fn()
            sync(device)
            t = time.perf_counter()
            for _ in range(reps[name]):
                fn()
            sync(device)
            times[name].append((time.perf_counter() - t) / reps[name])
    return {name: spread(v) for name, v in times.items()}


def rate(count: float, seconds: Dict[str, float]) -> Dict[str, float]:
    """``count`` per second from a :func:`spread` of seconds: median, and
    the min / max rate (from the slowest / fastest round)."""
    return dict(
        median=count / seconds['median'],
        min=count / seconds['max'],
        max=count / seconds['min'])


def peak_memory_mib(fn: Callable[[], object], device: torch.device) -> float:
    """Peak memory allocated by one call above what was held before it:
    CUDA's allocator statistics on a GPU; on the CPU the allocations and
    frees that the profiler records for every op, summed in time order
    (memory held by onnxruntime's own allocator is not seen: NaN)."""
    if device.type == 'cuda':
        sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        sync(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        fn()
    current = peak = 0
    for e in sorted(p.events(), key=lambda e: e.time_range.start):
        current += e.self_cpu_memory_usage
        peak = max(peak, current)
    return peak / 2**20 if peak else float('nan')


def inference_memory_mib(fn: Callable[[torch.Tensor], object],
                         x: torch.Tensor, device: torch.device) -> float:
    """:func:`peak_memory_mib` of ``fn(x)``; where that ran on the CPU
    workers of :mod:`~mmcrossformer.runtime.cpu_workers`, whose
    allocations the profiler does not see, the thread count times the peak
    of one worker's share of ``x`` run alone on one thread."""
    calls = cpu_workers.pool_calls()
    mib = peak_memory_mib(lambda: fn(x), device)
    if cpu_workers.pool_calls() == calls:
        return mib
    threads = torch.get_num_threads()
    share = x[:-(-len(x) // threads)]
    torch.set_num_threads(1)
    try:
        return threads * peak_memory_mib(lambda: fn(share), device)
    finally:
        torch.set_num_threads(threads)


def matmul_size(device: torch.device) -> int:
    """Side of the square matmul of :func:`matmul_peak`."""
    return 4096 if device.type == 'cpu' else 8192


def matmul_peak(device: torch.device,
                dtype: torch.dtype,
                rounds: int,
                onednn: bool = False,
                n: Optional[int] = None) -> float:
    """FLOP/s of a large square matmul (best of ``rounds``): ``torch.mm``
    (on the CPU: MKL for fp32, oneDNN for bf16) or, with ``onednn``, oneDNN's
    linear kernel."""
    n = n or matmul_size(device)
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    if onednn:

        def mm():
            return torch.ops.mkldnn._linear_pointwise(a, b, None, 'none', [],
                                                      'none')
    else:

        def mm():
            return a @ b

    best = math.inf
    with torch.inference_mode():
        mm()
        for _ in range(max(3, rounds)):
            sync(device)
            t = time.perf_counter()
            mm()
            sync(device)
            best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def bench_matmul(device: torch.device,
                 rounds: int,
                 bf16: bool,
                 n: Optional[int] = None) -> List[dict]:
    """Rows (dtype, kernel, flops_per_s) of the matmul peaks of ``device``:
    ``torch.mm`` and, where available, oneDNN; bf16 rows with ``bf16``."""
    dtypes = [('fp32', torch.float32)] + ([('bf16', torch.bfloat16)]
                                          if bf16 else [])
    kernels = [('torch.mm', False)] + ([('oneDNN', True)]
                                       if onednn_available(device) else [])
    return [
        dict(
            dtype=name,
            kernel=kernel,
            flops_per_s=matmul_peak(device, dtype, rounds, onednn, n))
        for kernel, onednn in kernels for name, dtype in dtypes
    ]


def best_peaks(rows: Sequence[dict]) -> Dict[str, float]:
    """The best kernel's FLOP/s of each dtype."""
    peaks: Dict[str, float] = {}
    for r in rows:
        peaks[r['dtype']] = max(peaks.get(r['dtype'], 0.), r['flops_per_s'])
    return peaks


# ------------------------------------------------------------------ data
def dataset_cfg(cfg: Config, split: str, data_root: str,
                fast: bool) -> Config:
    """The train or val dataset of ``cfg`` on ``data_root``, stock
    (``Human36mDataset``) or ``FastHuman36mDataset``."""
    loader = cfg.train_dataloader if split == 'train' else \
        cfg.val_dataloader
    d = copy.deepcopy(unwrap_dataset_cfg(loader.dataset))
    d.data_root = data_root
    if fast:
        d.type = 'FastHuman36mDataset'
    elif d.type == 'FastHuman36mDataset':
        d.type = 'Human36mDataset'
    return d


def same_sample(a: dict, b: dict) -> bool:
    """Inputs, instance fields, labels and metainfo equal."""

    def eq(x, y) -> bool:
        if isinstance(x, torch.Tensor):
            return isinstance(y, torch.Tensor) and x.dtype == y.dtype and \
                x.shape == y.shape and torch.equal(x, y)
        if isinstance(x, np.ndarray):
            return isinstance(y, np.ndarray) and x.dtype == y.dtype and \
                x.shape == y.shape and np.array_equal(x, y)
        return type(x) is type(y) and x == y

    if not eq(a['inputs'], b['inputs']):
        return False
    da, db = a['data_samples'], b['data_samples']
    if set(da.metainfo_keys()) != set(db.metainfo_keys()) or \
            set(da.keys()) != set(db.keys()):
        return False
    if not all(eq(da.metainfo[k], db.metainfo[k])
               for k in da.metainfo_keys()):
        return False
    for field in da.keys():
        fa, fb = da.get(field), db.get(field)
        if set(fa.keys()) != set(fb.keys()) or not all(
                eq(fa.get(k), fb.get(k)) for k in fa.keys()):
            return False
    return True


def bench_data(cfg: Config, data_root: str, rounds: int,
               num: int) -> List[dict]:
    """Samples/s of one process of the stock pipeline and of
    ``FastHuman36mDataset`` on the training split, and whether the first
    256 of ``num`` random samples are identical (random flips included)."""
    rows = []
    datasets = {}
    for fast in (False, True):
        d = dataset_cfg(cfg, 'train', data_root, fast)
        np.random.seed(0)
        t = time.perf_counter()
        datasets[fast] = DATASETS.build(d)
        rows.append(dict(build_s=time.perf_counter() - t))
    n = len(datasets[False])
    order = np.random.RandomState(0).permutation(n)[:min(num, n)]
    check = order[:256]
    np.random.seed(1)
    stock = [datasets[False][int(i)] for i in check]
    np.random.seed(1)
    fast = [datasets[True][int(i)] for i in check]
    identical = len(datasets[False]) == len(datasets[True]) and all(
        same_sample(a, b) for a, b in zip(stock, fast))

    def run(ds):
        for i in order:
            ds[int(i)]

    t = interleaved(
        {
            'stock': lambda: run(datasets[False]),
            'fast': lambda: run(datasets[True])
        },
        torch.device('cpu'),
        rounds,
        target_s=0.)
    window = unwrap_dataset_cfg(cfg.train_dataloader.dataset).get(
        'seq_len', 1)
    for row, key in zip(rows, ('stock', 'fast')):
        row.update(
            pipeline='stock (Human36mDataset + MMPose transforms)'
            if key == 'stock' else 'FastHuman36mDataset',
            window=window,
            samples_per_s=len(order) / t[key]['median'],
            identical=identical if key == 'fast' else None,
            samples=n)
    rows[1]['speedup'] = rows[1]['samples_per_s'] / rows[0]['samples_per_s']
    return rows


def bench_loader(cfg: Config,
                 data_root: str,
                 batches: int,
                 fast: bool,
                 collate: Optional[str] = None) -> dict:
    """Samples/s of the config's training dataloader as the runner builds
    it (its batch size, workers, sampler and collate function, or the
    registered function ``collate``; the innermost dataset on
    ``data_root``, stock ``Human36mDataset`` or ``FastHuman36mDataset``),
    over ``batches`` batches after the first (which waits for the workers
    to start)."""
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    if collate is not None:
        loader_cfg.collate_fn = dict(type=collate)
    inner = unwrap_dataset_cfg(loader_cfg.dataset)
    inner.data_root = data_root
    inner.type = 'FastHuman36mDataset' if fast else 'Human36mDataset'
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    stream = (batch for _ in itertools.count() for batch in loader)
    next(stream)  # the first batch: the workers have started
    t = time.perf_counter()
    samples = sum(len(next(stream)['inputs']) for _ in range(batches))
    seconds = time.perf_counter() - t
    del stream, loader
    return dict(
        pipeline=inner.type,
        collate=loader_cfg.get('collate_fn',
                               dict(type='pseudo_collate'))['type'],
        workers=loader_cfg.num_workers,
        batch=loader_cfg.batch_size,
        samples=samples,
        seconds=seconds,
        samples_per_s=samples / seconds)


def load_batches(cfg: Config, data_root: str, split: str, num: int,
                 batch_size: int) -> List[dict]:
    """Evenly spaced windows of the split through the fast pipeline
    (identical to the stock one), collated."""
    d = dataset_cfg(cfg, split, data_root, fast=True)
    np.random.seed(0)
    ds = DATASETS.build(d)
    idx = np.linspace(0, len(ds) - 1, min(num, len(ds))).astype(int)
    samples = [ds[int(i)] for i in idx]
    return [
        pseudo_collate(samples[i:i + batch_size])
        for i in range(0, len(samples), batch_size)
    ]


def batch_tensors(batch: dict,
                  device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Inputs (B, F, J, C) and root-relative targets (B, J, 3) of a
    collated batch."""
    x = torch.stack(batch['inputs']).float().to(device)
    target = torch.cat([
        d.gt_instance_labels.lifting_target_label
        for d in batch['data_samples']
    ]).to(device)
    return x, target.reshape(x.shape[0], -1, 3)


# ------------------------------------------------------------- inference
def released_path(released: nn.Module, device: torch.device) -> Callable:
    """Eager fp32 inference of the released model, on a copy."""
    net = ReleasedForward(copy.deepcopy(released)).to(device).eval()

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return net(x)

    return run


def onnx_path(model: nn.Module,
              shape: Tuple[int, int, int]) -> Optional[Callable]:
    """onnxruntime (CPU, torch's thread count) running the exported model;
    None without onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    from .onnx_export import export_onnx
    path = os.path.join(tempfile.mkdtemp(), 'model.onnx')
    export_onnx(model, path, *shape)
    so = ort.SessionOptions()
    so.intra_op_num_threads = torch.get_num_threads()
    sess = ort.InferenceSession(path, so, providers=['CPUExecutionProvider'])

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(sess.run(None, {'keypoints': x.numpy()})[0])

    return run


def without_workers(fn: Callable[[torch.Tensor], torch.Tensor]
                    ) -> Callable[[torch.Tensor], torch.Tensor]:
    """``fn`` (a :func:`build_fast_lifter` function) with every operator
    on all torch threads, one chunk after the other
    (:func:`~mmcrossformer.runtime.cpu_workers.no_workers`)."""

    def run(x: torch.Tensor) -> torch.Tensor:
        with no_workers():
            return fn(x)

    run.net = fn.net  # type: ignore[attr-defined]
    return run


def inference_paths(model: nn.Module,
                    device: torch.device,
                    shape: Tuple[int, int, int],
                    bf16: bool,
                    compile: bool,
                    onnx: bool,
                    released: Optional[nn.Module] = None) -> Paths:
    """The inference paths to time: the plugin's plain layers
    (``fast_inference=False``), its default path (the model as configured,
    eager: what ``tools/test.py``, the demo and the inferencers run; on the
    CPU also the same encoding a batch at once, to show what the chunks
    do, and with PyTorch's kernels for the spatial attention and the CJI's
    GroupNorm, to show what the kernels of :mod:`mmcrossformer.ops` do),
    the fast paths (fp32, bf16, compiled), onnxruntime (CPU) and the
    released model."""
    paths: Paths = {}

    def as_configured(net: nn.Module) -> Callable[[torch.Tensor],
                                                  torch.Tensor]:
        """``net`` run as it is (its own layers, attention and chunks)."""
        return build_fast_lifter(net, device=device, copy_model=False,
                                 onednn=False, spatial_kernels=False,
                                 chunk=False)

    paths[PLAIN_FP32] = ('fp32', False,
                         as_configured(
                             use_plain_inference_(copy.deepcopy(model))))
    if any(isinstance(m, OneDNNEvalLinear) for m in model.modules()):
        paths[DEFAULT_FP32] = ('fp32', False,
                               as_configured(copy.deepcopy(model)))
    if DEFAULT_FP32 in paths and device.type == 'cpu':  # chunks: CPU only
        whole = copy.deepcopy(model)
        whole.backbone.chunk_frames = 0
        paths[UNCHUNKED_FP32] = ('fp32', False, as_configured(whole))
    if DEFAULT_FP32 in paths and any(
            isinstance(m, TokenMajorAttention) for m in model.modules()):
        paths[PYTORCH_SPATIAL_FP32] = ('fp32', False,
                                       as_configured(
                                           use_pytorch_spatial_kernels_(
                                               copy.deepcopy(model))))
    if compile and DEFAULT_FP32 in paths and device.type == 'cpu':
        paths[TEST_COMPILED_FP32] = ('fp32', True,
                                     as_configured(
                                         compile_cpu_inference_(
                                             copy.deepcopy(model))))
    variants = [('fp32', False)] + ([('bf16', False)] if bf16 else [])
    if compile:
        variants += [(dt, True) for dt, _ in list(variants)]
    for dt, comp in variants:
        name = f'mmcrossformer {dt}' + (' compiled' if comp else '')
        paths[name] = (dt, comp,
                       build_fast_lifter(
                           model, dtype=dt, compile=comp, device=device))
    if device.type == 'cpu' and torch.get_num_threads() > 1:
        # what the single-threaded workers of the eager paths do
        for name in (DEFAULT_FP32, 'mmcrossformer bf16'):
            if name in paths:
                paths[name + NO_WORKERS] = (paths[name][0], False,
                                            without_workers(paths[name][2]))
    if released is not None:
        paths[RELEASED] = ('fp32', False, released_path(released, device))
    if device.type == 'cpu' and onnx:
        run = onnx_path(model, shape)
        if run is not None:
            paths['onnxruntime fp32'] = ('fp32', False, run)
    return paths


def bench_inference(paths: Paths, device: torch.device,
                    shape: Tuple[int, int, int], batch_sizes: Sequence[int],
                    rounds: int, flops: float,
                    peaks: Dict[str, float]) -> List[dict]:
    """One row per (path, batch size): samples/s, latency, FLOP/s and their
    share of the dtype's peak (``flops``: FLOPs of one sample), speed-up
    against the released model (or the plugin's fp32 path) and peak
    memory of one call (NaN where the profiler cannot see it)."""
    rows = []
    for bs in batch_sizes:
        x = torch.randn(bs, *shape, device=device) * 0.5
        t = interleaved({name: (lambda f=f: f(x))
                         for name, (_, _, f) in paths.items()}, device,
                        rounds, warm_turns=True)
        base = t.get(RELEASED, t[PLUGIN_FP32])['median']
        for name, (dt, comp, f) in paths.items():
            # the profiler sees neither the buffers of compiled graphs on the
            # CPU nor onnxruntime's arena
            blind = (comp and device.type == 'cpu') or \
                name.startswith('onnxruntime')
            sec = t[name]['median']
            achieved = flops * bs / sec
            rows.append(
                dict(
                    name=name,
                    batch=bs,
                    samples_per_s=rate(bs, t[name]),
                    latency_ms=sec * 1e3,
                    flops_per_s=achieved,
                    peak_share=achieved / peaks.get(dt, peaks['fp32']),
                    speedup=base / sec,
                    memory_mib=float('nan') if blind else
                    inference_memory_mib(f, x, device)))
    return rows


# --------------------------------------------------------------- profile
#: (pattern of a module's qualified name, profile part), first match wins
PROFILE_PARTS = (
    (r'spatial_blocks\.\d+\.attn$', 'spatial attention'),
    (r'spatial_blocks\.\d+\.interaction$', 'CJI (convs, GELU, GroupNorm)'),
    (r'spatial_blocks\.\d+\.mlp$', 'spatial MLP'),
    (r'temporal_blocks\.\d+\.attn$', 'temporal attention'),
    (r'temporal_blocks\.\d+\.interaction$', 'CFI (convs, kernel, GroupNorm)'),
    (r'temporal_blocks\.\d+\.mlp$', 'temporal MLP'),
    (r'(_blocks\.\d+\.norm\d|spatial_norm|temporal_norm)$', 'LayerNorms'),
    (r'(^|\.)head$', 'head'),
)
PROFILE_REST = 'rest (embedding, residual adds, layer scales, reshapes)'


def profile_part(name: str) -> Optional[str]:
    """The :data:`PROFILE_PARTS` part of the module called ``name``."""
    for pattern, part in PROFILE_PARTS:
        if re.search(pattern, name):
            return part
    return None


def hook_parts(net: nn.Module, pre: Callable[[str, str], None],
               post: Callable[[str, str], None]) -> list:
    """Forward pre-hooks and hooks on the modules of every
    :data:`PROFILE_PARTS` part of ``net``, calling ``pre(name, part)``
    before and ``post(name, part)`` after each module's forward; the
    hooks' handles."""
    handles = []
    for name, m in net.named_modules():
        part = profile_part(name)
        if part is not None:
            handles += [
                m.register_forward_pre_hook(
                    lambda *_, n=name, p=part: pre(n, p)),
                m.register_forward_hook(lambda *_, n=name, p=part: post(n, p))
            ]
    return handles


def profile_modules(net: nn.Module, fn: Callable[[], object],
                    rounds: int) -> List[dict]:
    """Where one call of ``fn`` (running the eager ``net``) spends its
    time: wall time of the modules of each :data:`PROFILE_PARTS` part
    (forward hooks; synchronous on the CPU), the rest of the call as
    :data:`PROFILE_REST`, medians over ``rounds`` calls after a warm-up;
    where the modules run on several worker threads at once
    (:mod:`~mmcrossformer.runtime.cpu_workers`), a part's time summed
    over the threads, divided by their number.
    Rows (part, ms, share of the call), in :data:`PROFILE_PARTS` order."""
    spent: Dict[str, float] = {}
    started: Dict[Tuple[int, str], float] = {}
    threads: set = set()
    lock = threading.Lock()

    def pre(name: str, part: str) -> None:
        threads.add(threading.get_ident())
        started[threading.get_ident(), name] = time.perf_counter()

    def post(name: str, part: str) -> None:
        t = time.perf_counter() - started.pop((threading.get_ident(), name))
        with lock:
            spent[part] = spent.get(part, 0.) + t

    handles = hook_parts(net, pre, post)
    per_round: Dict[str, List[float]] = {}
    try:
        fn()
        for _ in range(rounds):
            spent.clear()
            threads.clear()
            t = time.perf_counter()
            fn()
            total = time.perf_counter() - t
            # modules run on several workers at once: their time per thread
            for part in spent:
                spent[part] /= len(threads)
            for part in dict.fromkeys(p for _, p in PROFILE_PARTS):
                per_round.setdefault(part, []).append(spent.get(part, 0.))
            per_round.setdefault(PROFILE_REST, []).append(
                total - sum(spent.values()))
            per_round.setdefault('total', []).append(total)
    finally:
        for h in handles:
            h.remove()
    total = statistics.median(per_round['total'])
    return [
        dict(part=part, ms=statistics.median(v) * 1e3,
             share=statistics.median(v) / total)
        for part, v in per_round.items() if part == 'total' or any(v)
    ]


def profile_modules_cuda(net: nn.Module, fn: Callable[[], object],
                         rounds: int) -> List[dict]:
    """Where the GPU time of one call of ``fn`` (running the eager ``net``
    on CUDA) goes: the kernels launched inside the modules of each
    :data:`PROFILE_PARTS` part (``torch.profiler``, a ``record_function``
    range per module opened and closed by forward hooks), the rest of the
    call's kernels as :data:`PROFILE_REST`; means over ``rounds`` calls
    after a warm-up. Rows as :func:`profile_modules`."""
    from torch.profiler import ProfilerActivity, profile, record_function
    ranges: Dict[str, record_function] = {}

    def pre(name: str, part: str) -> None:
        ranges[name] = record_function('part: ' + part)
        ranges[name].__enter__()

    def post(name: str, part: str) -> None:
        ranges.pop(name).__exit__(None, None, None)

    handles = hook_parts(net, pre, post)
    try:
        fn()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU,
                                 ProfilerActivity.CUDA]) as prof:
            for _ in range(rounds):
                fn()
            torch.cuda.synchronize()
    finally:
        for h in handles:
            h.remove()
    spent, total = device_time_by_part(prof.events())
    rows = [
        dict(part=part, ms=spent[part] / rounds / 1e3,
             share=spent[part] / total)
        for part in dict.fromkeys(p for _, p in PROFILE_PARTS)
        if spent.get(part)
    ]
    rest = total - sum(spent.values())
    rows += [dict(part=PROFILE_REST, ms=rest / rounds / 1e3,
                  share=rest / total),
             dict(part='total', ms=total / rounds / 1e3, share=1.)]
    return rows


def device_time_by_part(events: Sequence) -> Tuple[Dict[str, float], float]:
    """GPU time (us) of the kernels launched inside the ``'part: NAME'``
    ranges of profiler ``events`` (``torch.profiler``'s ``events()``) by
    part name, and of all kernels: both summed over the host-side events
    that launched them (a kernel also appears as an event of its own,
    which the sums leave out so that none counts twice)."""
    cpu = [e for e in events
           if e.device_type == torch.autograd.DeviceType.CPU]
    spent: Dict[str, float] = {}
    for e in cpu:
        if e.name.startswith('part: '):
            spent[e.name[6:]] = spent.get(e.name[6:], 0.) + \
                e.device_time_total
    total = sum(e.device_time_total for e in cpu if e.cpu_parent is None)
    return spent, total


def profile_table(rows: Sequence[dict]) -> str:
    return table(['part', 'ms per call (median)', 'share'],
                 [[r['part'], f'{r["ms"]:.1f}', f'{100 * r["share"]:.0f} %']
                  for r in rows])


# ------------------------------------------------------ attention kernels
def explicit_attention(q: torch.Tensor, k: torch.Tensor,
                       v: torch.Tensor) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)) v as explicit batched products, (B, heads,
    N, d) each (how the released code computes it)."""
    attn = (q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)
    return attn.softmax(-1) @ v


def fused_attention(q: torch.Tensor, k: torch.Tensor,
                    v: torch.Tensor) -> torch.Tensor:
    """The model's attention product: ``scaled_dot_product_attention`` in
    chunks of at most ``MAX_ATTENTION_BATCH`` sequences."""
    return scaled_dot_product_attention(q, k, v, 0.)


def attention_shapes(model: nn.Module,
                     batch: int) -> Dict[str, Tuple[int, int, int, int]]:
    """(sequences, heads, tokens, channels per head) of the spatial and the
    temporal attention of a CrossFormer lifter at ``batch`` windows."""
    bb = model.backbone
    shapes = {}
    for stage, tokens, sequences in (
            ('spatial', bb.num_joints, batch * bb.num_frames),
            ('temporal', bb.num_frames, batch)):
        attn = getattr(bb, f'{stage}_blocks')[0].attn
        heads = attn.num_heads
        shapes[stage] = (sequences, heads, tokens,
                         attn.qkv.in_features // heads)
    return shapes


def bench_attention(model: nn.Module, device: torch.device, batch: int,
                    rounds: int, bf16: bool,
                    backward: bool = False) -> List[dict]:
    """Time of one attention product (no projections) at the model's
    spatial and temporal shapes: the fused kernel the model uses
    (:func:`fused_attention`) against explicit batched products,
    in fp32 and bf16, forward (and backward with ``backward``),
    interleaved. Rows: stage, shape, dtype, and the ms of each kernel."""
    rows = []
    dtypes = [('fp32', torch.float32)] + ([('bf16', torch.bfloat16)]
                                          if bf16 else [])
    for stage, shape in attention_shapes(model, batch).items():
        for name, dtype in dtypes:
            g = torch.Generator().manual_seed(0)
            q, k, v = (torch.randn(shape, generator=g).to(device, dtype)
                       .requires_grad_(backward) for _ in range(3))

            def call(fn, q=q, k=k, v=v):
                if not backward:
                    with torch.inference_mode():
                        return fn(q, k, v)
                fn(q, k, v).sum().backward()

            t = interleaved(
                {
                    'fused': lambda c=call: c(fused_attention),
                    'explicit': lambda c=call: c(explicit_attention)
                }, device, rounds)
            rows.append(
                dict(stage=stage, shape=shape, dtype=name,
                     fused_ms=t['fused']['median'] * 1e3,
                     explicit_ms=t['explicit']['median'] * 1e3))
    return rows


def attention_table(rows: Sequence[dict]) -> str:
    return table([
        'attention', '(sequences, heads, tokens, channels)', 'dtype',
        'fused (scaled_dot_product_attention) ms', 'explicit products ms',
        'explicit / fused'
    ], [[
        r['stage'], str(r['shape']), r['dtype'], f'{r["fused_ms"]:.2f}',
        f'{r["explicit_ms"]:.2f}', f'{r["explicit_ms"] / r["fused_ms"]:.2f}'
    ] for r in rows])


# --------------------------------------------------------- training step
def compiled_step(net: nn.Module, x: torch.Tensor, target: torch.Tensor,
                  weight: torch.Tensor, amp: bool) -> Callable[[], None]:
    """A training step (forward, the head's loss, backward, Adam) whose
    forward and loss run through ``torch.compile`` (the loss of
    ``PoseLifter.loss`` without MMPose's logged MPJPE, which needs the
    predictions on the host), under bf16 autocast with ``amp``."""
    opt = torch.optim.Adam(net.parameters(), lr=1e-5)
    fwd = LiftingForward(net)
    loss_fn = torch.compile(
        lambda x: net.head.loss_module(fwd(x), target, weight))

    def step() -> None:
        with torch.autocast(x.device.type, dtype=torch.bfloat16,
                            enabled=amp):
            loss = loss_fn(x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def bench_train(model: nn.Module,
                batch: dict,
                device: torch.device,
                rounds: int,
                flops: float,
                peaks: Dict[str, float],
                bf16: bool,
                compile: bool = False,
                released: Optional[nn.Module] = None) -> List[dict]:
    """Forward, MPJPE loss, backward and an Adam step on the collated
    ``batch``, interleaved: the plugin's model in fp32, with oneDNN linear
    layers, under bf16 autocast, compiled, and the released model."""
    x, target = batch_tensors(batch, device)
    data_samples = batch['data_samples']
    for d in data_samples:
        d.gt_instance_labels = d.gt_instance_labels.to(device)

    def plugin_step(net: nn.Module, amp: bool) -> Callable[[], None]:
        opt = torch.optim.Adam(net.parameters(), lr=1e-5)

        def step() -> None:
            ctx = torch.autocast(device.type, dtype=torch.bfloat16) \
                if amp else contextlib.nullcontext()
            with ctx:
                loss = net.loss(x, data_samples)['loss_pose3d']
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        return step

    def fresh() -> nn.Module:
        return copy.deepcopy(model).to(device).train()

    steps = {PLUGIN_FP32: ('fp32', plugin_step(fresh(), False))}
    if onednn_available(device):
        steps['mmcrossformer fp32 oneDNN linear'] = (
            'fp32', plugin_step(use_onednn_train_linear_(fresh()), False))
    if bf16:
        steps['mmcrossformer bf16 autocast'] = ('bf16',
                                                plugin_step(fresh(), True))
    if compile:
        weight = torch.ones(target.shape[:2] + (1, ), device=device)
        for amp in (False, True) if bf16 else (False, ):
            steps['mmcrossformer ' + ('bf16 autocast' if amp else 'fp32') +
                  ' compiled'] = ('bf16' if amp else 'fp32',
                                  compiled_step(fresh(), x, target, weight,
                                                amp))
    if released is not None:
        rnet = ReleasedForward(copy.deepcopy(released)).to(device).train()
        ropt = torch.optim.Adam(rnet.parameters(), lr=1e-5)

        def released_step() -> None:
            loss = torch.mean(torch.norm(rnet(x) - target, dim=-1))
            ropt.zero_grad(set_to_none=True)
            loss.backward()
            ropt.step()

        steps[RELEASED] = ('fp32', released_step)
    t = interleaved({k: f for k, (_, f) in steps.items()}, device, rounds)
    base = t.get(RELEASED, t[PLUGIN_FP32])['median']
    bs = len(x)
    rows = []
    for name, (dt, f) in steps.items():
        sec = t[name]['median']
        achieved = 3 * flops * bs / sec
        rows.append(
            dict(
                name=name,
                batch=bs,
                samples_per_s=rate(bs, t[name]),
                step_ms=sec * 1e3,
                flops_per_s=achieved,
                peak_share=achieved / peaks.get(dt, peaks['fp32']),
                speedup=base / sec,
                memory_mib=peak_memory_mib(f, device),
                syncs=device_syncs(f, device)))
    return rows


def device_syncs(fn: Callable[[], object],
                 device: torch.device) -> Optional[List[str]]:
    """Where one call of ``fn`` makes the host wait for a CUDA device
    (``torch.cuda.set_sync_debug_mode('warn')``): 'folder/file:line' of
    every synchronising call, in order; None off CUDA."""
    if device.type != 'cuda':
        return None
    sync(device)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try:
            fn()
            torch.cuda.set_sync_debug_mode(0)
        finally:
            torch.cuda.set_sync_debug_mode(0)
    return [
        f'{os.sep.join(w.filename.split(os.sep)[-2:])}:{w.lineno}'
        for w in caught
        if 'synchroniz' in str(w.message)
    ]


def project_training(samples_per_s: float,
                     epochs: int = 100,
                     windows_per_epoch: float = 2 * 1.56e6,
                     target_hours: float = 4.) -> Dict[str, float]:
    """Hours of ``epochs`` epochs of ``windows_per_epoch`` training windows
    at ``samples_per_s`` (the release: 100 epochs of 2 x 1.56 M Human3.6M
    windows, flips counted), and the samples/s that ``target_hours`` needs.
    """
    total = epochs * windows_per_epoch
    return dict(
        hours=total / samples_per_s / 3600,
        needed_samples_per_s=total / (target_hours * 3600))


def projection_table(train_rows: Sequence[dict], loaders: Sequence[dict],
                     **kw) -> str:
    """Projected time of the release schedule (:func:`project_training`,
    ``kw``) for every training row: the step alone, and fed by each of the
    ``loaders`` (:func:`bench_loader` rows; a step fed by a slower loader
    runs at the loader's rate)."""
    rows = []
    for r in train_rows:
        rate_ = r['samples_per_s']['median']
        p = project_training(rate_, **kw)
        row = [r['name'], f'{rate_:.0f}', f'{p["hours"]:.1f}',
               f'{p["needed_samples_per_s"]:.0f}']
        for ld in loaders:
            fed = project_training(min(rate_, ld['samples_per_s']), **kw)
            row.append(f'{fed["hours"]:.1f}' + (
                '' if ld['samples_per_s'] >= rate_ else ' (data-bound)'))
        rows.append(row)
    return table([
        'training step', 'samples/s', 'projected hours (step alone)',
        'samples/s needed'
    ] + [
        f'hours fed by {ld["pipeline"]} + {ld["collate"]} ({ld["workers"]} '
        f'workers, {ld["samples_per_s"]:.0f} samples/s)' for ld in loaders
    ], rows)


def loader_table(rows: Sequence[dict]) -> str:
    return table(['dataset', 'collate', 'workers', 'batch', 'samples/s'],
                 [[r['pipeline'], r['collate'], r['workers'], r['batch'],
                   f'{r["samples_per_s"]:.0f}'] for r in rows])


# -------------------------------------------------------------- accuracy
def bench_accuracy(paths: Dict[str, Callable], batches: Sequence[dict],
                   device: torch.device) -> List[dict]:
    """MPJPE (mm) of every path (name -> function) on the collated
    ``batches``, the gap to the first path (the reference, e.g. fp32) and
    the mean / max joint deviation from its predictions."""
    preds: Dict[str, List[torch.Tensor]] = {k: [] for k in paths}
    gts = []
    for batch in batches:
        x, target = batch_tensors(batch, device)
        gts.append(target.cpu())
        for name, f in paths.items():
            preds[name].append(f(x).float().cpu())
    gt = torch.cat(gts) * 1000
    reference = torch.cat(next(iter(preds.values()))) * 1000
    e_ref = (reference - gt).norm(dim=-1).mean().item()
    rows = []
    for name in paths:
        p = torch.cat(preds[name]) * 1000
        e = (p - gt).norm(dim=-1).mean().item()
        dev = (p - reference).norm(dim=-1)
        rows.append(
            dict(
                name=name,
                windows=len(gt),
                mpjpe_mm=e,
                gap_mm=e - e_ref,
                mean_deviation_mm=dev.mean().item(),
                max_deviation_mm=dev.max().item()))
    return rows


# ---------------------------------------------------------------- tables
def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    out += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(out)


def fmt(v: Optional[float], spec: str = '.1f') -> str:
    """``v`` formatted, '-' for None and NaN."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '-'
    return format(v, spec)


def fmt_rate(r: Dict[str, float]) -> str:
    """'median [min-max]' of a :func:`rate`."""
    return f'{r["median"]:.1f} [{r["min"]:.1f}-{r["max"]:.1f}]'


def matmul_table(rows: Sequence[dict]) -> str:
    return table(['dtype', 'kernel', 'GFLOP/s'],
                 [[r['dtype'], r['kernel'], f'{r["flops_per_s"] / 1e9:.0f}']
                  for r in rows])


def inference_table(rows: Sequence[dict], vs: str) -> str:
    return table([
        'implementation', 'batch', 'samples/s median [min-max]',
        'latency ms/batch',
        'GFLOP/s', '% of dtype peak', f'vs {vs}', 'peak memory MiB'
    ], [[
        r['name'], r['batch'], fmt_rate(r['samples_per_s']),
        f'{r["latency_ms"]:.1f}', f'{r["flops_per_s"] / 1e9:.1f}',
        f'{100 * r["peak_share"]:.0f}', f'{r["speedup"]:.2f}x',
        fmt(r['memory_mib'], '.0f')
    ] for r in rows])


def train_table(rows: Sequence[dict], vs: str) -> str:
    """Training rows; on CUDA with the device-to-host syncs of one step."""
    cuda = any(r.get('syncs') is not None for r in rows)
    return table([
        'implementation', 'batch', 'samples/s median [min-max]', 'ms/step',
        'GFLOP/s', '% of dtype peak', f'vs {vs}', 'peak memory MiB'
    ] + (['device-to-host syncs per step (where)'] if cuda else []), [[
        r['name'], r['batch'], fmt_rate(r['samples_per_s']),
        f'{r["step_ms"]:.0f}', f'{r["flops_per_s"] / 1e9:.1f}',
        f'{100 * r["peak_share"]:.0f}', f'{r["speedup"]:.2f}x',
        fmt(r['memory_mib'], '.0f')
    ] + ([f'{len(r["syncs"])} ({", ".join(sorted(set(r["syncs"])))})']
         if cuda else []) for r in rows])


def accuracy_table(rows: Sequence[dict]) -> str:
    return table([
        'implementation', 'MPJPE mm', 'vs fp32 mm',
        'mean joint deviation from fp32 mm', 'max joint deviation from fp32 mm'
    ], [[
        r['name'], f'{r["mpjpe_mm"]:.2f}', f'{r["gap_mm"]:+.3f}',
        f'{r["mean_deviation_mm"]:.3f}', f'{r["max_deviation_mm"]:.2f}'
    ] for r in rows])


def data_table(rows: Sequence[dict]) -> str:
    return table([
        'pipeline', 'samples/s per worker', 'vs stock', 'identical samples',
        'start-up s'
    ], [[
        r['pipeline'], f'{r["samples_per_s"]:.0f}',
        f'{r.get("speedup", 1.):.1f}x', {
            None: '-',
            True: 'yes',
            False: 'NO'
        }[r['identical']], f'{r["build_s"]:.2f}'
    ] for r in rows])


__all__ = [
    'DEFAULT_FP32', 'PYTORCH_SPATIAL_FP32', 'UNCHUNKED_FP32',
    'TEST_COMPILED_FP32', 'PLAIN_FP32', 'PLUGIN_FP32', 'PROFILE_PARTS',
    'PROFILE_REST', 'RELEASED',
    'accuracy_table', 'attention_shapes', 'attention_table', 'batch_tensors',
    'bench_accuracy', 'bench_attention', 'bench_data', 'bench_inference',
    'bench_loader', 'bench_matmul', 'bench_train', 'best_peaks',
    'compiled_step', 'data_table', 'dataset_cfg', 'device_syncs',
    'device_time_by_part', 'explicit_attention', 'fmt', 'fmt_rate',
    'fused_attention', 'hook_parts', 'inference_paths', 'inference_table',
    'interleaved', 'load_batches', 'loader_table', 'matmul_peak',
    'inference_memory_mib', 'matmul_size', 'matmul_table', 'peak_memory_mib',
    'profile_modules',
    'profile_modules_cuda', 'profile_part', 'profile_table',
    'project_training', 'projection_table', 'rate', 'released_path',
    'same_sample', 'spread', 'table', 'train_table'
]
