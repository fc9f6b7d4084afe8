"""The architecture's rules, read from every file's imports (parsed with ast, not run):

1. rnn_core, the engine, imports nothing from ui, pages or the front-end libraries;
2. ui imports nothing from pages;
3. pages import from ui only: no rnn_core, no numpy;
4. only ui/state.py touches st.session_state;
5. no import cycles among the ui modules;
6. ui's layers (ui/__init__.py) import only from themselves and the layers before them, and the
   layers below ui.state import no Streamlit.

Each rule is a function from a project root to its violations; each is also run on a small fake
tree with a planted violation, so that every one of these tests can fail.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRONT_END = ("streamlit", "plotly", "pandas", "altair")
UI_LAYERS = ("ui.text", "ui.session", "ui.views", "ui.figures", "ui.state", "ui.widgets")
NO_STREAMLIT_LAYERS = UI_LAYERS[:4]
APP_CODE = ("app.py", "pages", "ui", "rnn_core", "bench")  # tests use AppTest's session_state


# --- reading a tree -------------------------------------------------------------------------------


def python_files(root: Path, *tops: str) -> list[Path]:
    files: list[Path] = []
    for top in tops:
        path = root / top
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [f for f in files if "__pycache__" not in f.parts]


def module_name(root: Path, path: Path) -> str:
    """ui/session/worker.py -> ui.session.worker; ui/views/__init__.py -> ui.views."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in the file, anywhere in it (functions, TYPE_CHECKING
    blocks). `from a.b import c` yields a.b and a.b.c: c may be a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(root, path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the file's package, up level - 1
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def banned_imports(root: Path, tops: tuple[str, ...], banned: tuple[str, ...]) -> list[str]:
    return [f"{f.relative_to(root)}:{line}: imports {module}"
            for f in python_files(root, *tops) for line, module in imports(root, f)
            if within(module, banned)]


# --- the rules ------------------------------------------------------------------------------------


def engine_violations(root: Path) -> list[str]:
    return banned_imports(root, ("rnn_core",), ("ui", "pages", *FRONT_END))


def ui_imports_pages(root: Path) -> list[str]:
    return banned_imports(root, ("ui",), ("pages",))


def page_violations(root: Path) -> list[str]:
    return banned_imports(root, ("pages",), ("rnn_core", "numpy"))


def session_state_violations(root: Path) -> list[str]:
    """Every use of the name session_state (st.session_state, an import of it) outside ui/state.py."""
    found = []
    for f in python_files(root, *APP_CODE):
        if f == root / "ui" / "state.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"), str(f))):
            names = ([node.attr] if isinstance(node, ast.Attribute) else
                     [node.id] if isinstance(node, ast.Name) else
                     [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else [])
            if "session_state" in names:
                found.append(f"{f.relative_to(root)}:{node.lineno}: session_state")
    return found


def ui_import_graph(root: Path) -> dict[str, set[str]]:
    """ui module -> the ui modules it imports (`from ui.views import chunk` -> ui.views.chunk)."""
    files = python_files(root, "ui")
    modules = {module_name(root, f) for f in files}
    graph: dict[str, set[str]] = {}
    for f in files:
        me = module_name(root, f)
        targets = {m for _, m in imports(root, f) if m in modules}
        # `from ui.views import chunk` names both ui.views and ui.views.chunk: keep the module.
        graph[me] = {m for m in targets if not any(t.startswith(m + ".") for t in targets)} - {me}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles, each as the modules along it (first == last); empty when there is none."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def ui_cycles(root: Path) -> list[str]:
    return [" -> ".join(c) for c in cycles(ui_import_graph(root))]


def layer_of(module: str) -> int | None:
    return next((i for i, p in enumerate(UI_LAYERS) if within(module, (p,))), None)


def layer_violations(root: Path) -> list[str]:
    found = []
    for f in python_files(root, "ui"):
        mine = layer_of(module_name(root, f))
        if mine is None:
            continue
        for line, module in imports(root, f):
            theirs = layer_of(module)
            if theirs is not None and theirs > mine:
                found.append(f"{f.relative_to(root)}:{line}: imports {module}, a later layer")
            if UI_LAYERS[mine] in NO_STREAMLIT_LAYERS and within(module, ("streamlit",)):
                found.append(f"{f.relative_to(root)}:{line}: imports {module}")
    return found


RULES = {
    "engine": engine_violations,
    "ui-pages": ui_imports_pages,
    "pages": page_violations,
    "session_state": session_state_violations,
    "cycles": ui_cycles,
    "layers": layer_violations,
}


# --- the project keeps them ----------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES)
def test_the_project_keeps_the_rule(rule: str) -> None:
    assert RULES[rule](ROOT) == []


def test_the_rules_see_the_whole_project() -> None:
    # A rule that reads no file passes vacuously: make sure each tree is there and parsed.
    assert len(python_files(ROOT, "pages")) == 6
    assert {"ui.session.worker", "ui.views.chunk", "ui.figures.inspect", "ui.widgets.sidebar",
            "ui.state", "ui.text"} <= set(ui_import_graph(ROOT))
    assert "ui.session.worker" in ui_import_graph(ROOT)["ui.state"]
    assert any(m == "rnn_core.trainer" for f in python_files(ROOT, "ui/session/worker.py")
               for _, m in imports(ROOT, f))


def test_the_layers_below_state_load_no_streamlit() -> None:
    """At run time too: importing every module of the no-Streamlit layers leaves it unloaded."""
    modules = [module_name(ROOT, f) for f in python_files(ROOT, "ui")
               if layer_of(module_name(ROOT, f)) is not None
               and UI_LAYERS[layer_of(module_name(ROOT, f))] in NO_STREAMLIT_LAYERS]
    assert len(modules) > 20
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


# --- each rule catches a planted violation ------------------------------------------------------


def plant(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


CLEAN = {
    "rnn_core/__init__.py": "",
    "rnn_core/model.py": "import math\nimport numpy as np\n",
    "ui/__init__.py": "",
    "ui/text.py": "import string\n",
    "ui/state.py": "import streamlit as st\nfrom ui.session.worker import Session\n"
                   "def get():\n    return st.session_state['k']\n",
    "ui/session/__init__.py": "",
    "ui/session/worker.py": "from rnn_core.model import forward\nfrom ui.text import visible_char\n",
    "ui/views/__init__.py": "",
    "ui/views/chunk.py": "import pandas as pd\nfrom ui.session import worker\n",
    "ui/widgets/__init__.py": "",
    "ui/widgets/sidebar.py": "import streamlit as st\nfrom ui.state import get\nfrom ui.views import chunk\n",
    "pages/train.py": "import streamlit as st\nfrom ui.widgets.sidebar import x\n",
    "app.py": "import streamlit as st\nfrom ui.state import get\n",
}

PLANTED = {  # case: (the rule that must catch it, the files that replace CLEAN's)
    "engine-front-end": ("engine", {"rnn_core/model.py": "import numpy\n\ndef f():\n    import plotly\n"}),
    "engine-ui": ("engine", {"rnn_core/model.py": "from ui.text import visible_char\n"}),
    "ui-pages": ("ui-pages", {"ui/widgets/sidebar.py": "from pages import train\n"}),
    "pages-numpy": ("pages", {"pages/train.py": "import numpy as np\n"}),
    "pages-engine": ("pages", {"pages/train.py": "from rnn_core.model import PARAM_NAMES\n"}),
    "session_state": ("session_state",
                      {"ui/widgets/sidebar.py": "import streamlit as st\nst.session_state['k'] = 1\n"}),
    "session_state-import": ("session_state", {"app.py": "from streamlit import session_state\n"}),
    "cycle": ("cycles", {"ui/session/worker.py": "from ui.views.chunk import x\n"}),
    "cycle-relative": ("cycles", {"ui/views/chunk.py": "from . import other\n",
                                  "ui/views/other.py": "from ..views.chunk import x\n"}),
    "layers": ("layers", {"ui/session/worker.py": "from ui.widgets import sidebar\n"}),
    "layers-streamlit": ("layers", {"ui/views/chunk.py": "import streamlit as st\n"}),
}


def test_a_clean_fake_tree_keeps_every_rule(tmp_path: Path) -> None:
    root = plant(tmp_path, CLEAN)
    for rule, check in RULES.items():
        assert check(root) == [], rule


@pytest.mark.parametrize("case", PLANTED)
def test_every_rule_catches_a_planted_violation(tmp_path: Path, case: str) -> None:
    rule, files = PLANTED[case]
    root = plant(tmp_path, {**CLEAN, **files})
    assert RULES[rule](root), f"{rule} missed {files}"
    others = {r for r, check in RULES.items() if r != rule and check(root)}
    assert others <= {"layers", "cycles"}  # a backward import is both; nothing else fires


def test_a_cycle_is_reported_along_its_modules(tmp_path: Path) -> None:
    root = plant(tmp_path, {**CLEAN, **PLANTED["cycle"][1]})
    assert ui_cycles(root) == ["ui.session.worker -> ui.views.chunk -> ui.session.worker"]
    relative = plant(tmp_path / "r", {**CLEAN, **PLANTED["cycle-relative"][1]})
    assert ui_cycles(relative) == ["ui.views.chunk -> ui.views.other -> ui.views.chunk"]


def test_violations_name_the_file_and_line(tmp_path: Path) -> None:
    root = plant(tmp_path, {**CLEAN, **PLANTED["engine-front-end"][1]})
    assert engine_violations(root) == ["rnn_core/model.py:4: imports plotly"]
