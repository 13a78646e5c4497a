# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""Speed of a lifting config: inference, training step and data pipeline,
side by side with the authors' released implementation when its file is
given. Prints markdown tables; the measurements are the functions of
:mod:`mmcrossformer.runtime.benchmark`.

    python tools/analysis_tools/benchmark.py \
        configs/crossformer_h36m_81f_official.py \
        --reference /path/to/CrossFormer/common/model_crossformer.py \
        --checkpoint work_dirs/.../best_MPJPE_epoch_N.pth

What it measures, on the CPU and on a GPU when one is present:

* the fp32 and bf16 matmul peaks of the device (a large matmul through
  ``torch.mm`` and, on the CPU, through oneDNN), the FLOP/s every row
  achieves and its share of the best peak of its dtype (FLOPs per sample
  from :mod:`mmcrossformer.runtime.complexity`, attention products
  included; one multiply-add = 2 FLOPs; a training step counts 3 forward
  passes);
* inference throughput and latency at batch 1, 64 and 256 (``--batch-sizes``)
  of this plugin's fast paths (:mod:`mmcrossformer.runtime.fast_paths`:
  fp32 with oneDNN linear layers, bf16, ``torch.compile`` of both,
  onnxruntime), of the plain layers (``fast_inference=False``) and of the
  default path (the configured model, as ``tools/test.py`` runs it)
  and of the released model (eager fp32, the way it ships), with the peak
  memory of one call (eager rows);
* a training step (forward, MPJPE loss, backward, Adam) of this plugin's
  model -- fp32 as configured, fp32 with oneDNN linear layers
  (``OneDNNLinearHook``), bf16 autocast -- against the released model in
  fp32;
* where the time of an eager forward goes, per module group (spatial
  attention, CJI, ..., the rest): wall time of forward hooks on the CPU,
  GPU kernel time from ``torch.profiler`` on CUDA;
* the attention product alone at the model's spatial and temporal shapes:
  the fused kernel the model uses against explicit batched products (as
  the released code computes it), fp32 and bf16, forward and backward;
* data-pipeline throughput per worker (samples/s of one process) of the
  stock MMPose pipeline and of ``FastHuman36mDataset`` on generated
  Human3.6M-layout data, and whether they yield identical samples; the
  config's training dataloader as the runner builds it (its workers and
  batch size), with its collate function and with MMPose's
  ``pseudo_collate``; the projected time of the release's 100 epochs from
  every training row, alone and fed by the dataloader;
* MPJPE (mm) on the generated test split of each inference path, the gap to
  fp32 and the mean joint deviation from the fp32 prediction.

The released model (``--reference``, its ``common/model_crossformer.py``; it
needs timm and einops) is built for the config's window and gets the same
weights (:mod:`mmcrossformer.runtime.released`); this needs a config that
builds the released architecture,
``configs/crossformer_h36m_81f_official.py``. Timings are interleaved round
by round (every implementation once per round) and the median round is
reported, so that load from other processes hits all rows alike; set
``--threads`` and look at the load average printed with the tables.

Without ``--checkpoint`` the weights are random (or the released
initialisation); the accuracy rows then only show that every path computes
the same function, and the MPJPE values themselves mean nothing.
"""
import argparse
import logging
import os
import platform
import tempfile
import warnings
from typing import Iterator, List

# known harmless warnings, silenced so that the tables stand out: mmengine
# imports pkg_resources; the released code's timm 0.4 scripts its
# activations with torch.jit.script
warnings.filterwarnings('ignore', 'pkg_resources is deprecated', UserWarning)
warnings.filterwarnings('ignore', '`torch.jit.script` is deprecated',
                        FutureWarning)

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.runner import load_checkpoint  # noqa: E402

import mmcrossformer  # noqa: F401,E402  (registers the plugin)
from mmcrossformer.runtime import benchmark as B  # noqa: E402
from mmcrossformer.runtime.complexity import model_complexity  # noqa: E402
from mmcrossformer.runtime.fast_paths import (  # noqa: E402
    bf16_supported, build_fast_lifter)
from mmcrossformer.runtime.released import (  # noqa: E402
    build_released, share_weights)
from mmpose.registry import MODELS  # noqa: E402
from mmpose.utils import register_all_modules  # noqa: E402


def parse_args() -> argparse.Namespace:
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
        '--threads',
        type=int,
        nargs='+',
        default=None,
        help='torch CPU thread counts, each measured in turn (e.g. 1 2)')
    parser.add_argument(
        '--batch-sizes', type=int, nargs='+', default=[1, 64, 256])
    parser.add_argument('--train-batch-size', type=int, default=64)
    parser.add_argument(
        '--rounds', type=int, default=5, help='interleaved rounds')
    parser.add_argument(
        '--no-compile', action='store_true', help='skip torch.compile rows')
    parser.add_argument('--no-bf16', action='store_true')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='require the bf16 rows (bf16 inference, bf16 autocast '
        'training); an error where the device has no native bf16')
    parser.add_argument(
        '--project-epochs',
        type=int,
        default=100,
        help='epochs of the projected training time (release: 100)')
    parser.add_argument(
        '--epoch-windows',
        type=float,
        default=2 * 1.56e6,
        help='training windows per epoch (release: 2 x 1.56 M, flips '
        'counted)')
    parser.add_argument('--no-onnx', action='store_true')
    parser.add_argument(
        '--compile-train',
        action='store_true',
        help='also time a torch.compile-d training step')
    parser.add_argument(
        '--skip',
        nargs='*',
        default=[],
        choices=[
            'inference', 'profile', 'attention', 'train', 'data', 'accuracy'
        ])
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
        '--loader-batches',
        type=int,
        default=20,
        help="batches of the config's training dataloader to time")
    parser.add_argument(
        '--accuracy-samples',
        type=int,
        default=2048,
        help='test windows of the accuracy table')
    return parser.parse_args()


def cpu_model() -> str:
    """The CPU's model name (Linux), else the machine type."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    load = os.getloadavg() if hasattr(os, 'getloadavg') else ()
    return ' '.join(f'{x:.2f}' for x in load) or '-'


