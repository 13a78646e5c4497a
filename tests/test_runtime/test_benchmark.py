"""The benchmark's measurement functions (mmcrossformer/runtime/benchmark.py)
on a one-layer model: rows, hand-computed accuracy figures, tables."""
import copy

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData
from torch import nn

from mmcrossformer.data_tools.synthetic.h36m import generate_h36m
from mmcrossformer.models.backbones.crossformer import Attention
from mmcrossformer.runtime import benchmark as B
from mmcrossformer.runtime.fast_paths import (JointGroupNorm,
                                              LiftingForward,
                                              build_fast_lifter,
                                              TokenMajorAttention,
                                              onednn_available)
from mmpose.structures import PoseDataSample

from ..helpers import REPO
from .common import (assert_as_exact_as_plain, fp64_output, small_model,
                     spy_encode)

torch.set_num_threads(1)
CPU = torch.device('cpu')
SHAPE = (27, 17, 2)


def test_inference_round_gives_consistent_rows():
    model = small_model(fast=True)
    paths = B.inference_paths(model, CPU, SHAPE, bf16=False, compile=False,
                              onnx=False)
    expected = {B.PLUGIN_FP32, B.PLAIN_FP32}
    if onednn_available(CPU):  # the configs' fast_inference
        expected.update({B.DEFAULT_FP32, B.UNCHUNKED_FP32,
                         B.PYTORCH_SPATIAL_FP32})
    assert set(paths) == expected
    # the plain rows run PyTorch's attention and GroupNorm in the spatial
    # encoder, the others the kernels of mmcrossformer.ops
    for name, (_, _, f) in paths.items():
        spatial = {(type(b.attn), type(b.interaction.norm))
                   for b in f.net.backbone.spatial_blocks}
        assert spatial == ({(Attention, nn.GroupNorm)} if name in (
            B.PLAIN_FP32, B.PYTORCH_SPATIAL_FP32) else {
                (TokenMajorAttention, JointGroupNorm)})
    # the default path encodes in chunks (24 samples of 27 frames on one
    # thread), the row beside it at once
    torch.set_num_threads(1)
    chunks = {}
    for name in (B.DEFAULT_FP32, B.UNCHUNKED_FP32):
        chunks[name] = spy_encode(paths[name][2].net.backbone)
        paths[name][2](torch.randn(50, *SHAPE))
    assert chunks == {B.DEFAULT_FP32: [24, 24, 2], B.UNCHUNKED_FP32: [50]}
    # with two threads, two single-threaded workers take 25 windows each;
    # the rows beside run each chunk on both threads
    torch.set_num_threads(2)
    try:
        paths2 = B.inference_paths(model, CPU, SHAPE, bf16=False,
                                   compile=False, onnx=False)
        assert set(paths2) == expected | ({B.DEFAULT_FP32 + B.NO_WORKERS}
                                          if B.DEFAULT_FP32 in expected
                                          else set())
        if B.DEFAULT_FP32 in expected:  # both rows run the same network
            sizes = spy_encode(paths2[B.DEFAULT_FP32][2].net.backbone)
            paths2[B.DEFAULT_FP32][2](torch.randn(50, *SHAPE))
            assert sorted(sizes) == [1, 1, 24, 24]
            sizes.clear()
            paths2[B.DEFAULT_FP32 + B.NO_WORKERS][2](torch.randn(50, *SHAPE))
            assert sizes == [48, 2]
    finally:
        torch.set_num_threads(1)
    # every path computes the plain model's function
    x = torch.randn(2, *SHAPE)
    plain = small_model()
    with torch.no_grad():
        ref = plain(x, None, 'tensor')
    exact = fp64_output(plain, x)
    for _, _, f in paths.values():
        assert_as_exact_as_plain(f(x), ref, exact)

    flops, peak = 1e8, 1e11
    rows = B.bench_inference(paths, CPU, SHAPE, [1, 3], 1, flops,
                             {'fp32': peak})
    assert [(r['name'], r['batch']) for r in rows] == [
        (name, bs) for bs in (1, 3) for name in paths
    ]
    for r in rows:
        rate = r['samples_per_s']
        assert rate['min'] <= rate['median'] <= rate['max']
        assert rate['median'] * r['latency_ms'] / 1e3 == pytest.approx(
            r['batch'])
        assert r['flops_per_s'] == pytest.approx(flops * rate['median'])
        assert r['peak_share'] == pytest.approx(r['flops_per_s'] / peak)
        if r['name'] == B.PLUGIN_FP32:  # the baseline without the release
            assert r['speedup'] == 1.0
    lines = B.inference_table(rows, B.PLUGIN_FP32).splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[0].startswith('| implementation | batch | samples/s')
    assert lines[2].startswith(f'| {rows[0]["name"]} | 1 | ')


