# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Speed of a lifting config: inference, training step and data pipeline,
side by side with the authors' released implementation when its file is
given. Prints markdown tables.

    python tools/analysis_tools/benchmark.py \
        configs/crossformer_h36m_81f_official.py \
        --reference /path/to/CrossFormer/common/model_crossformer.py \
        --checkpoint work_dirs/.../best_MPJPE_epoch_N.pth

What it measures, on the CPU and on a GPU when one is present:

* the fp32 and bf16 matmul peaks of the device (a large matmul through
  ``torch.mm`` and, on the CPU, through oneDNN), the FLOP/s every row
  achieves and its share of the best peak of its dtype (FLOPs per sample
  from tools/analysis_tools/get_flops.py, attention products included; one
  multiply-add = 2 FLOPs; a training step counts 3 forward passes);
* inference throughput and latency at batch 1, 64 and 256 (``--batch-sizes``)
  of this plugin's fast paths (:mod:`mmcrossformer.runtime.fast_paths`:
  fp32 with oneDNN linear layers -- and with PyTorch's default MKL ones, to
  show what oneDNN adds --, bf16, ``torch.compile`` of both, onnxruntime)
  and of the released model (eager fp32, the way it ships), with the peak
  memory of one call (eager rows);
* a training step (forward, MPJPE loss, backward, Adam) of this plugin's
  model -- fp32 as configured, fp32 with oneDNN linear layers
  (``OneDNNLinearHook``), bf16 autocast -- against the released model in
  fp32;
* data-pipeline throughput per worker (samples/s of one process) of the
  stock MMPose pipeline and of ``FastHuman36mDataset`` on generated
  Human3.6M-layout data, and whether they yield identical samples;
* MPJPE (mm) on the generated test split of each inference path, the gap to
  fp32 and the mean joint deviation from the fp32 prediction.

The released model (``--reference``, its ``common/model_crossformer.py``; it
needs timm and einops) is built for the config's window and gets the same
weights (converted with :func:`convert_official_state_dict`); this needs a
config that builds the released architecture,
``configs/crossformer_h36m_81f_official.py``. Timings are interleaved round
by round (every implementation once per round) and the median round is
reported, so that load from other processes hits all rows alike; set
``--threads`` and look at the load average printed with the tables.

