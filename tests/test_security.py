"""Security basics: the app opens no file path a user could influence (uploads stay in memory),
never pickles, keeps Streamlit's XSRF protection on, and shows user text as text (no HTML, no
markdown) wherever it appears.

The source scans read the app's code (app.py, pages/, ui/) with `ast`, so they also hold for code
added later: a new page that opens a path or renders HTML from a variable fails here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
APP_SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").rglob("*.py")])
# Builders of HTML that escape every character of the text they are given (each one's test feeds
# it markup: tests/test_inspect_data.py); st.html may show what they return.
ESCAPING_BUILDERS = {"sample_html", "timeline_html"}

# Calls that read or write the file system (by name or method name).
FILE_FUNCS = {"open"}
FILE_METHODS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "fromfile",
                "tofile", "loadtxt", "genfromtxt", "savetxt", "read_csv", "read_json", "read_parquet",
                "to_csv_file", "urlopen", "unlink", "rmtree"}
# Module functions that take a path: np.load / np.save, checkpoint.load / save, pickle.*.
PATH_MODULE_FUNCS = {("np", "load"), ("numpy", "load"), ("np", "save"), ("np", "savez"),
                     ("checkpoint", "load"), ("checkpoint", "save"), ("pickle", "load"),
                     ("pickle", "loads"), ("os", "open"), ("io", "open"), ("shutil", "copy")}


def _trees() -> Iterator[tuple[Path, ast.Module]]:
    for path in APP_SOURCES:
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(ROOT)}:{node.lineno}"  # type: ignore[attr-defined]


def _only_constants(node: ast.Call) -> bool:
    """Arguments built from literals, __file__ and UPPER_CASE module constants only: a path the
    code chose, not one a user could have supplied."""
    names = {n.id for arg in [*node.args, *(k.value for k in node.keywords)] for n in ast.walk(arg)
             if isinstance(n, ast.Name)}
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    if receiver is not None:
        names |= {n.id for n in ast.walk(receiver) if isinstance(n, ast.Name)}
    return all(n in {"__file__", "Path"} or n.isupper() for n in names)


def test_sources_are_found() -> None:
    assert ROOT / "app.py" in APP_SOURCES and len(APP_SOURCES) >= 8


def _file_access(tree: ast.AST) -> list[ast.Call]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        hit = ((isinstance(f, ast.Name) and f.id in FILE_FUNCS)
               or (isinstance(f, ast.Attribute) and f.attr in FILE_METHODS)
               or (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                   and (f.value.id, f.attr) in PATH_MODULE_FUNCS))
        if hit and not _only_constants(node):
            found.append(node)
    return found


def test_no_file_is_opened_from_a_path_a_user_could_influence() -> None:
    found = [f"{_where(path, node)}: {ast.unparse(node)[:80]}"
             for path, tree in _trees() for node in _file_access(tree)]
    assert not found, "file access from a variable path (uploads must stay in memory):\n" + "\n".join(found)


def test_nothing_is_unpickled() -> None:
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(m.split(".")[0] in {"pickle", "dill", "cloudpickle", "joblib", "shelve"}
                       for m in mods):
                    found.append(_where(path, node))
            if (isinstance(node, ast.keyword) and node.arg == "allow_pickle"
                    and not (isinstance(node.value, ast.Constant) and node.value.value is False)):
                found.append(f"{path.relative_to(ROOT)}: allow_pickle={ast.unparse(node.value)}")
    assert not found, found


def _escaped(node: ast.AST) -> bool:
    """True when every dynamic part of an HTML string goes through html.escape."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call):
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        return name == "escape" or name in ESCAPING_BUILDERS
    if isinstance(node, ast.JoinedStr):
        return all(_escaped(v.value) if isinstance(v, ast.FormattedValue) else True
                   for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _escaped(node.left) and _escaped(node.right)
    return False


def _unsafe_html(tree: ast.AST) -> list[ast.Call]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        unsafe = any(k.arg == "unsafe_allow_html" and not (
            isinstance(k.value, ast.Constant) and k.value.value is False) for k in node.keywords)
        raw_html = isinstance(f, ast.Attribute) and f.attr == "html"  # st.html, components.html
        if unsafe or raw_html:
            body = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg in ("body", "html")), None)
            if body is None or not _escaped(body):
                found.append(node)
    return found


def test_html_is_rendered_only_from_escaped_text() -> None:
    found = [f"{_where(path, node)}: {ast.unparse(node)[:80]}"
             for path, tree in _trees() for node in _unsafe_html(tree)]
    assert not found, "HTML from unescaped text:\n" + "\n".join(found)


