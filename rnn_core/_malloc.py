"""glibc's malloc: keep the memory of freed arrays for the next step instead of handing it back.
Applied by rnn_core.tuning.tune_process(), never on import.

A training step allocates and frees a handful of arrays of 100 KB to 1 MB (activations, logits,
dL/dh). glibc serves blocks above a threshold (128 KB at first, then adjusted as blocks are freed)
with mmap, and trims the top of its heap when more than twice that is free there: depending on the
order in which a step's arrays come and go, a process can fall into a pattern where every step
returns its temporaries to the OS and faults them back in, page by page. Measured (bench/README.md):
the fast preset ran at either about 390 or about 450 steps/s depending on the process and the
commit; with these two settings, at about 450 every time. Only on glibc (elsewhere there is no
mallopt and nothing changes); MALLOC_MMAP_THRESHOLD_ or MALLOC_TRIM_THRESHOLD_ in the environment
win. The cost: freed memory up to TRIM_THRESHOLD stays in the process for reuse.
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
MMAP_THRESHOLD = 16 * 2**20   # blocks below this come from the heap (glibc's maximum is 32 MB)
TRIM_THRESHOLD = 64 * 2**20   # free memory kept at the top of the heap before giving it back
ENV_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")


def tune() -> bool:
    """Apply the two settings; True when glibc took them."""
    if not sys.platform.startswith("linux") or any(v in os.environ for v in ENV_VARS):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt  # the process's own C library
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))

