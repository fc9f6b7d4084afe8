"""Load test: N real browser sessions (default 8) train at once on one server for a while.

    python -m tests.load.eight_sessions                 # 8 sessions x 60 s, Train page open
    python -m tests.load.eight_sessions --sessions 4 --seconds 20 --page data --json out.json

Starts `streamlit run app.py` on a free port and Debian's Chromium (one browser context per user,
so one Streamlit session and one training worker each). Every session uploads its own text (a
distinct alphabet), confirms it, opens the page chosen and presses Play. After the run it checks
that every session advanced and saw only its own text, times a click in each (Pause -> status says
"Paused", Play -> "Training", measured in the page while the others keep training), and prints a
table with the server's CPU and memory. Run it on an otherwise idle machine: the browser shares the
cores with the server, and anything else running skews the figures (the load average is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    click_latency,
    running_server,
    sidebar_text,
    wait_for_status,
)
from tests.e2e.support import go_to, step_of
from tests.load.browser_sessions import (
    ALPHABETS,
    Probe,
    corpus_name,
    open_session,
    press,
    rss_mb,
    sample_text,
    server_load,
    server_pid,
    thread_count,
    use_uploaded_corpus,
)


@dataclass
class SessionResult:
    session: int
    corpus: str
    steps: int
    steps_per_s: float
    pause_latency_s: float
    play_latency_s: float
    own_corpus_only: bool
    own_alphabet_only: bool


@dataclass
class Report:
    sessions: int
    seconds: float
    page: str
    charts_hidden: bool
    cores: int
    load_avg_before: float
    load_avg_after: float
    server_cpu_percent: float
    browser_cpu_percent: float
    rss_idle_mb: float
    rss_sessions_open_mb: float
    rss_training_peak_mb: float
    rss_after_close_mb: float
    per_session_mb: float
    server_threads_idle: int
    server_threads_training: int
    server_threads_after_close: int
    training_threads_after_close: int
    results: list[SessionResult]


def run(sessions: int, seconds: float, page_title: str, hide_charts: bool = False) -> Report:
    env = {"UNROLLED_MAX_TRAINING": str(max(sessions, 8))}
    load_before = os.getloadavg()[0]
    with running_server(env=env) as url, sync_playwright() as pw:
        pid = server_pid(int(url.rsplit(":", 1)[1]))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        warm = open_session(browser, url)  # imports, caches and the built-in corpus loaded once
        warm.context.close()
        time.sleep(2)
        rss_idle, threads_idle = rss_mb(pid), thread_count(pid)

        pages: list[Page] = []
        for i in range(sessions):
            page = open_session(browser, url, hide_charts=hide_charts)
            use_uploaded_corpus(page, i)
            if page_title != "Data":
                go_to(page, page_title)
            pages.append(page)
        rss_open = rss_mb(pid)

        for page in pages:
            press(page, "play")
            wait_for_status(page, "Training")
        start = [step_of(p) for p in pages]
        probe = Probe(pid).start()
        rss_peak, threads_training = rss_open, thread_count(pid)
        end_at = time.monotonic() + seconds
        while time.monotonic() < end_at:
            time.sleep(min(5.0, max(0.0, end_at - time.monotonic())))
            rss_peak = max(rss_peak, rss_mb(pid))
            threads_training = max(threads_training, thread_count(pid))
        wall = probe.wall
        end = [step_of(p) for p in pages]
        server_cpu, browser_cpu = probe.cpu_percent, probe.browser_cpu_percent

        results = []
        for i, page in enumerate(pages):
            sidebar = sidebar_text(page)
            others = [corpus_name(j) for j in range(sessions) if j != i]
            sample = sample_text(page) if page_title == "Train" else ""
            pause = click_latency(page, "pause", "Paused")  # the others are still training
            play = click_latency(page, "play", "Training")
            results.append(SessionResult(
                i, corpus_name(i), end[i] - start[i], round((end[i] - start[i]) / wall, 1),
                round(pause, 3), round(play, 3),
                corpus_name(i) in sidebar and not any(o in sidebar for o in others),
                not (set(sample) - set(ALPHABETS[i]) - {" ", "\n"})))
        for page in pages:
            press(page, "pause")
        for page in pages:
            page.context.close()
        time.sleep(5)
        observer = open_session(browser, url)
        training_threads = server_load(observer).workers
        observer.context.close()
        time.sleep(2)
        rss_closed, threads_closed = rss_mb(pid), thread_count(pid)
        browser.close()
    return Report(
        sessions, round(wall, 1), page_title, hide_charts, os.cpu_count() or 0, round(load_before, 2),
        round(os.getloadavg()[0], 2), round(server_cpu, 1), round(browser_cpu, 1), round(rss_idle, 1),
        round(rss_open, 1), round(rss_peak, 1), round(rss_closed, 1),
        round((rss_peak - rss_idle) / sessions, 1), threads_idle, threads_training, threads_closed,
        training_threads, results)


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def print_report(r: Report) -> None:
    say(f"\n{r.sessions} sessions x {r.seconds:.0f} s on the {r.page} page"
        f"{' (charts hidden in the browsers)' if r.charts_hidden else ''}, {r.cores} cores, "
          f"load average {r.load_avg_before} before / {r.load_avg_after} after")
    say(f"{'session':>7}  {'corpus':<15}{'steps':>8}{'steps/s':>9}{'pause s':>9}{'play s':>8}"
          f"  own corpus  own alphabet")
    for s in r.results:
        say(f"{s.session:>7}  {s.corpus:<15}{s.steps:>8}{s.steps_per_s:>9}{s.pause_latency_s:>9}"
              f"{s.play_latency_s:>8}  {'yes' if s.own_corpus_only else 'NO':<10}  "
              f"{'yes' if s.own_alphabet_only else 'NO'}")
    lat = [x for s in r.results for x in (s.pause_latency_s, s.play_latency_s)]
    say(f"click latency: median {statistics.median(lat):.2f} s, worst {max(lat):.2f} s")
    say(f"server CPU {r.server_cpu_percent:.0f} % (100 % = one core), browser CPU "
          f"{r.browser_cpu_percent:.0f} %")
    say(f"server RSS: idle {r.rss_idle_mb:.0f} MB, sessions open {r.rss_sessions_open_mb:.0f} MB, "
          f"training peak {r.rss_training_peak_mb:.0f} MB, 7 s after closing {r.rss_after_close_mb:.0f} "
          f"MB; {r.per_session_mb:.1f} MB per session")
    say(f"server OS threads: idle {r.server_threads_idle}, training {r.server_threads_training}, "
          f"after close {r.server_threads_after_close}; training threads after close "
          f"{r.training_threads_after_close}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--page", default="Train", choices=["Train", "Data", "Inspect", "Sample"])
    parser.add_argument("--hide-charts", action="store_true",
                        help="hide charts in the browsers (the server still sends them): on a "
                             "2-core box the 8 browsers' chart drawing otherwise starves the server")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= len(ALPHABETS):
        parser.error(f"--sessions must be 1..{len(ALPHABETS)}")
    if os.getloadavg()[0] > 1.0:
        sys.stderr.write(f"warning: load average {os.getloadavg()[0]:.1f}: the machine is busy, "
                         "figures will be pessimistic\n")
    report = run(args.sessions, args.seconds, args.page, args.hide_charts)
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(asdict(report), indent=1))
    ok = all(s.steps > 0 and s.own_corpus_only and s.own_alphabet_only for s in report.results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
