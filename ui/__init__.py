"""The app's helpers: session state (state.py), the training worker (worker.py), pure figure
builders (charts.py), data shaping (metrics.py) and widget groups (controls.py). Pages import from
here; rnn_core never imports from here."""

import os

# One BLAS thread per process, set before numpy loads (the server imports numpy only when the first
# script run imports ui). The model's matrices are tiny: OpenBLAS's second thread buys nothing and,
# with other sessions' threads and the server on 2 cores, its spin-waits made a step 10x slower
# (measured: 60 ms instead of 6 ms for the "fast" preset under load).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