def bench_device(device, model, cfg, released, data_root, args, flops,
                 shape, train_rows: List[dict]) -> Iterator[str]:
    """The matmul, training, inference, profile, attention and accuracy
    sections of a device, each yielded as soon as it is measured (a run
    stopped at a time limit keeps what it printed); the training rows go to
    ``train_rows``."""
    dname = 'GPU' if device.type == 'cuda' else 'CPU'
    threads = torch.get_num_threads()
    bf16 = not args.no_bf16 and bf16_supported(device)
    if args.amp and not bf16:
        raise SystemExit(f'--amp: no native bf16 on {device}')
    vs = B.RELEASED if released is not None else B.PLUGIN_FP32
    matmul = B.bench_matmul(device, args.rounds, bf16)
    peaks = B.best_peaks(matmul)
    n = B.matmul_size(device)
    yield (f'## Matmul peak ({dname}, {n}x{n}x{n}, {threads} threads)\n\n' +
           B.matmul_table(matmul) + '\n\nThe "% of dtype peak" columns '
           'divide by the best kernel of the dtype. Load average (1, 5, 15 '
           f'min) when measured: {load_average()}.')
    if 'train' not in args.skip:
        bs = args.train_batch_size
        batch = B.load_batches(cfg, data_root, 'train', bs, bs)[0]
        train_rows += B.bench_train(model, batch, device, args.rounds, flops,
                                    peaks, bf16, args.compile_train,
                                    released)
        yield (f'## Training step ({dname}, forward + MPJPE loss + '
               'backward + Adam; FLOPs = 3 x forward)\n\n' +
               B.train_table(train_rows, vs))
    if 'inference' not in args.skip:
        paths = B.inference_paths(model, device, shape, bf16,
                                  not args.no_compile, not args.no_onnx,
                                  released)
        rows = B.bench_inference(paths, device, shape, args.batch_sizes,
                                 args.rounds, flops, peaks)
        yield (f'## Inference ({dname}, {threads} threads)\n\n' +
               B.inference_table(rows, vs) +
               f'\n\nMedian of {args.rounds} interleaved rounds '
               '[slowest-fastest round]; "vs" and FLOP/s from the medians.'
               f' Load average at the end: {load_average()}.')
    if 'profile' not in args.skip:
        bs = max(args.batch_sizes)
        x = torch.randn(bs, *shape, device=device) * 0.5
        for dt in ['fp32'] + (['bf16'] if bf16 else []):
            run = build_fast_lifter(model, dtype=dt, device=device)
            if device.type == 'cuda':
                how = 'GPU kernel time per part, torch.profiler'
                rows = B.profile_modules_cuda(run.net, lambda: run(x),
                                              args.rounds)
            else:  # the hooks' wall time: the CPU works synchronously
                how = 'module forward hooks'
                rows = B.profile_modules(run.net, lambda: run(x),
                                         args.rounds)
            yield (f'## Where the time goes (mmcrossformer {dt}, '
                   f'{dname}, batch {bs}, {threads} threads; {how})\n\n' +
                   B.profile_table(rows))
    if 'attention' not in args.skip:
        bs = max(args.batch_sizes)
        for backward in (False, True):
            rows = B.bench_attention(model, device, bs, args.rounds, bf16,
                                     backward)
            yield (f'## Attention kernels ({dname}, batch {bs}, '
                   f'{threads} threads, '
                   + ('forward + backward' if backward else 'forward') +
                   '; the attention product alone, medians of '
                   f'{args.rounds} interleaved rounds)\n\n' +
                   B.attention_table(rows))
    if 'accuracy' not in args.skip:
        paths = {
            name: f
            for name, (_, _, f) in B.inference_paths(
                model, device, shape, bf16, not args.no_compile, False,
                released).items()
            if name not in (B.PLAIN_FP32, B.UNCHUNKED_FP32)
        }
        batches = B.load_batches(cfg, data_root, 'test',
                                 args.accuracy_samples, 256)
        rows = B.bench_accuracy(paths, batches, device)
        note = '' if args.checkpoint else (
            '\n\nNo --checkpoint: random weights, the MPJPE values mean '
            'nothing; the deviations show that the paths compute the same '
            'function.')
        yield (f'## Accuracy ({dname}, {rows[0]["windows"]} windows of '
               'the generated test split, no flip averaging)\n\n' +
               B.accuracy_table(rows) + note)


