"""Measure the app in a real browser: time to recognisable words, click latency, server CPU per
refresh. Not a test (timings on a shared machine make poor assertions); run it by hand:

    python -m tests.e2e.measure             # every figure, once
    python -m tests.e2e.measure --words 5   # time to words only, 5 fresh sessions, 1920×1080

It starts its own server and prints one line per figure.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from bench.browser import CHROMIUM, CHROMIUM_ARGS, server_process, status_text, wait_for_app
from rnn_core.corpus import DEFAULT_CORPUS, load_builtin
from tests.e2e.support import step_of

WORD_MIN_COUNT = 20  # a "word" is a lowercase token seen at least this often in the corpus


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def dictionary() -> set[str]:
    counts = Counter(re.findall(r"[a-z]+", load_builtin(DEFAULT_CORPUS).text))
    return {w for w, n in counts.items() if n >= WORD_MIN_COUNT and len(w) >= 3}


def recognisable(sample: str, words: set[str]) -> tuple[int, float]:
    """(distinct dictionary words of 3+ letters, share of alphabetic tokens that are words)."""
    tokens = re.findall(r"[a-z]+", sample.lower())
    hits = [t for t in tokens if t in words]
    return len(set(hits)), len(hits) / max(len(tokens), 1)


def time_to_words(page: Page, words: set[str], limit_s: float = 90) -> tuple[float, int, str]:
    page.locator(".st-key-play button").first.click()
    t0 = time.perf_counter()
    sample = page.locator(".st-key-periodic_sample code")
    last = ""
    while time.perf_counter() - t0 < limit_s:
        if sample.count():
            text = sample.first.inner_text()
            if text != last:
                last = text
                distinct, share = recognisable(text, words)
                if distinct >= 5 and share >= 0.3:
                    return time.perf_counter() - t0, step_of(page), text
        time.sleep(0.25)
    return float("nan"), step_of(page), last


def click_latencies(page: Page, n: int = 10) -> list[float]:
    """Pause/Play alternately while training; seconds from click to the status text changing."""
    out = []
    for i in range(n):
        name, word = ("Pause", "Paused") if i % 2 == 0 else ("Play", "Training")
        time.sleep(1.0)
        t0 = time.perf_counter()
        page.locator(f".st-key-{name.lower()} button").first.click()  # its name also has its key
        expect(page.locator(".st-key-status")).to_contain_text(word, timeout=10_000)
        out.append(time.perf_counter() - t0)
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_refresh(page: Page, pid: int, seconds: float = 15) -> tuple[float, float]:
    """(server CPU seconds per training step, per Train-page refresh).

    The worker trains inside the server process, so server CPU = a * steps + b * refreshes; two
    windows with different refresh intervals (0.5 s and 5 s) give two equations for a and b."""
    rows = []
    for label, interval in (("0.5 s", 0.5), ("5 s", 5.0)):
        set_refresh(page, label)
        time.sleep(2)
        c0, s0, t0 = cpu_seconds(pid), step_of(page), time.perf_counter()
        time.sleep(seconds)
        t1 = time.perf_counter()
        rows.append((cpu_seconds(pid) - c0, step_of(page) - s0, (t1 - t0) / interval))
    (c1, s1, r1), (c2, s2, r2) = rows
    per_refresh = (c1 - c2 * s1 / s2) / (r1 - r2 * s1 / s2)
    return (c2 - per_refresh * r2) / s2, per_refresh


def set_refresh(page: Page, label: str) -> None:
    slider = page.locator(".st-key-refresh_s input[type=range]")
    slider.focus()
    target = ["0.5 s", "1 s", "2 s", "5 s"].index(label)
    for _ in range(4):
        slider.press("ArrowLeft")
    for _ in range(target):
        slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", label, timeout=5_000)
    wait_for_app(page)


def words_runs(runs: int) -> None:
    """Time to words `runs` times, each in a fresh session (a new model) at 1920×1080."""
    words = dictionary()
    with server_process() as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        times = []
        for i in range(runs):
            context = browser.new_context(viewport={"width": 1920, "height": 1080})
            page = context.new_page()
            page.goto(url)
            wait_for_app(page)
            time.sleep(2)  # settled, as a speaker's page is before Play
            seconds, step, text = time_to_words(page, words)
            times.append(seconds)
            say(f"run {i + 1}: words {seconds:.1f} s after Play (step {step}): "
                + " ".join(text.split())[:100])
            context.close()
        say(f"time to recognisable words: median {statistics.median(times):.1f} s over {runs} runs "
            f"({', '.join(f'{t:.1f}' for t in times)})")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", type=int, metavar="N",
                        help="only the time to words, over N fresh sessions at 1920x1080")
    args = parser.parse_args()
    if args.words:
        words_runs(args.words)
        return
    words = dictionary()
    with server_process() as (url, proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(url)
        wait_for_app(page)
        seconds, step, text = time_to_words(page, words)
        say(f"time to recognisable words: {seconds:.1f} s after Play (step {step})")
        say("  sample: " + " ".join(text.split())[:160])
        lat = click_latencies(page)
        say(f"click -> status change: median {statistics.median(lat):.2f} s, "
              f"max {max(lat):.2f} s over {len(lat)} clicks ({', '.join(f'{x:.2f}' for x in lat)})")
        time.sleep(5)  # the last click was Play
        s0 = step_of(page)
        time.sleep(10)
        say(f"training while the Train page refreshes every 1 s: {(step_of(page) - s0) / 10:.0f} steps/s "
              f"(wall clock); status: {status_text(page)!r}")
        per_step, per_refresh = cpu_per_refresh(page, proc.pid)
        say(f"server CPU: {per_step * 1000:.1f} ms per training step, {per_refresh * 1000:.0f} ms per "
            "Train-page refresh (status line and live charts)")
        browser.close()


if __name__ == "__main__":
    main()
