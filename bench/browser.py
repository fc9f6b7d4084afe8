"""A real app server and a real browser page, for the benchmark and the tests: start `streamlit run
app.py`, wait for a page to settle, click a sidebar button and time it in the page.

Used by bench/live.py and by the browser tests (tests/e2e/, tests/load/), which import it from
here: the benchmark imports nothing from tests/. Chromium is Debian's (/usr/bin/chromium), driven
by Playwright; never `playwright install`.
"""

from __future__ import annotations

import contextlib
import os
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

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync", "--mute-audio",
]
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


def status_text(page: Page) -> str:
    return page.locator(".st-key-status").inner_text()


# Keeps charts out of the layout, so the browser skips most of their drawing while the server
# still builds and sends every update: the load script's browsers share the server's cores.
HIDE_CHARTS = """
document.addEventListener('DOMContentLoaded', () => {
  const style = document.createElement('style');
  style.textContent = '[data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], ' +
                      '[data-testid="stArrowVegaLiteChart"] { display: none !important; }';
  document.head.appendChild(style);
});
"""

# In the page: click a sidebar button and time, with the page's own clock, until the status line
# contains `word`. Playwright's round trips and polling are not counted, only what a user sees.
_CLICK_LATENCY_JS = """
([key, word]) => new Promise((resolve) => {
  const status = () => (document.querySelector('.st-key-status') || {}).innerText || '';
  const t0 = performance.now();
  const done = () => { obs.disconnect(); resolve((performance.now() - t0) / 1000); };
  const obs = new MutationObserver(() => { if (status().includes(word)) done(); });
  obs.observe(document.body, {subtree: true, childList: true, characterData: true});
  document.querySelector(`.st-key-${key}[data-stale="false"] button`).click();
  setTimeout(() => { obs.disconnect(); resolve(-1); }, 15000);
})
"""


def sidebar_text(page: Page) -> str:
    return page.locator('[data-testid="stSidebar"]').inner_text()


def click_latency(page: Page, key: str, word: str) -> float:
    """Seconds from clicking the sidebar button `key` until the status says `word`."""
    seconds = page.evaluate(_CLICK_LATENCY_JS, [key, word])
    assert seconds >= 0, f"'{word}' never appeared after clicking {key}: {status_text(page)}"
    return float(seconds)


def wait_for_status(page: Page, word: str, timeout_ms: float = TIMEOUT_MS) -> None:
    expect(page.locator(".st-key-status")).to_contain_text(word, timeout=timeout_ms)
