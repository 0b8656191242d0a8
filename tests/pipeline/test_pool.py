"""Worker pools stop at once on Ctrl-C and leave no worker running."""

import time

import pytest

from bme_mri.pipeline.pool import worker_pool


def test_results_come_back_in_the_order_of_the_calls():
    with worker_pool(2, [(pow, (2, k)) for k in range(5)]) as futures:
        assert [f.result() for f in futures] == [1, 2, 4, 8, 16]


def test_an_interrupt_cancels_pending_work_and_terminates_the_workers():
    calls = [(time.sleep, (60,)) for _ in range(4)]
    start = time.perf_counter()
    import multiprocessing

    before = {p.pid for p in multiprocessing.active_children()}  # other tests' children, if any
    with pytest.raises(KeyboardInterrupt):
        with worker_pool(2, calls) as futures:
            pool_futures = futures
            workers = [p for p in multiprocessing.active_children() if p.pid not in before]
            assert len(workers) == 2  # this pool's processes
            time.sleep(0.5)
            raise KeyboardInterrupt
    assert time.perf_counter() - start < 30  # not the 60 s the running calls would take
    assert all(f.done() for f in pool_futures[2:])  # never started: cancelled
    deadline = time.perf_counter() + 15  # a loaded CI machine may take a moment to reap them
    while any(p.is_alive() for p in workers) and time.perf_counter() < deadline:
        time.sleep(0.1)
    assert not any(p.is_alive() for p in workers)  # terminated, not left sleeping for 60 s


def test_workers_ignore_sigint_so_only_the_main_process_handles_it():
    import signal

    with worker_pool(1, [(signal.getsignal, (signal.SIGINT,))]) as futures:
        assert futures[0].result() == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN  # the caller's handler is back