@pytest.mark.parametrize(("source", "bad"), [
    ("open(upload.name)", True),
    ("Path(name).read_text()", True),
    ("np.load(path, allow_pickle=False)", True),
    ("checkpoint.save(trainer, target)", True),
    ("(Path(__file__).parent / 'README.md').read_text()", False),
    ("open(HELP_FILE)", False),
    # Even from memory: the app parses files only through rnn_core (checkpoint.from_bytes,
    # corpus_from_bytes), which validate them.
    ("np.load(io.BytesIO(raw))", True),
])
def test_file_access_scanner(source: str, bad: bool) -> None:
    assert bool(_file_access(ast.parse(source))) == bad


@pytest.mark.parametrize(("source", "bad"), [
    ("st.markdown(f'<b>{name}</b>', unsafe_allow_html=True)", True),
    ("st.html(user_text)", True),
    ("st.markdown(f'<b>{html.escape(name)}</b>', unsafe_allow_html=True)", False),
    ("st.markdown('<hr>', unsafe_allow_html=True)", False),
    ("st.markdown(name, unsafe_allow_html=False)", False),
])
def test_unsafe_html_scanner(source: str, bad: bool) -> None:
    assert bool(_unsafe_html(ast.parse(source))) == bad


def test_xsrf_protection_is_not_disabled_in_the_project_config() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server = config.get("server", {})
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True


def test_xsrf_protection_is_on_in_the_effective_config() -> None:
    # A fresh interpreter in the project folder reads the config as `streamlit run` does
    # (project and user config.toml files, STREAMLIT_* environment variables).
    code = ("from streamlit import config; config.get_config_options(force_reparse=True); "
            "print(config.get_option('server.enableXsrfProtection'), "
            "config.get_option('server.enableCORS'), config.get_option('server.maxUploadSize'), "
            "config.get_option('runner.postScriptGC'))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=60, check=True).stdout.split()
    assert out[:2] == ["True", "True"], out
    assert 1 <= int(out[2]) <= 50  # the server-wide upload cap stays small
    # Not security, but the same file: a gc.collect(2) after every script run took half the
    # server's time with 8 live sessions (docs/LIMITS.md); ui.session.server collects every 30 s instead.
    assert out[3] == "False", out


# --- user text in the page ------------------------------------------------------------------------

HTML_NAME = "<b>x</b>.txt"
HTML_TEXT = b"# Title <script>alert(1)</script>\n*bold* [link](javascript:alert(2)) $x$ :red[red]\n"
RAW = ("<b>", "</b>", "<script", "](javascript", "*bold*", ":red[")


def _markdown_bodies(at: AppTest) -> list[str]:
    """The source text of every element the browser renders as markdown."""
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "error", "warning", "info",
                 "success", "exception", "toast"):
        out += [str(e.value) for e in at.get(kind)]
    for kind in ("metric", "button", "expandable", "tab", "selectbox", "file_uploader"):
        out += [str(getattr(e, "label", "") or "") for e in at.get(kind)]
    return out


def _assert_shown_as_text(at: AppTest) -> None:
    for body in _markdown_bodies(at):
        assert not any(r in body for r in RAW), f"user text rendered as markup: {body!r}"
        assert not any(line.lstrip().startswith("# Title") for line in body.splitlines()), body


def test_uploaded_file_name_and_text_are_shown_as_text(app: AppTest) -> None:
    app.switch_page("pages/data.py").run()
    app.file_uploader(key="corpus_upload").set_value((HTML_NAME, HTML_TEXT, "text/plain")).run()
    assert not app.exception
    _assert_shown_as_text(app)
    codes = " ".join(c.value for c in app.code)
    assert "<script>alert(1)</script>" in codes  # the preview shows the text, literally
    app.button(key="confirm_corpus").click().run()
    assert not app.exception
    assert app.session_state["unrolled"].corpus.name == HTML_NAME
    _assert_shown_as_text(app)
    for page in ("pages/train.py", "pages/inspect.py", "pages/sample.py", "pages/compare.py"):
        app.switch_page(page).run()
        assert not app.exception, page
        _assert_shown_as_text(app)
    # The Compare page's runs read that text, and its caption names it (as text, checked above).
    assert app.session_state["unrolled"].session.comparison.corpus.name == HTML_NAME
    assert any(c.value.startswith("Text: **") for c in app.caption)


@pytest.mark.parametrize("content", [HTML_TEXT, b"PK\x03\x04" + HTML_TEXT])
def test_refused_model_upload_with_markup_in_its_name_is_shown_as_text(app: AppTest,
                                                                       content: bytes) -> None:
    app.file_uploader(key="model_upload").set_value(("<b>x</b>.npz", content, "x")).run()
    assert not app.exception
    assert any("not loaded" in e.value for e in app.error)
    _assert_shown_as_text(app)
