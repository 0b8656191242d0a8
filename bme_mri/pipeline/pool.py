"""Worker processes for batch runs that stop cleanly on Ctrl-C.

Workers are spawned with SIGINT ignored (an ignored signal stays ignored across ``exec``),
so a Ctrl-C, which the terminal sends to the whole process group, reaches only the main
process: no worker dies half-way through an import with a traceback. The main process then
cancels the studies not started, terminates the workers (a study is written to a staging
folder and only published whole, so killing a worker leaves no half result) and re-raises
``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:  # None: a handler installed from C, which Python cannot restore; the default then
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel pending work and terminate the worker processes now (no waiting for them)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(timeout=5)


@contextlib.contextmanager
def worker_pool(workers: int, calls: Iterable[tuple[Callable[..., Any], tuple[Any, ...]]],
                initializer: Callable[..., None] | None = None,
                initargs: tuple[Any, ...] = ()) -> Iterator[list[Future]]:
    """Run ``calls`` (``(function, args)`` pairs) on ``workers`` spawned processes.

    Yields the futures in the order of ``calls``. On ``KeyboardInterrupt`` (or any error) in
    the body the pool is stopped at once; otherwise it is shut down after the body.
    """
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=initializer,
                               initargs=initargs)
    try:
        with _sigint_ignored():  # the workers start here (spawn launches them on first submit)
            futures = [pool.submit(function, *args) for function, args in calls]
        yield futures
    except BaseException:
        stop_pool(pool)
        raise
    pool.shutdown(wait=True)
