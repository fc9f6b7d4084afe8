"""AppTest helpers shared by the app's tests.

Streamlit keeps a v1 multipage mode for apps with a `pages/` folder beside the entry script: a
class flag, set on the first run when `pages/` exists and cleared by st.navigation. The real
server clears it once per process, but AppTest resets it before *every* run, so its second run
would execute the page script alone (no sidebar). `v2_navigation` keeps the flag off, as the
server has it after its first run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest, app_test

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


class _V2PagesManager(PagesManager):
    def __init__(self, *args, **kwargs) -> None:
        PagesManager.uses_pages_directory = False
        super().__init__(*args, **kwargs)


@contextlib.contextmanager
def v2_navigation() -> Iterator[None]:
    original = app_test.PagesManager
    app_test.PagesManager = _V2PagesManager
    try:
        yield
    finally:
        app_test.PagesManager = original


def new_app(timeout: float = 30) -> AppTest:
    return AppTest.from_file(APP, default_timeout=timeout)


def stop_session(at: AppTest) -> None:
    """AppTest never disconnects, so on_release never fires: stop the worker by hand."""
    with contextlib.suppress(KeyError):
        at.session_state["unrolled"].session.close()


def app_state_of(at: AppTest):  # -> ui.state.AppState
    """The session's AppState (what ui.state.app_state() returns inside the app)."""
    return at.session_state["unrolled"]


def status_of(at: AppTest) -> str:
    """The sidebar status line (the markdown inside the container keyed "status")."""
    return next(m.value for m in at.sidebar.markdown if "step " in m.value)


def errors_of(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def keyed_block(at: AppTest, key: str):  # -> streamlit.testing.v1.element_tree.Block | None
    """The container made with st.container(key=key), or None."""
    def walk(node):
        proto = getattr(node, "proto", None)
        if getattr(proto, "id", "").endswith(f"-{key}"):
            return node
        for child in getattr(node, "children", {}).values():
            found = walk(child)
            if found is not None:
                return found
        return None
    return walk(at._tree)


def chart_places(at: AppTest) -> list[tuple[int, ...]]:
    """Where each chart sits in the main area, as its path of child indices. Streamlit remounts an
    element whose path changes (the browser redraws it from scratch, losing its zoom and tooltips),
    so a live page's charts must keep these from one refresh to the next."""
    def walk(node, path: tuple[int, ...]) -> list[tuple[int, ...]]:
        here = [path] if getattr(node, "type", None) in ("vega_lite_chart", "plotly_chart") else []
        for i, child in getattr(node, "children", {}).items():
            here += walk(child, (*path, i))
        return here
    return walk(at.main, ())
