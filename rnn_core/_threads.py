"""One BLAS thread, unless the environment says otherwise; imported by rnn_core before NumPy.

At these sizes (100 x 100 matrices, at most 800 x 100 x 103 products) a second OpenBLAS thread is
no faster on an idle machine and much slower when the other core is busy: it spin-waits for a
partner thread that has been descheduled (bench/README.md has the measurements). The variables
only take effect when set before NumPy loads, so this module comes first in rnn_core/__init__.py
(the CLI, the benchmark and scripts import rnn_core first; ui/__init__.py does the same for the
app). A process that loaded NumPy earlier keeps the thread count it started with.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
