"""rnn_core._malloc: glibc keeps freed arrays' memory for the next step (bench/README.md, item 14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROBE = "import rnn_core, rnn_core._malloc as m; print(m.TUNED)"


def tuned(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**clean, **env},
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's")
def test_importing_rnn_core_tunes_glibc_malloc():
    assert tuned() == "True"


@pytest.mark.parametrize("var", ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"])
def test_an_explicit_malloc_setting_in_the_environment_wins(var):
    assert tuned(**{var: "131072"}) == "False"
