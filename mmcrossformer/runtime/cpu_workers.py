# Copyright (c) mmcrossformer contributors. Licensed under Apache-2.0.
"""CPU inference of a batch of windows on one single-threaded worker per
torch thread.

Every window is encoded on its own, so a batch can be split anywhere. With
T torch threads, :func:`map_windows` gives each of T worker threads (torch
set to one thread there) a contiguous share of the batch instead of running
every operator on T threads: the many small operators of the model
(LayerNorms, the 17-joint attention, GroupNorms, residual additions) gain
little from a second thread, while independent shares keep both cores on
whole operators (docs/benchmark.md, 2 threads: the default path
1.10-1.11x, the bf16 lifter 1.17-1.25x faster). PyTorch releases the GIL
inside its operators.

Grad mode, inference mode and CPU autocast are per thread in PyTorch: the
workers run under the caller's.
"""
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Optional

import torch
from torch import Tensor

from .. import ops

_lock = threading.Lock()
_pool: Optional[ThreadPoolExecutor] = None
_pool_threads = 0
_sequential = threading.local()
_pool_calls = 0


def _become_single_threaded(ready: threading.Barrier) -> None:
    # a thread's first parallel call, in torch and in each extension built
    # on its headers, sets its thread count from the process-wide one
    # (which the caller restores below): make those calls first
    torch.get_num_threads()
    ops.init_thread()
    torch.set_num_threads(1)
    _sequential.active = True
    ready.wait()


def workers(threads: int) -> ThreadPoolExecutor:
    """The pool of ``threads`` single-threaded workers (made at the first
    call for this thread count; the previous pool is shut down)."""
    global _pool, _pool_threads
    with _lock:
        if _pool is None or _pool_threads != threads:
            if _pool is not None:
                _pool.shutdown(wait=False)
            pool = ThreadPoolExecutor(
                threads, thread_name_prefix='mmcrossformer-cpu')
            ready = threading.Barrier(threads)
            # the barrier holds each task until all run: one per thread
            for task in [
                    pool.submit(_become_single_threaded, ready)
                    for _ in range(threads)
            ]:
                task.result()
            # torch.set_num_threads in a worker also set the count that
            # new threads start with: give it back
            torch.set_num_threads(threads)
            _pool, _pool_threads = pool, threads
        return _pool


@contextlib.contextmanager
def no_workers():
    """Within it, :func:`map_windows` runs in the calling thread, every
    operator on all torch threads (for comparisons and debugging)."""
    before = getattr(_sequential, 'active', False)
    _sequential.active = True
    try:
        yield
    finally:
        _sequential.active = before


def pool_calls() -> int:
    """How many :func:`map_windows` calls have run on the workers so far
    (the benchmark's memory figure needs to know: the profiler does not
    see the workers' allocations)."""
    return _pool_calls


def in_chunks(fn: Callable[[Tensor], Tensor], x: Tensor,
              chunk: int) -> Tensor:
    """``fn`` over ``x`` (B, ...) in chunks of at most ``chunk`` samples,
    concatenated along the batch."""
    if chunk >= len(x):
        return fn(x)
    return torch.cat([fn(part) for part in x.split(chunk)])


def map_windows(fn: Callable[[Tensor], Tensor], x: Tensor,
                chunk: Callable[[], int]) -> Tensor:
    """``fn`` over the windows of ``x`` (B, ...), concatenated along the
    batch: with T > 1 torch threads and at least T windows, T workers
    (:func:`workers`) each take a contiguous share; every share, or the
    whole batch otherwise, runs in chunks of ``chunk()`` samples (called
    where the chunks run, so it sees that thread's torch thread count).

    ``fn`` must encode every window on its own (then the result does not
    depend on the split). Worker threads run under the caller's grad mode,
    inference mode and CPU autocast state.
    """
    threads = torch.get_num_threads()
    if threads == 1 or len(x) < threads or getattr(_sequential, 'active',
                                                   False):
        return in_chunks(fn, x, chunk())
    global _pool_calls
    _pool_calls += 1
    grad = torch.is_grad_enabled()
    inference = torch.is_inference_mode_enabled()
    autocast = torch.is_autocast_enabled('cpu')
    dtype = torch.get_autocast_dtype('cpu')

    def run(share: Tensor) -> Tensor:
        with torch.inference_mode(inference), torch.set_grad_enabled(grad), \
                torch.autocast('cpu', dtype=dtype, enabled=autocast):
            return in_chunks(fn, share, chunk())

    return torch.cat(list(workers(threads).map(run, x.tensor_split(threads))))


__all__ = ['in_chunks', 'map_windows', 'no_workers', 'pool_calls', 'workers']