def _batch(pred: torch.Tensor, target: torch.Tensor) -> dict:
    samples = []
    for t in target:
        d = PoseDataSample()
        d.gt_instance_labels = InstanceData(
            lifting_target_label=t[None].clone())
        samples.append(d)
    return dict(inputs=list(pred), data_samples=samples)


def test_accuracy_rows_are_the_hand_computed_errors():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 17, 2, generator=g)
    x[:, 0, 0, 0] = torch.arange(4.)  # the sample's index, for the paths
    target = torch.randn(4, 17, 3, generator=g) * 0.1
    up = torch.tensor([0., 0., 0.012])  # the reference path: 12 mm off
    shift = torch.tensor([0.003, 0.004, 0.])  # the other: 5 mm from it

    def reference(inp):
        return target[inp[:, 0, 0, 0].long()] + up

    paths = {'reference': reference,
             'shifted': lambda inp: reference(inp) + shift}
    rows = B.bench_accuracy(paths, [_batch(x[:2], target[:2]),
                                    _batch(x[2:], target[2:])], CPU)
    ref, shifted = rows
    assert ref['windows'] == 4
    assert ref['mpjpe_mm'] == pytest.approx(12.0, rel=1e-4)
    assert ref['gap_mm'] == 0 and ref['max_deviation_mm'] == 0
    assert shifted['mpjpe_mm'] == pytest.approx(13.0, rel=1e-4)  # 5-12-13
    assert shifted['gap_mm'] == pytest.approx(1.0, rel=1e-4)
    assert shifted['mean_deviation_mm'] == pytest.approx(5.0, rel=1e-4)
    assert shifted['max_deviation_mm'] == pytest.approx(5.0, rel=1e-4)
    table = B.accuracy_table(rows)
    assert '| shifted | 13.00 | +1.000 | 5.000 | 5.00 |' in table


def test_matmul_rows_and_peaks():
    rows = B.bench_matmul(CPU, 1, bf16=False, n=64)
    kernels = ['torch.mm'] + (['oneDNN'] if onednn_available(CPU) else [])
    assert [(r['dtype'], r['kernel']) for r in rows] == [
        ('fp32', k) for k in kernels
    ]
    assert all(r['flops_per_s'] > 0 for r in rows)
    assert B.best_peaks(rows) == {
        'fp32': max(r['flops_per_s'] for r in rows)
    }
    assert B.best_peaks([
        dict(dtype='fp32', flops_per_s=2.),
        dict(dtype='bf16', flops_per_s=5.),
        dict(dtype='fp32', flops_per_s=3.)
    ]) == {'fp32': 3., 'bf16': 5.}


def test_data_round_finds_identical_samples(tmp_path):
    generate_h36m(str(tmp_path), frames=30, subactions=1,
                  subjects=('S1', 'S9'), actions=('Walking', ))
    cfg = Config.fromfile(str(REPO / 'configs' / 'crossformer_h36m_9f.py'))
    stock, fast = B.bench_data(cfg, str(tmp_path) + '/', 1, 40)
    assert stock['identical'] is None and fast['identical'] is True
    assert stock['samples'] == fast['samples'] == 30 * 4
    assert fast['speedup'] == pytest.approx(
        fast['samples_per_s'] / stock['samples_per_s'])
    assert 'FastHuman36mDataset' in B.data_table([stock, fast])
    assert np.isfinite(fast['build_s'])


