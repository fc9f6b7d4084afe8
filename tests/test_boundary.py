"""Architectural boundaries that a docstring alone would not hold."""

import ast
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


def imported_modules(path: Path) -> set[str]:
    """Every module an `import` or `from ... import` in the file names, at any depth."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


def test_the_benchmark_imports_nothing_from_tests():
    imports = {path.name: imported_modules(path) for path in (ROOT / "bench").glob("*.py")}
    assert "bench.browser" in imports["live.py"]  # the reader sees imports inside functions too
    for name, modules in imports.items():
        bad = sorted(m for m in modules if m == "tests" or m.startswith("tests."))
        assert not bad, f"bench/{name} imports {bad}: move what it needs out of tests/"
