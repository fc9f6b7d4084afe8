"""Real-browser fixtures: one Streamlit server for the whole e2e session, and fresh browser
contexts (one per simulated user) on it.

    def test_something(new_page):
        page = new_page()            # a new context (= a new browser session) on "/"
        page = new_page("/sample")   # ... or on another page

Chromium is Debian's (/usr/bin/chromium): Playwright's own download is unreachable here. A missing
browser fails the run; it never skips.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from bench.browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS, running_server, wait_for_app

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments, pointed at Debian's chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium` "
                    "(the e2e tests must not be skipped)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Base URL of one `streamlit run app.py` shared by all e2e tests (killed at the end)."""
    with running_server() as url:
        yield url


@pytest.fixture
def new_page(browser: Browser, server_url: str) -> Iterator[Callable[..., Page]]:
    """Factory: each call opens a new browser context (its own Streamlit session) on `path`,
    waits until the app has rendered, and returns the page. Contexts still open at the end of the
    test are closed (which closes their sessions and stops their workers)."""
    contexts: list[BrowserContext] = []

    def make(path: str = "/", width: int = 1400, height: int = 1000) -> Page:
        ctx = browser.new_context(viewport={"width": width, "height": height})
        ctx.set_default_timeout(TIMEOUT_MS)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(server_url + path)
        wait_for_app(page)
        return page

    yield make
    for ctx in contexts:
        with contextlib.suppress(Exception):
            ctx.close()