def _train_batch(n: int) -> dict:
    """A collated training batch of ``n`` random windows and poses."""
    g = torch.Generator().manual_seed(0)
    batch = _batch(torch.randn(n, *SHAPE, generator=g),
                   torch.randn(n, 17, 3, generator=g) * 0.1)
    for d in batch['data_samples']:
        d.gt_instance_labels.lifting_target_weight = torch.ones(1, 17)
        d.set_metainfo(dict(target_root=np.zeros((1, 3), np.float32)))
    return batch


def test_train_step_rows():
    model = small_model().train()
    batch = _train_batch(2)
    rows = B.bench_train(model, batch, CPU, 1, 1e8, {'fp32': 1e11},
                         bf16=False)
    assert rows[0]['name'] == B.PLUGIN_FP32 and rows[0]['speedup'] == 1.0
    assert all(r['batch'] == 2 and r['step_ms'] > 0 for r in rows)
    assert B.train_table(rows, B.PLUGIN_FP32).count('\n') == 1 + len(rows)


def test_compiled_step_trains_as_the_lifters_loss(monkeypatch):
    # the compiled training step optimises PoseLifter.loss's loss: one step
    # of each from the same weights gives the same weights (inductor's
    # numerics aside: compiled here with the eager backend)
    compile_ = torch.compile
    monkeypatch.setattr(torch, 'compile',
                        lambda f, **kw: compile_(f, backend='eager'))
    model = small_model().train()
    batch = _train_batch(3)
    x, target = B.batch_tensors(batch, CPU)
    eager, compiled = copy.deepcopy(model), copy.deepcopy(model)
    opt = torch.optim.Adam(eager.parameters(), lr=1e-5)
    loss = eager.loss(x, batch['data_samples'])['loss_pose3d']
    opt.zero_grad()
    loss.backward()
    opt.step()
    B.compiled_step(compiled, x, target, torch.ones(3, 17, 1), amp=False)()
    moved = 0
    for (name, a), b, c in zip(eager.named_parameters(),
                               compiled.parameters(), model.parameters()):
        torch.testing.assert_close(a, b, msg=name)
        moved += not torch.equal(a, c)
    assert moved > 0.9 * len(list(model.parameters()))


def test_loader_rate_counts_the_config_batches(tmp_path):
    generate_h36m(str(tmp_path), frames=30, subactions=1,
                  subjects=('S1', 'S9'), actions=('Walking', ))
    cfg = Config.fromfile(str(REPO / 'configs' / 'crossformer_h36m_9f.py'))
    cfg.train_dataloader.batch_size = 32
    cfg.train_dataloader.num_workers = 1
    row = B.bench_loader(cfg, str(tmp_path) + '/', 10, fast=True)
    assert row['collate'] == 'lifting_collate'  # the config's
    assert B.bench_loader(cfg, str(tmp_path) + '/', 1, fast=False,
                          collate='pseudo_collate')['collate'] == \
        'pseudo_collate'
    # 120 windows x 2 (plain and mirrored): 7 full batches and one of 16 per
    # epoch; the first batch is not counted, then 10 batches: the first
    # epoch's rest and 3 of the second
    assert row['samples'] == 6 * 32 + 16 + 3 * 32
    assert row['samples_per_s'] == pytest.approx(row['samples'] /
                                                 row['seconds'])
    assert (row['pipeline'], row['workers'], row['batch']) == (
        'FastHuman36mDataset', 1, 32)
    assert '| FastHuman36mDataset | lifting_collate | 1 | 32 |' in \
        B.loader_table([row])


