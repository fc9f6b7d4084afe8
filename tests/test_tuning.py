"""Process tuning is opt-in: `import rnn_core` changes nothing process-wide, and
rnn_core.tuning.tune_process() (called by the app, the CLI and the benchmark) sets one BLAS thread
and glibc's malloc thresholds. Each probe runs in a fresh interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Reports the BLAS thread count, whether a 1 MB malloc is served by mmap (glibc's default
# threshold is 128 KB; tuned, it is 16 MB), and the thread/malloc variables in the environment.
PROBE = """
import ctypes, json, os, sys
import numpy
{setup}
from threadpoolctl import threadpool_info

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                 "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = (ctypes.c_void_p,)
before = libc.mallinfo2().hblks
block = libc.malloc(2**20)
mmapped = libc.mallinfo2().hblks > before
libc.free(block)
print(json.dumps({
    "blas_threads": [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"],
    "mmapped_1mb": mmapped,
    "env": sorted(k for k in os.environ if k.endswith("_NUM_THREADS") or k.startswith("MALLOC_")),
}))
"""

IMPORT_ALL = ("import rnn_core, rnn_core.trainer, rnn_core.checkpoint, rnn_core.sampling, "
              "rnn_core.gradcheck, rnn_core.train")


def probe(setup: str, **env: str) -> dict:
    clean = {k: v for k, v in os.environ.items()
             if not (k.endswith("_NUM_THREADS") or k.startswith("MALLOC_"))}
    out = subprocess.run([sys.executable, "-c", PROBE.replace("{setup}", setup)], cwd=ROOT,
                         env={**clean, **env}, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallinfo2")


def test_importing_rnn_core_changes_nothing_process_wide():
    plain = probe("")
    imported = probe(IMPORT_ALL)
    assert imported == plain
    assert plain["mmapped_1mb"] and plain["env"] == []


def test_tune_process_sets_one_blas_thread_and_keeps_freed_memory_on_the_heap():
    tuned = probe(IMPORT_ALL + "\nfrom rnn_core.tuning import tune_process; t = tune_process()\n"
                  "assert t.blas_threads and t.malloc, t")
    assert tuned["blas_threads"] == [1]
    assert not tuned["mmapped_1mb"]  # a 1 MB block now comes from the heap
    assert tuned["env"] == []        # through the libraries, not by writing the environment


def test_the_environment_wins():
    tuned = probe("from rnn_core.tuning import tune_process; t = tune_process()\n"
                  "assert not t.blas_threads and not t.malloc, t",
                  OPENBLAS_NUM_THREADS="2", MALLOC_MMAP_THRESHOLD_="131072")
    assert tuned["blas_threads"] == [2]
    assert tuned["mmapped_1mb"]


def test_the_cli_opts_in():
    ran = probe("import contextlib, io\nfrom rnn_core.train import main\n"
                "with contextlib.redirect_stdout(io.StringIO()):  # its last line; the probe's is JSON\n"
                "    assert main(['zen', '--steps', '2', '--quiet', '--sample-every', '0']) == 0")
    assert ran["blas_threads"] == [1] and not ran["mmapped_1mb"]


def test_the_app_opts_in():
    ran = probe("from streamlit.testing.v1 import AppTest\n"
                "from tests.apptest_support import new_app, stop_session, v2_navigation\n"
                "with v2_navigation():\n"
                "    at = new_app(); at.run(); stop_session(at)\n"
                "    assert not at.exception, at.exception\n")
    assert ran["blas_threads"] == [1] and not ran["mmapped_1mb"]
