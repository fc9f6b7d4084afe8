"""Process-wide tuning for training speed, which entry points opt into: `tune_process()`.

Importing rnn_core changes nothing outside it; the app (app.py), the CLI (rnn_core.train's main)
and the benchmark's workers call `tune_process()` first. It sets two things:

- One BLAS thread. At these sizes (100 x 100 matrices, at most 800 x 100 x 103 products) a second
  OpenBLAS thread is no faster on an idle machine and much slower when the other core is busy: it
  spin-waits for a partner thread that has been descheduled (bench/README.md, "BLAS threads").
  Set at run time through threadpoolctl, so it works after NumPy has loaded. OPENBLAS_NUM_THREADS
  (or OMP_NUM_THREADS, MKL_NUM_THREADS) in the environment wins.
- glibc's malloc keeps the memory of freed arrays for the next step instead of handing it back
  (rnn_core._malloc says why: 390 instead of 450 steps/s on the fast preset without it).
  MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ in the environment win.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rnn_core import _malloc

THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Tuning:
    blas_threads: bool  # the BLAS thread count was set to 1
    malloc: bool        # glibc took the malloc settings


_done: Tuning | None = None


def tune_process() -> Tuning:
    """Apply both settings once per process (later calls return the first call's result)."""
    global _done
    if _done is None:
        _done = Tuning(blas_threads=_one_blas_thread(), malloc=_malloc.tune())
    return _done


def _one_blas_thread() -> bool:
    if any(v in os.environ for v in THREAD_VARS):
        return False
    import threadpoolctl  # only entry points need it

    threadpoolctl.threadpool_limits(1, user_api="blas")
    # threadpoolctl (3.8) remembers the thread that limited OpenBLAS as its "controlling thread"
    # and keeps a reference to it for good: in the app, a script thread, and through it the first
    # browser session's state and model after its tab closed. Let it go.
    controller = getattr(threadpoolctl, "OpenBLASController", None)
    if controller is not None and hasattr(controller, "clear_controlling_thread"):
        controller.clear_controlling_thread(force=True)
    return True
