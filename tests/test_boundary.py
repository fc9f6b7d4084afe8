"""Architectural boundaries that a docstring alone would not hold."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_rnn_core_imports_no_ui_library():
    code = (
        "import sys, rnn_core, rnn_core.train, rnn_core.checkpoint, rnn_core.gradcheck, "
        "rnn_core.sampling\n"
        "bad = sorted(m for m in ('streamlit', 'plotly', 'pandas', 'altair') if m in sys.modules)\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""
