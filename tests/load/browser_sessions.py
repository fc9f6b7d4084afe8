"""Driving many real browser sessions against one server, and measuring the server while they run.

Shared by the load script (tests/load/eight_sessions.py) and the e2e tests
(tests/e2e/test_many_sessions.py). Each simulated user is its own Playwright browser context, so
its own Streamlit session (websocket) and its own training worker on the server.
"""

from __future__ import annotations

import os
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from playwright.sync_api import Browser, Page, expect

from bench.browser import HIDE_CHARTS, TIMEOUT_MS, wait_for_app

# Disjoint alphabets: session i's text, and so its model's samples, use only ALPHABETS[i] (plus
# space and newline), so a character from another alphabet on a page means sessions mixed.
ALPHABETS = ["abcdefghij", "klmnopqrst", "ABCDEFGHIJ", "KLMNOPQRST",
             "αβγδεζηθικ", "абвгдежзий", "0123456789", "աբգդեզէըթժ"]

# Records the page's websockets, so a test can drop the connection the way a network would.
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = function (...args) {
    const s = new Native(...args); window.__sockets.push(s); return s;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();
"""

def corpus_text(i: int, chars: int = 20_000) -> str:
    """A learnable text over ALPHABETS[i]: 40 fixed 'words' in random order, in lines."""
    rng = random.Random(i)
    letters = ALPHABETS[i]
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(2, 7))) for _ in range(40)]
    out: list[str] = []
    n = 0
    while n < chars:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(4, 12)))
        out.append(line)
        n += len(line) + 1
    return "\n".join(out) + "\n"


def corpus_name(i: int) -> str:
    return f"session-{i}.txt"


def open_session(browser: Browser, url: str, path: str = "/data", track_sockets: bool = False,
                 height: int = 1000, hide_charts: bool = False) -> Page:
    ctx = browser.new_context(viewport={"width": 1400, "height": height})
    ctx.set_default_timeout(TIMEOUT_MS)
    if track_sockets:
        ctx.add_init_script(TRACK_SOCKETS)
    if hide_charts:
        ctx.add_init_script(HIDE_CHARTS)
    page = ctx.new_page()
    page.goto(url + path)
    wait_for_app(page)
    return page


def use_uploaded_corpus(page: Page, i: int) -> None:
    """On the Data page: upload session i's text and confirm it (a new model on it)."""
    page.locator(".st-key-corpus_upload input[type=file]").set_input_files(
        files=[{"name": corpus_name(i), "mimeType": "text/plain",
                "buffer": corpus_text(i).encode("utf-8")}])
    press(page, "confirm_corpus")
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(corpus_name(i))
    wait_for_app(page)


def press(page: Page, key: str) -> None:
    """Click the button keyed `key` (the current one: a rerun can briefly leave a stale copy)."""
    page.locator(f'.st-key-{key}[data-stale="false"] button').first.click()


def sample_text(page: Page) -> str:
    """The Train page's periodic sample ('' before the first one)."""
    code = page.locator(".st-key-periodic_sample code")
    return code.first.inner_text() if code.count() else ""


class ServerLoad(NamedTuple):
    """The sidebar's server line, as of the page's last rerun."""
    training: int  # sessions training
    workers: int   # training threads alive
    sessions: int  # sessions in memory
    threads: int   # Python threads in the server process
    pooled: int    # ... of which Streamlit's reusable pool threads

    @property
    def unpooled(self) -> int:
        """Main, script runs, training and gc: what must go back to baseline as sessions close."""
        return self.threads - self.pooled


def server_load(page: Page) -> ServerLoad:
    text = page.locator(".st-key-server_status").text_content() or ""  # in a closed expander
    m = re.search(r"(\d+) of \d+ training slots in use · worker threads: (\d+) · "
                  r"sessions in memory: (\d+) · threads: (\d+) \((\d+) pooled\)", text)
    assert m, text
    return ServerLoad(*(int(g) for g in m.groups()))


def drop_connection(page: Page) -> None:
    """Close the page's websocket(s), as a network drop would (needs track_sockets=True)."""
    page.evaluate("window.__sockets.forEach((s) => s.close())")


# --- the server process, from /proc (psutil is not a dependency) ---------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def server_pid(port: int) -> int:
    """The `streamlit run` process listening on `port` (found by its command line)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"streamlit" in b" ".join(argv) and str(port).encode() in argv:
            return int(entry.name)
    raise LookupError(f"no streamlit process for port {port}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE / 2**20


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def chromium_cpu_seconds() -> float:
    """CPU time of every chromium process on the machine (the simulated users' browser)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"chromium" not in (entry / "cmdline").read_bytes():
                continue
            total += cpu_seconds(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return total


@dataclass
class Probe:
    """CPU and wall time of a process between start() and the property reads."""

    pid: int
    t0: float = 0.0
    cpu0: float = 0.0
    browser0: float = 0.0

    def start(self) -> Probe:
        self.t0, self.cpu0, self.browser0 = time.monotonic(), cpu_seconds(self.pid), chromium_cpu_seconds()
        return self

    @property
    def wall(self) -> float:
        return time.monotonic() - self.t0

    @property
    def cpu_percent(self) -> float:
        """Server CPU over the window; 100 = one core busy."""
        return 100 * (cpu_seconds(self.pid) - self.cpu0) / max(self.wall, 1e-9)

    @property
    def browser_cpu_percent(self) -> float:
        return 100 * (chromium_cpu_seconds() - self.browser0) / max(self.wall, 1e-9)
