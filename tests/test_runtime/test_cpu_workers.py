"""CPU inference on single-threaded workers (mmcrossformer.runtime.
cpu_workers): with several torch threads a batch is split between workers,
one per thread, with the caller's grad mode, inference mode and autocast,
and gives what one thread gives."""
import threading

import pytest
import torch

from mmcrossformer.runtime.cpu_workers import map_windows, no_workers, workers
from mmcrossformer.runtime.fast_paths import bf16_supported, build_fast_lifter

from .common import keypoints, small_model, spy_encode


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def in_new_thread(fn):
    out = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join()
    return out[0]


def test_workers_are_single_threaded_and_leave_the_thread_count(
        two_threads):
    pool = workers(2)
    names = {pool.submit(lambda: threading.current_thread().name).result()
             for _ in range(8)}
    assert all(n.startswith('mmcrossformer-cpu') for n in names)
    assert {pool.submit(torch.get_num_threads).result()
            for _ in range(8)} == {1}
    # the caller's count, and the one new threads start with, stay 2
    assert torch.get_num_threads() == 2
    assert in_new_thread(torch.get_num_threads) == 2
    assert workers(2) is pool
    torch.set_num_threads(3)
    assert workers(3) is not pool
    assert torch.get_num_threads() == 3
    assert in_new_thread(torch.get_num_threads) == 3


def test_map_windows_splits_between_workers(two_threads):
    seen = []

    def fn(x):
        seen.append((threading.current_thread().name, len(x),
                     torch.get_num_threads()))
        return x * 2

    x = torch.arange(11.)[:, None]
    torch.testing.assert_close(map_windows(fn, x, lambda: 4), x * 2,
                               rtol=0, atol=0)
    # two shares of 6 and 5 windows, in chunks of 4, each on one thread
    assert sorted(n for _, n, _ in seen) == [1, 2, 4, 4]
    assert {t for _, _, t in seen} == {1}
    assert all(name.startswith('mmcrossformer-cpu') for name, _, _ in seen)
    seen.clear()
    with no_workers():
        map_windows(fn, x, lambda: 4)
    assert sorted(n for _, n, _ in seen) == [3, 4, 4]
    assert {t for _, _, t in seen} == {2}
    assert all(not name.startswith('mmcrossformer-cpu')
               for name, _, _ in seen)

    def fails(x):
        raise ValueError('window 3 is broken')

    with pytest.raises(ValueError, match='window 3 is broken'):
        map_windows(fails, x, lambda: 4)


def test_workers_run_in_the_callers_modes(two_threads):
    """Grad mode, inference mode and autocast are per thread in PyTorch."""
    seen = []

    def fn(x):
        seen.append((torch.is_grad_enabled(),
                     torch.is_inference_mode_enabled(),
                     torch.is_autocast_enabled('cpu'),
                     torch.get_autocast_dtype('cpu')))
        return x

    x = torch.zeros(4, 1)
    with torch.no_grad():
        map_windows(fn, x, lambda: 1)
    with torch.inference_mode():
        map_windows(fn, x, lambda: 1)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        map_windows(fn, x, lambda: 1)
    assert seen[:4] == [(False, False, False, seen[0][3])] * 4
    assert seen[4:8] == [(False, True, False, seen[0][3])] * 4
    assert seen[8:] == [(False, False, True, torch.bfloat16)] * 4


def test_backbone_on_workers_gives_one_threads_result(two_threads):
    """The configs' fast_inference backbone: same features on the workers
    as in one thread, not recorded by autograd, inference tensors under
    inference_mode; bf16 (autocast in the workers) as bf16 in one
    thread, and not the fp32 result."""
    model = small_model(fast=True)
    x = keypoints(9)
    sizes = spy_encode(model.backbone)
    with torch.no_grad():
        got = model.backbone(x)[0]
        assert sorted(sizes) == [4, 5]
        with no_workers():
            expected = model.backbone(x)[0]
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert not got.requires_grad
    # the kernels of mmcrossformer.ops left the workers single-threaded
    assert {workers(2).submit(torch.get_num_threads).result()
            for _ in range(8)} == {1}
    with torch.inference_mode():
        assert model.backbone(x)[0].is_inference()
    if not bf16_supported():
        return
    model.backbone.inference_dtype = 'bf16'
    with torch.no_grad():
        got = model.backbone(x)[0]
        with no_workers():
            expected = model.backbone(x)[0]
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert (got - feats_fp32(model, x)).abs().max() > 1e-4


def feats_fp32(model, x):
    model.backbone.inference_dtype = 'fp32'
    with torch.no_grad(), no_workers():
        return model.backbone(x)[0]


@pytest.mark.parametrize('dtype', ['fp32', 'bf16'])
def test_fast_lifter_on_workers(two_threads, dtype):
    if dtype == 'bf16' and not bf16_supported():
        pytest.skip('no native bf16 on this CPU')
    lifter = build_fast_lifter(small_model(), dtype)
    x = keypoints(50)
    sizes = spy_encode(lifter.net.backbone)
    got = lifter(x)
    # 25 windows per worker, chunks of 648 // 27 = 24 windows
    assert sorted(sizes) == [1, 1, 24, 24]
    with no_workers():
        expected = lifter(x)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