def main() -> None:
    args = parse_args()
    register_all_modules()
    cfg = Config.fromfile(args.config)
    devices = [
        torch.device(d) for d in args.devices or (
            ['cpu', 'cuda'] if torch.cuda.is_available() else ['cpu'])
    ]
    if any(d.type == 'cuda' for d in devices) and \
            not torch.cuda.is_available():
        raise SystemExit('--devices cuda: no GPU is visible')

    MMLogger.get_current_instance().setLevel(logging.WARNING)
    model = MODELS.build(cfg.model)
    model.init_weights()
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu')
    released = None
    if args.reference:
        released = build_released(args.reference, cfg)
        try:
            share_weights(model, released, bool(args.checkpoint))
        except ValueError as e:
            raise SystemExit(str(e))
    model.eval()
    bb = model.backbone
    shape = (bb.num_frames, bb.num_joints, bb.in_channels)
    flops = 2 * model_complexity(model)['flops_with_attention']

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

    env = [
        ['config', args.config],
        ['checkpoint', args.checkpoint or 'none (random weights)'],
        ['released implementation', args.reference or 'not given'],
        ['torch', torch.__version__],
        ['CPU', cpu_model()],
        ['CPU threads (torch)', args.threads or torch.get_num_threads()],
        ['bf16 on CPU', bf16_supported('cpu')],
        ['GPU',
         torch.cuda.get_device_name(0) if torch.cuda.is_available() else
         'none'],
        ['load average at start', load_average()],
        ['FLOPs per sample (forward)', f'{flops / 1e9:.2f} G'],
    ]
    print('## Environment\n\n' + B.table(['item', 'value'], env) + '\n',
          flush=True)
    train_rows = {}
    for device in devices:
        for threads in (args.threads or [None]
                        if device.type == 'cpu' else [None]):
            if threads:
                torch.set_num_threads(threads)
            rows: List[dict] = []
            for section in bench_device(device, model, cfg, released,
                                        data_root, args, flops, shape, rows):
                print(section + '\n', flush=True)
            if rows:
                train_rows[f'{device.type}, {torch.get_num_threads()} '
                           'threads' if device.type == 'cpu' else
                           str(device)] = rows
    out = []
    if 'data' not in args.skip:
        rows = B.bench_data(cfg, data_root, args.rounds, args.data_samples)
        print('## Data pipeline (one worker process, '
              f'{rows[0]["window"]}-frame windows, '
              f'{rows[0]["samples"]} training windows)\n\n' +
              B.data_table(rows) + '\n', flush=True)
        # the config's loader and the same with MMPose's default collate
        loaders = [
            B.bench_loader(cfg, data_root, args.loader_batches, fast, collate)
            for fast in (False, True)
            for collate in ('pseudo_collate', None)
        ]
        print('## Training dataloader (the config\'s workers, batch and '
              'sampler, as the runner builds it; '
              f'{args.loader_batches} batches after the first)\n\n' +
              B.loader_table(loaders) + '\n', flush=True)
        loaders = loaders[1::2]  # with the config's collate
        for where, trows in train_rows.items():
            out.append(
                f'## Projected training time ({where}; '
                f'{args.project_epochs} epochs x '
                f'{args.epoch_windows / 1e6:.2f} M windows)\n\n' +
                B.projection_table(
                    trows, loaders,
                    epochs=args.project_epochs,
                    windows_per_epoch=args.epoch_windows))
    out.append('load average at the end: ' + load_average())
    print('\n\n'.join(out))
    if tmp is not None:
        tmp.cleanup()


if __name__ == '__main__':
    main()