def test_spread_and_rate_by_hand():
    assert B.spread([0.3, 0.1, 0.2, 0.5]) == dict(
        median=0.25, min=0.1, max=0.5)
    # 64 samples: the slowest round (0.5 s) gives the min rate
    assert B.rate(64, B.spread([0.4, 0.2, 0.5])) == dict(
        median=160., min=128., max=320.)
    assert B.fmt_rate(dict(median=160., min=128., max=320.)) == \
        '160.0 [128.0-320.0]'


def test_interleaved_alternates_within_rounds(monkeypatch):
    """Each round runs every function once in turn (after one warm-up and
    one calibration call each; with warm_turns after an untimed call in
    each turn); the figures are the spread of the rounds' times, read here
    from a fake clock."""
    calls = []
    clock = iter(range(1000))
    # every perf_counter call advances one second; a round of 'a' sees its
    # call take 1 s, of 'b' too, but 'b' adds a second by reading the clock
    monkeypatch.setattr(B.time, 'perf_counter', lambda: float(next(clock)))
    fns = {'a': lambda: calls.append('a'),
           'b': lambda: calls.append('b') or B.time.perf_counter()}
    t = B.interleaved(fns, CPU, rounds=3, target_s=0.)
    assert calls == ['a', 'a', 'b', 'b'] + ['a', 'b'] * 3
    assert t == {'a': dict(median=1., min=1., max=1.),
                 'b': dict(median=2., min=2., max=2.)}
    # warm turns: every turn begins with an untimed call
    calls.clear()
    assert B.interleaved(fns, CPU, rounds=3, target_s=0.,
                         warm_turns=True) == t
    assert calls == ['a', 'a', 'b', 'b'] + ['a', 'a', 'b', 'b'] * 3


def test_profile_parts_and_rest():
    """Every part of a CrossFormer forward is found by its module name; the
    parts and the rest add up to the call; hooks are removed after."""
    assert B.profile_part('backbone.spatial_blocks.3.attn') == \
        'spatial attention'
    assert B.profile_part('backbone.temporal_blocks.0.interaction') == \
        B.PROFILE_PARTS[4][1]
    assert B.profile_part('backbone.temporal_blocks.0.norm2') == 'LayerNorms'
    assert B.profile_part('backbone.temporal_blocks.0.attn.qkv') is None
    assert B.profile_part('head') == 'head'
    model = LiftingForward(small_model())
    x = torch.randn(2, *SHAPE)

    def fn():
        with torch.no_grad():
            model(x)

    rows = B.profile_modules(model, fn, rounds=3)
    parts = [r['part'] for r in rows]
    assert parts == [p for _, p in B.PROFILE_PARTS] + [B.PROFILE_REST,
                                                       'total']
    total = rows[-1]
    assert total['share'] == 1.
    assert all(r['ms'] > 0 for r in rows[:-2])
    assert all(not m._forward_hooks and not m._forward_pre_hooks
               for m in model.modules())
    assert B.profile_table(rows).count('\n') == len(rows) + 1


def test_profile_of_workers_is_per_thread():
    """On two single-threaded workers the modules of a part run at the
    same time: their time is summed over the threads and divided by two,
    so that the parts stay within the call."""
    run = build_fast_lifter(small_model(), 'fp32')
    x = torch.randn(96, *SHAPE)
    torch.set_num_threads(2)
    try:
        rows = B.profile_modules(run.net, lambda: run(x), rounds=3)
    finally:
        torch.set_num_threads(1)
    by_part = {r['part']: r for r in rows}
    parts = sum(r['ms'] for r in rows[:-2])
    assert 0 < parts <= by_part['total']['ms']
    assert by_part[B.PROFILE_REST]['ms'] >= 0


def test_memory_of_workers_is_seen():
    """The profiler does not see the allocations of the CPU workers: their
    memory is the thread count times one worker's share alone."""
    run = build_fast_lifter(small_model(), 'fp32')
    x = torch.randn(50, *SHAPE)
    torch.set_num_threads(1)
    alone = B.peak_memory_mib(lambda: run(x[:25]), CPU)
    assert B.inference_memory_mib(run, x, CPU) == B.peak_memory_mib(
        lambda: run(x), CPU) > 0
    torch.set_num_threads(2)
    try:
        got = B.inference_memory_mib(run, x, CPU)
    finally:
        torch.set_num_threads(1)
    assert got == pytest.approx(2 * alone, rel=0.05)