Without ``--checkpoint`` the weights are random (or the released
initialisation); the accuracy rows then only show that every path computes
the same function, and the MPJPE values themselves mean nothing.
"""
import argparse
import contextlib
import copy
import importlib.util
import logging
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.runner import load_checkpoint

import mmcrossformer  # noqa: F401  (registers the plugin)
from mmcrossformer.datasets import unwrap_dataset_cfg
from mmcrossformer.runtime.fast_paths import (LiftingForward,
                                            bf16_supported,
                                            build_fast_lifter, export_onnx,
                                            onednn_available,
                                            use_onednn_train_linear_)
from mmcrossformer.models.official import (_rename, _unused,
                                           convert_official_state_dict)
from mmpose.registry import DATASETS, MODELS
from mmpose.utils import register_all_modules

TARGETS = dict(fp32=1.3, bf16=2.5, train=1.3, data=10000., mpjpe_mm=0.5)


# ---------------------------------------------------------------------------
# timing and memory
# ---------------------------------------------------------------------------
def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def interleaved(fns: Dict[str, Callable[[], object]],
                device: torch.device,
                rounds: int,
                target_s: float = 0.3) -> Dict[str, float]:
    """Median seconds per call of each function, measured round-robin (each
    function ``n`` calls per round, ``n`` chosen so that a round of it lasts
    about ``target_s``)."""
    reps = {}
    for name, fn in fns.items():  # warm-up and calibration
        fn()
        _sync(device)
        t = time.perf_counter()
        fn()
        _sync(device)
        reps[name] = max(1, int(target_s / max(time.perf_counter() - t,
                                               1e-6)))
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            _sync(device)
            t = time.perf_counter()
            for _ in range(reps[name]):
                fn()
            _sync(device)
            times[name].append((time.perf_counter() - t) / reps[name])
    return {name: statistics.median(v) for name, v in times.items()}


def peak_memory_mib(fn: Callable[[], object], device: torch.device) -> float:
    """Peak memory allocated by one call above what was held before it:
    CUDA's allocator statistics on a GPU; on the CPU the allocations and
    frees that the profiler records for every op, summed in time order
    (memory held by onnxruntime's own allocator is not seen: NaN)."""
    if device.type == 'cuda':
        _sync(device)
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        fn()
        _sync(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        fn()
    current = peak = 0
    for e in sorted(p.events(), key=lambda e: e.time_range.start):
        current += e.self_cpu_memory_usage
        peak = max(peak, current)
    return peak / 2**20 if peak else float('nan')


def matmul_peak(device: torch.device, dtype: torch.dtype, rounds: int,
                onednn: bool = False) -> float:
    """FLOP/s of a large square matmul (best of ``rounds``): ``torch.mm``
    (on the CPU: MKL for fp32, oneDNN for bf16) or, with ``onednn``, oneDNN's
    linear kernel."""
    n = 4096 if device.type == 'cpu' else 8192
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
            _sync(device)
            t = time.perf_counter()
            mm()
            _sync(device)
            best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------
def load_reference(path: str, cfg: Config, model: torch.nn.Module,
                   have_checkpoint: bool) -> torch.nn.Module:
    """The released ``PoseTransformer`` for the config's window, holding the
    same weights as ``model`` (both ways: the released initialisation goes
    into ``model`` unless a checkpoint was loaded into it)."""
    spec = importlib.util.spec_from_file_location('released_crossformer',
                                                  path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    bb = cfg.model.backbone
    ref = module.PoseTransformer(
        num_frame=bb.num_frames,
        num_joints=bb.get('num_joints', 17),
        in_chans=bb.get('in_channels', 2),
        embed_dim_ratio=bb.get('embed_dim', 32),
        depth=bb.get('depth', 4),
        num_heads=bb.get('num_heads', 8),
        drop_path_rate=bb.get('drop_path_rate', 0.1))
    ref_sd = ref.state_dict()
    if not have_checkpoint:
        try:
            model.load_state_dict(
                convert_official_state_dict(ref_sd), strict=True)
        except RuntimeError as e:
            raise SystemExit(
                'the config does not build the released architecture, so '
                'the two cannot share weights; use configs/crossformer_'
                f'h36m_81f_official.py ({str(e).splitlines()[0]})')
        return ref
    ours = model.state_dict()
    new = {}
    for key, value in ref_sd.items():
        m = key.split('.')
        if _unused(key):
            new[key] = value
        elif key == 'Temporal_pos_embed1':
            new[key] = ours['backbone.temporal_pos_embed'].reshape(
                value.shape)
        elif key.startswith('blocks1.') and m[2] == 'local' and \
                m[3] in 'tpg':
            w = ours[f'backbone.temporal_blocks.{m[1]}.interaction.'
                     'theta_phi_g.weight'].chunk(3)
            new[key] = w['tpg'.index(m[3])]
        else:
            new[key] = ours[_rename(key)].reshape(value.shape)
    ref.load_state_dict(new, strict=True)
    # check: converting back gives the model's weights
    back = convert_official_state_dict(ref.state_dict())
    for k, v in back.items():
        if not torch.equal(v, ours[k]):
            raise SystemExit(f'weights differ after transfer: {k}')
    return ref


class ReleasedForward(torch.nn.Module):
    """(B, F, J, 2) -> (B, J, 3) of the released model (which zeroes frames
    of its input in place, hence the clone)."""

    def __init__(self, ref: torch.nn.Module) -> None:
        super().__init__()
        self.ref = ref

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ref(x.clone()).reshape(x.shape[0], x.shape[2], 3)


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
def dataset_cfg(cfg: Config, split: str, data_root: str,
                fast: bool) -> Config:
    loader = cfg.train_dataloader if split == 'train' else \
        cfg.val_dataloader
    d = unwrap_dataset_cfg(copy.deepcopy(loader.dataset))
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
    # identical samples, random flips included
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

    t = interleaved({
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
            samples_per_s=len(order) / t[key],
            identical=identical if key == 'fast' else None,
            samples=n)
    rows[1]['speedup'] = rows[1]['samples_per_s'] / rows[0]['samples_per_s']
    return rows


def load_batches(cfg: Config, data_root: str, split: str, num: int,
                 batch_size: int) -> List[dict]:
    """Evenly spaced windows of the generated split through the fast
    pipeline (identical to the stock one), collated."""
    d = dataset_cfg(cfg, split, data_root, fast=True)
    np.random.seed(0)
    ds = DATASETS.build(d)
    idx = np.linspace(0, len(ds) - 1, min(num, len(ds))).astype(int)
    samples = [ds[int(i)] for i in idx]
    return [
        pseudo_collate(samples[i:i + batch_size])
        for i in range(0, len(samples), batch_size)
    ]


def batch_tensors(batch: dict, device: torch.device):
    x = torch.stack(batch['inputs']).float().to(device)
    target = torch.cat([
        d.gt_instance_labels.lifting_target_label
        for d in batch['data_samples']
    ]).to(device)
    return x, target.reshape(x.shape[0], -1, 3)


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def table(header: List[str], rows: List[List[str]]) -> str:
    out = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    out += ['| ' + ' | '.join(str(c) for c in r) + ' |' for r in rows]
    return '\n'.join(out)


def fmt(v: Optional[float], spec: str = '.1f') -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '-'
    return format(v, spec)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='weights of the model')
    parser.add_argument(
        '--reference',
        help="the released implementation's common/model_crossformer.py "
        '(needs timm and einops)')
    parser.add_argument(
        '--devices',
        nargs='+',
        default=None,
        help='cpu and/or cuda (default: cpu, plus cuda when present)')
    parser.add_argument(
        '--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument(
        '--batch-sizes', type=int, nargs='+', default=[1, 64, 256])
    parser.add_argument('--train-batch-size', type=int, default=64)
    parser.add_argument(
        '--rounds', type=int, default=5, help='interleaved rounds')
    parser.add_argument(
        '--no-compile', action='store_true', help='skip torch.compile rows')
    parser.add_argument('--no-bf16', action='store_true')
    parser.add_argument('--no-onnx', action='store_true')
    parser.add_argument(
        '--compile-train',
        action='store_true',
        help='also time a torch.compile-d training step')
    parser.add_argument(
        '--skip',
        nargs='*',
        default=[],
        choices=['inference', 'train', 'data', 'accuracy'])
    parser.add_argument(
        '--data-root',
        help='generated (or real) Human3.6M in MMPose layout; generated '
        'into a temporary folder when left out')
    parser.add_argument(
        '--generate-frames',
        type=int,
        default=120,
        help='frames per generated video (when --data-root is left out)')
    parser.add_argument(
        '--data-samples',
        type=int,
        default=2000,
        help='samples per data-pipeline round')
    parser.add_argument(
        '--accuracy-samples',
        type=int,
        default=2048,
        help='test windows of the accuracy table')
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    register_all_modules()
    cfg = Config.fromfile(args.config)
    devices = args.devices or (['cpu', 'cuda']
                               if torch.cuda.is_available() else ['cpu'])
    devices = [torch.device(d) for d in devices]
    for d in devices:
        if d.type == 'cuda' and not torch.cuda.is_available():
            raise SystemExit('--devices cuda: no GPU is visible')

    MMLogger.get_current_instance().setLevel(logging.WARNING)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    ref = None
    if args.reference:
        ref = load_reference(args.reference, cfg, model,
                             bool(args.checkpoint))
    model.eval()
    bb = model.backbone
    shape = (bb.num_frames, bb.num_joints, bb.in_channels)

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from get_flops import complexity  # noqa: E402
    flops = 2 * complexity(args.config)['flops_with_attention']

    tmp = None
    data_root = args.data_root
    if data_root is None and not ({'data', 'accuracy', 'train'} <= set(
            args.skip)):
        from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
        tmp = tempfile.TemporaryDirectory()
        data_root = tmp.name
        generate_h36m(data_root, frames=args.generate_frames, subactions=1)
    if data_root is not None and not data_root.endswith('/'):
        data_root += '/'

    out: List[str] = []
    load = os.getloadavg() if hasattr(os, 'getloadavg') else ('-', ) * 3
    env = [
        ['config', args.config],
        ['checkpoint', args.checkpoint or 'none (random weights)'],
        ['released implementation', args.reference or 'not given'],
        ['torch', torch.__version__],
        ['CPU', platform.processor() or platform.machine()],
        ['CPU threads (torch)', torch.get_num_threads()],
        ['bf16 on CPU', bf16_supported('cpu')],
        ['GPU',
         torch.cuda.get_device_name(0) if torch.cuda.is_available() else
         'none'],
        ['load average at start', ' '.join(f'{x:.2f}' for x in load)],
        ['FLOPs per sample (forward)', f'{flops / 1e9:.2f} G'],
    ]
    out.append('## Environment\n\n' + table(['item', 'value'], env))

    targets: List[List[str]] = []
    for device in devices:
        dname = 'GPU' if device.type == 'cuda' else 'CPU'
        use_bf16 = not args.no_bf16 and bf16_supported(device)
        measured = [('fp32', 'torch.mm',
                     matmul_peak(device, torch.float32, args.rounds))]
        if use_bf16:
            measured.append(('bf16', 'torch.mm',
                             matmul_peak(device, torch.bfloat16,
                                         args.rounds)))
        if onednn_available(device):
            measured.append(('fp32', 'oneDNN',
                             matmul_peak(device, torch.float32, args.rounds,
                                         True)))
            if use_bf16:
                measured.append(('bf16', 'oneDNN',
                                 matmul_peak(device, torch.bfloat16,
                                             args.rounds, True)))
        peaks = {}
        for dt, _, v in measured:  # the best kernel of each dtype
            peaks[dt] = max(peaks.get(dt, 0.), v)
        n = 4096 if device.type == 'cpu' else 8192
        out.append(f'## Matmul peak ({dname}, {n}x{n}x{n}, '
                   f'{torch.get_num_threads()} threads)\n\n' + table(
                       ['dtype', 'kernel', 'GFLOP/s'],
                       [[dt, k, f'{v / 1e9:.0f}'] for dt, k, v in measured]) +
                   '\n\nThe "% of dtype peak" columns divide by the best '
                   'kernel of the dtype.')

        # ---------------- inference ----------------
        if 'inference' not in args.skip:
            variants = [('fp32', False)]
            if use_bf16:
                variants.append(('bf16', False))
            if not args.no_compile:
                variants += [(dt, True) for dt, c in list(variants)]
            lifters = {}
            if onednn_available(device):  # what oneDNN's linear layers add
                lifters['mmcrossformer fp32, MKL linear'] = (
                    'fp32', False,
                    build_fast_lifter(
                        model, dtype='fp32', device=device, onednn=False))
            for dt, comp in variants:
                name = f'mmcrossformer {dt}' + (' compiled' if comp else '')
                lifters[name] = (dt, comp,
                                 build_fast_lifter(
                                     model, dtype=dt, compile=comp,
                                     device=device))
            if ref is not None:
                rnet = ReleasedForward(copy.deepcopy(ref)).to(device).eval()

                def released(x, rnet=rnet):
                    with torch.inference_mode():
                        return rnet(x)

                lifters['released fp32'] = ('fp32', False, released)
            onnx_sess = None
            if device.type == 'cpu' and not args.no_onnx:
                try:
                    import onnxruntime as ort
                    path = os.path.join(tempfile.mkdtemp(), 'model.onnx')
                    export_onnx(model, path, *shape)
                    so = ort.SessionOptions()
                    so.intra_op_num_threads = torch.get_num_threads()
                    onnx_sess = ort.InferenceSession(
                        path, so, providers=['CPUExecutionProvider'])

                    def run_onnx(x, s=onnx_sess):
                        return torch.from_numpy(
                            s.run(None, {'keypoints': x.numpy()})[0])

                    lifters['onnxruntime fp32'] = ('fp32', False, run_onnx)
                except ImportError:
                    pass
            rows = []
            for bs in args.batch_sizes:
                x = torch.randn(bs, *shape, device=device) * 0.5
                fns = {
                    name: (lambda f=f: f(x))
                    for name, (_, _, f) in lifters.items()
                }
                t = interleaved(fns, device, args.rounds)
                base = t.get('released fp32', t['mmcrossformer fp32'])
                for name, (dt, comp, f) in lifters.items():
                    # the profiler does not see the buffers of compiled
                    # graphs nor onnxruntime's arena
                    mem = float('nan') if (comp and device.type == 'cpu') or \
                        name.startswith('onnxruntime') else \
                        peak_memory_mib(lambda: f(x), device)
                    achieved = flops * bs / t[name]
                    rows.append([
                        name, bs, f'{bs / t[name]:.1f}',
                        f'{t[name] * 1e3:.1f}', f'{achieved / 1e9:.1f}',
                        f'{100 * achieved / peaks.get(dt, peaks["fp32"]):.0f}',
                        f'{base / t[name]:.2f}x', fmt(mem, '.0f')
                    ])
                    if ref is not None and name in (
                            'mmcrossformer fp32',
                            'mmcrossformer fp32 compiled',
                            'mmcrossformer bf16',
                            'mmcrossformer bf16 compiled'):
                        goal = TARGETS['bf16' if 'bf16' in name else 'fp32']
                        targets.append([
                            f'{dname} inference {name} >= {goal}x released '
                            f'(batch {bs})', f'{base / t[name]:.2f}x',
                            'yes' if base / t[name] >= goal else 'no'
                        ])
            vs = 'released fp32' if ref is not None else \
                'mmcrossformer fp32'
            out.append(
                f'## Inference ({dname}, {torch.get_num_threads()} threads)'
                '\n\n' + table([
                    'implementation', 'batch', 'samples/s',
                    'latency ms/batch', 'GFLOP/s', '% of dtype peak',
                    f'vs {vs}', 'peak memory MiB'
                ], rows))

        # ---------------- training step ----------------
        if 'train' not in args.skip:
            out.append(
                bench_train(cfg, model, ref, device, data_root, args, flops,
                            peaks, use_bf16, targets, dname))

        # ---------------- accuracy ----------------
        if 'accuracy' not in args.skip:
            out.append(
                bench_accuracy(cfg, model, ref, device, data_root, args,
                               use_bf16, targets, dname))

    if 'data' not in args.skip:
        rows = bench_data(cfg, data_root, args.rounds, args.data_samples)
        out.append('## Data pipeline (one worker process, '
                   f'{rows[0]["window"]}-frame windows, '
                   f'{rows[0]["samples"]} training windows)\n\n' + table(
                       [
                           'pipeline', 'samples/s per worker', 'vs stock',
                           'identical samples', 'start-up s'
                       ], [[
                           r['pipeline'], f'{r["samples_per_s"]:.0f}',
                           f'{r.get("speedup", 1.):.1f}x',
                           {
                               None: '-',
                               True: 'yes',
                               False: 'NO'
                           }[r['identical']], f'{r["build_s"]:.2f}'
                       ] for r in rows]))
        fast = rows[1]
        targets.append([
            f'data pipeline >= {TARGETS["data"]:.0f} samples/s per worker, '
            'identical samples', f'{fast["samples_per_s"]:.0f}/s, '
            f'identical: {fast["identical"]}', 'yes' if
            fast['samples_per_s'] >= TARGETS['data'] and fast['identical']
            else 'no'
        ])
    if targets:
        out.append('## Targets\n\n' +
                   table(['target', 'measured', 'met'], targets))
    load = os.getloadavg() if hasattr(os, 'getloadavg') else ('-', ) * 3
    out.append('load average at the end: ' + ' '.join(f'{x:.2f}'
                                                      for x in load))
    print('\n\n'.join(out))
    if tmp is not None:
        tmp.cleanup()


def bench_train(cfg, model, ref, device, data_root, args, flops, peaks,
                use_bf16, targets, dname) -> str:
    """Forward, MPJPE loss, backward and an Adam step, interleaved."""
    bs = args.train_batch_size
    batch = load_batches(cfg, data_root, 'train', bs, bs)[0]
    x, target = batch_tensors(batch, device)
    data_samples = batch['data_samples']
    for d in data_samples:
        d.gt_instance_labels = d.gt_instance_labels.to(device)

    steps = {}
    ours = copy.deepcopy(model).to(device).train()
    opt = torch.optim.Adam(ours.parameters(), lr=1e-5)

    def ours_step(amp: bool, net=ours, opt=opt) -> None:
        ctx = torch.autocast(device.type, dtype=torch.bfloat16) \
            if amp else contextlib.nullcontext()
        with ctx:
            loss = net.loss(x, data_samples)['loss_pose3d']
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    steps['mmcrossformer fp32'] = ('fp32', lambda: ours_step(False))
    if onednn_available(device):
        dnet = use_onednn_train_linear_(
            copy.deepcopy(model).to(device).train())
        dopt = torch.optim.Adam(dnet.parameters(), lr=1e-5)
        steps['mmcrossformer fp32 oneDNN linear'] = (
            'fp32', lambda: ours_step(False, dnet, dopt))
    if use_bf16:
        steps['mmcrossformer bf16 autocast'] = ('bf16',
                                                lambda: ours_step(True))
    if args.compile_train:
        cnet = copy.deepcopy(model).to(device).train()
        copt = torch.optim.Adam(cnet.parameters(), lr=1e-5)
        fwd = torch.compile(LiftingForward(cnet))
        loss_module = cnet.head.loss_module
        w = torch.ones(target.shape[:2] + (1, ), device=device)

        def compiled_step() -> None:
            loss = loss_module(fwd(x), target, w)
            copt.zero_grad(set_to_none=True)
            loss.backward()
            copt.step()

        steps['mmcrossformer fp32 compiled'] = ('fp32', compiled_step)
    if ref is not None:
        rnet = ReleasedForward(copy.deepcopy(ref)).to(device).train()
        ropt = torch.optim.Adam(rnet.parameters(), lr=1e-5)

        def released_step() -> None:
            pred = rnet(x)
            loss = torch.mean(torch.norm(pred - target, dim=-1))
            ropt.zero_grad(set_to_none=True)
            loss.backward()
            ropt.step()

        steps['released fp32'] = ('fp32', released_step)
    t = interleaved({k: f for k, (_, f) in steps.items()}, device,
                    args.rounds)
    base = t.get('released fp32', t['mmcrossformer fp32'])
    rows = []
    for name, (dt, f) in steps.items():
        mem = peak_memory_mib(f, device)
        achieved = 3 * flops * bs / t[name]
        rows.append([
            name, bs, f'{bs / t[name]:.1f}', f'{t[name] * 1e3:.0f}',
            f'{achieved / 1e9:.1f}',
            f'{100 * achieved / peaks.get(dt, peaks["fp32"]):.0f}',
            f'{base / t[name]:.2f}x',
            fmt(mem, '.0f')
        ])
        if ref is not None and name != 'released fp32':
            targets.append([
                f'{dname} training step {name} >= {TARGETS["train"]}x '
                f'released (batch {bs})', f'{base / t[name]:.2f}x',
                'yes' if base / t[name] >= TARGETS['train'] else 'no'
            ])
    vs = 'released fp32' if ref is not None else 'mmcrossformer fp32'
    return (f'## Training step ({dname}, forward + MPJPE loss + backward + '
            'Adam; FLOPs = 3 x forward)\n\n' + table([
                'implementation', 'batch', 'samples/s', 'ms/step', 'GFLOP/s',
                '% of dtype peak', f'vs {vs}', 'peak memory MiB'
            ], rows))


def bench_accuracy(cfg, model, ref, device, data_root, args, use_bf16,
                   targets, dname) -> str:
    """MPJPE (mm) of every inference path on the generated test split."""
    batches = load_batches(cfg, data_root, 'test', args.accuracy_samples,
                           256)
    paths = {'mmcrossformer fp32': build_fast_lifter(model, device=device)}
    if use_bf16:
        paths['mmcrossformer bf16'] = build_fast_lifter(
            model, 'bf16', device=device)
    if not args.no_compile:
        for dt in ('fp32', 'bf16') if use_bf16 else ('fp32', ):
            paths[f'mmcrossformer {dt} compiled'] = build_fast_lifter(
                model, dt, compile=True, device=device)
    if ref is not None:
        rnet = ReleasedForward(copy.deepcopy(ref)).to(device).eval()

        def released(x):
            with torch.inference_mode():
                return rnet(x)

        paths['released fp32'] = released
    preds = {k: [] for k in paths}
    gts = []
    for batch in batches:
        x, target = batch_tensors(batch, device)
        gts.append(target.cpu())
        for name, f in paths.items():
            preds[name].append(f(x).float().cpu())
    gt = torch.cat(gts) * 1000
    p32 = torch.cat(preds['mmcrossformer fp32']) * 1000
    e32 = (p32 - gt).norm(dim=-1).mean().item()
    rows = []
    for name in paths:
        p = torch.cat(preds[name]) * 1000
        e = (p - gt).norm(dim=-1).mean().item()
        dev = (p - p32).norm(dim=-1)
        rows.append([
            name, f'{e:.2f}', f'{e - e32:+.3f}', f'{dev.mean().item():.3f}',
            f'{dev.max().item():.2f}'
        ])
        if 'bf16' in name:
            targets.append([
                f'{dname} {name}: MPJPE within {TARGETS["mpjpe_mm"]} mm of '
                'fp32', f'{e - e32:+.3f} mm', 'yes' if abs(e - e32) <=
                TARGETS['mpjpe_mm'] else 'no'
            ])
    note = '' if args.checkpoint else (
        '\n\nNo --checkpoint: random weights, the MPJPE values mean nothing; '
        'the deviations show that the paths compute the same function.')
    return (f'## Accuracy ({dname}, {len(gt)} windows of the generated test '
            'split, no flip averaging)\n\n' + table([
                'implementation', 'MPJPE mm', 'vs fp32 mm',
                'mean joint deviation from fp32 mm',
                'max joint deviation from fp32 mm'
            ], rows) + note)


if __name__ == '__main__':
    main()
