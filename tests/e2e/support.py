"""Helpers for the real-browser tests: start the app's server, wait for a page to settle.

Shared by every e2e test module (the fixtures in conftest.py use them); a test that needs a server
of its own (the first-load test) calls `running_server()` directly.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--mute-audio",
]
SCREENSHOTS = ROOT / "assets" / "screenshots"
TIMEOUT_MS = 30_000  # 2 cores shared by server and browser: generous, but failures stay quick


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
            return r.read() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def running_server(env: dict[str, str] | None = None) -> Iterator[str]:
    """`streamlit run app.py` on a free port in its own process group; yields the base URL and
    kills the whole group afterwards. The server's log is printed if it fails to start."""
    with server_process(env) as (url, _):
        yield url


@contextlib.contextmanager
def server_process(env: dict[str, str] | None = None) -> Iterator[tuple[str, subprocess.Popen]]:
    """As running_server, yielding (url, process) for measurements of the server itself."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="unrolled-server-", suffix=".log", delete=False)  # noqa: SIM115
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env={**os.environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start:\n{Path(log.name).read_text()[-3000:]}")
            if _healthy(url):
                break
            time.sleep(0.2)
        yield url, proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
        log.close()
        os.unlink(log.name)


def wait_for_app(page: Page, timeout: float = TIMEOUT_MS) -> None:
    """Until the script run has finished and the sidebar status is drawn."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=timeout)
    page.locator(".st-key-status").wait_for(timeout=timeout)


def wait_for_render(page: Page, timeout: float = TIMEOUT_MS) -> None:
    """Until lazily loaded widgets and charts have replaced their grey placeholders (for
    screenshots: wait_for_app only waits for the script run)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')",
                           timeout=timeout)


def nav_labels(page: Page) -> list[str]:
    """The page titles in the sidebar navigation, top to bottom."""
    links = page.locator('[data-testid="stSidebarNavLink"] span[label]')
    return [links.nth(i).get_attribute("label") or "" for i in range(links.count())]


def status_text(page: Page) -> str:
    return page.locator(".st-key-status").inner_text()


def step_of(page: Page) -> int:
    """The step counter from the sidebar status ('Training · step 1,234 · ...')."""
    m = re.search(r"step ([\d,]+)", status_text(page))
    assert m, status_text(page)
    return int(m.group(1).replace(",", ""))


def wait_for_step(page: Page, at_least: int, timeout: float = 30) -> int:
    """Until the status line's step reaches `at_least`; returns the step seen."""
    deadline = time.monotonic() + timeout
    while (step := step_of(page)) < at_least:
        assert time.monotonic() < deadline, f"stuck at step {step}: {status_text(page)}"
        time.sleep(0.25)
    return step


def go_to(page: Page, title: str) -> None:
    """Open a page from the sidebar navigation and wait until it has drawn."""
    page.get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    wait_for_app(page)


def assert_no_exception(page: Page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
