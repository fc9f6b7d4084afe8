"""The app's helpers: session state (state.py), the training worker (worker.py), pure figure
builders (charts.py), data shaping (metrics.py) and widget groups (controls.py). Pages import from
here; rnn_core never imports from here."""

# One BLAS thread per process, set before numpy loads (the server imports numpy only when the first
# script run imports ui): rnn_core._threads says why. Under load, OpenBLAS's second thread made a
# "fast" step 10x slower (measured: 60 ms instead of 6 ms).
import rnn_core._threads  # noqa: F401