class _Event:
    """What device_time_by_part reads of a torch.profiler event."""

    def __init__(self, name, device_type, device_time_total,
                 cpu_parent=None):
        self.name, self.device_type = name, device_type
        self.device_time_total, self.cpu_parent = device_time_total, \
            cpu_parent


def test_gpu_profile_counts_every_kernel_once():
    # torch.profiler lists a kernel twice: in the device time of the host
    # event that launched it and as an event of its own; the range of a
    # part appears on both sides too. By hand: one 10 us kernel inside the
    # spatial attention, one 5 us kernel outside any part: 15 us in all
    cpu, cuda = torch.autograd.DeviceType.CPU, torch.autograd.DeviceType.CUDA
    part = _Event('part: spatial attention', cpu, 10.)
    events = [
        part,
        _Event('aten::mm', cpu, 10., cpu_parent=part),
        _Event('aten::add', cpu, 5.),
        _Event('sm90_xmma_gemm', cuda, 10.),
        _Event('elementwise_kernel', cuda, 5.),
        _Event('part: spatial attention', cuda, 10.),
    ]
    spent, total = B.device_time_by_part(events)
    assert spent == {'spatial attention': 10.} and total == 15.


def test_part_ranges_hold_their_modules_ops():
    # the GPU profile reads a part's kernels off its record_function range:
    # the range must be a top-level host event with the module's operators
    # inside it (checked on the CPU, where the events have no kernels)
    from torch.profiler import ProfilerActivity, profile, record_function
    model = LiftingForward(small_model())
    ranges = {}

    def pre(name, part):
        ranges[name] = record_function('part: ' + part)
        ranges[name].__enter__()

    def post(name, part):
        ranges.pop(name).__exit__(None, None, None)

    handles = B.hook_parts(model, pre, post)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        model(torch.randn(2, *SHAPE))
    for h in handles:
        h.remove()
    parts = [e for e in prof.events() if e.name.startswith('part: ')]
    assert {e.name[6:] for e in parts} == {p for _, p in B.PROFILE_PARTS}
    assert all(e.cpu_parent is None and e.cpu_children for e in parts)
    assert B.device_time_by_part(prof.events()) == (
        {p: 0. for _, p in B.PROFILE_PARTS}, 0.)


def test_attention_kernels_rows():
    # the two kernels compute the same product; the rows cover both stages
    # at the model's shapes, fp32 (bf16 off here), forward and backward
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(5, 2, 7, 4, generator=g) for _ in range(3))
    torch.testing.assert_close(B.explicit_attention(q, k, v),
                               B.fused_attention(q, k, v), rtol=1e-5,
                               atol=1e-6)
    model = small_model()
    bb = model.backbone
    shapes = B.attention_shapes(model, 3)
    heads = bb.spatial_blocks[0].attn.num_heads
    dim = bb.spatial_blocks[0].attn.qkv.in_features
    assert shapes == {
        'spatial': (3 * bb.num_frames, heads, bb.num_joints, dim // heads),
        'temporal': (3, heads, bb.num_frames,
                     bb.num_joints * dim // heads)
    }
    for backward in (False, True):
        rows = B.bench_attention(model, CPU, 3, 1, bf16=False,
                                 backward=backward)
        assert [(r['stage'], r['dtype'], r['shape']) for r in rows] == [
            ('spatial', 'fp32', shapes['spatial']),
            ('temporal', 'fp32', shapes['temporal'])]
        assert all(r['fused_ms'] > 0 and r['explicit_ms'] > 0 for r in rows)
    assert B.attention_table(rows).count('\n') == 1 + len(rows)
