"""Independent pieces of a benchmark on several processes: ``run_jobs(fn, items, jobs)``.

The pieces (one calibration per mock-loop state, per twin family) share nothing, so the
result is the same for any number of jobs; ``jobs`` only changes the wall time. Default
``--jobs``: $CARDIOSIM_BENCH_JOBS, else 1 (the tests set 2: the suite itself is serial).
Workers are spawned (a fresh interpreter each, no forked Numba or BLAS threads) with one
BLAS thread each, and use the same Numba cache as the parent.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor


def default_jobs() -> int:
    v = os.environ.get("CARDIOSIM_BENCH_JOBS", "1")
    try:
        n = int(v)
    except ValueError:
        raise SystemExit(f"CARDIOSIM_BENCH_JOBS must be a whole number >= 1, got {v!r}") from None
    if n < 1:
        raise SystemExit(f"CARDIOSIM_BENCH_JOBS must be a whole number >= 1, got {v!r}")
    return n


def _init():
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[k] = "1"
    # a worker dies with its parent (a benchmark killed mid-run leaves no orphan computing on)
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
        except OSError:
            pass


def run_jobs(fn: Callable, items: Iterable, jobs: int) -> list:
    """[fn(x) for x in items], on up to ``jobs`` processes, in the order of ``items``."""
    items = list(items)
    if jobs <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ProcessPoolExecutor(max_workers=min(jobs, len(items)), mp_context=mp.get_context("spawn"),
                             initializer=_init) as ex:
        return list(ex.map(fn, items))
