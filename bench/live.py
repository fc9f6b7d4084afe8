"""Live app overhead (issue 6, goal 4): training in the app, with the Train page refreshing every
second in a real browser, against the same training headless; and click latency meanwhile.

    python bench/live.py                 # 4 paired rounds of 15 s + 10 clicks, about 4 minutes
    python -m bench.live --rounds 6 --seconds 20 --clicks 12

One run, side by side:

* starts `streamlit run app.py` (bench/browser.py) and Debian's Chromium (Playwright, never
  `playwright install`), opens the Train page (the default page: default preset, default built-in
  corpus, charts drawn, "Refresh every" at its default) and presses Play;
* paired rounds, the order alternating: the app trains for `--seconds` while the page refreshes
  (its steps/s read from the sidebar status line, timestamped in the page by a MutationObserver),
  then the app is paused (Pause, the page stays open) and a separate process runs a plain
  `Trainer.step()` loop on the same configuration (PRESETS[DEFAULT_PRESET], DEFAULT_CORPUS, same
  val_every) for the same time. The ratio live / headless is per round; the table gives medians;
* alongside, per live window: the fraction of wall time the worker spent inside Trainer steps (the
  Train page's "Compute alone" caption: steps / training seconds), the server's CPU split into the
  training thread and the rest (per-thread /proc counters), and our Chromium's CPU;
* then click latency while training with the page refreshing: Pause until the status says
  "Paused", Play until it says "Training", timed in the page (bench/browser.py).

Prints a table and writes bench/results/live-<time>.json. Not a test: nothing here asserts a time.
The machine may be shared; the load average is printed before and after and the rounds are paired.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_CLK_TCK = os.sysconf("SC_CLK_TCK")

# Records, with the page's clock, every change of the sidebar status line (step counter) and of the
# Train page's live view (its Step metric and "Compute alone: N steps/s of training time" caption).
_OBSERVE_JS = """
() => {
  if (window.__status) return;
  window.__status = []; window.__live = [];
  let lastStatus = '', lastLive = '';
  const step = (text) => {
    const m = /step ([\\d,]+)/.exec(text);
    return m ? +m[1].replace(/,/g, '') : null;
  };
  const check = () => {
    const t = performance.now();
    const s = (document.querySelector('.st-key-status') || {}).textContent || '';
    if (s !== lastStatus) {
      lastStatus = s;
      const n = step(s);
      if (n !== null) window.__status.push([t, n, s.includes('Training')]);
    }
    let metric = null, compute = null;
    for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
      const label = (m.querySelector('[data-testid="stMetricLabel"]') || {}).textContent || '';
      if (label.trim() === 'Step') {
        const value = m.querySelector('[data-testid="stMetricValue"]');
        metric = +((value || {}).textContent || '').replace(/,/g, '');
      }
    }
    for (const c of document.querySelectorAll('[data-testid="stCaptionContainer"]')) {
      const mm = /Compute alone: ([\\d,.]+) steps\\/s/.exec(c.textContent || '');
      if (mm) compute = +mm[1].replace(/,/g, '');
    }
    const key = metric + '|' + compute;
    if (metric !== null && compute !== null && key !== lastLive) {
      lastLive = key;
      window.__live.push([t, metric, compute]);
    }
  };
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, characterData: true});
}
"""


# --- the headless contender: a plain Trainer.step() loop in its own process ----------------------


def headless_worker() -> None:
    """Answers {"run": seconds} with {"steps", "chars", "wall", "cpu"} (stdin/stdout JSON lines)."""
    from rnn_core.config import DEFAULT_PRESET, PRESETS
    from rnn_core.corpus import DEFAULT_CORPUS, load_builtin
    from rnn_core.trainer import Trainer

    trainer = Trainer(load_builtin(DEFAULT_CORPUS), PRESETS[DEFAULT_PRESET])
    print(json.dumps({"ready": True, "config": repr(trainer.config), "corpus": DEFAULT_CORPUS}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if "quit" in cmd:
            break
        s0, c0 = trainer.step_count, trainer.chars_seen
        w0, p0 = time.perf_counter(), time.process_time()
        end = w0 + float(cmd["run"])
        while time.perf_counter() < end:
            trainer.step()
        print(json.dumps({"steps": trainer.step_count - s0, "chars": trainer.chars_seen - c0,
                          "wall": time.perf_counter() - w0, "cpu": time.process_time() - p0}),
              flush=True)


# --- /proc: the server's threads, our browser's processes ----------------------------------------


def _ticks(stat_path: Path) -> int:
    fields = stat_path.read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each thread of the process."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(task.name)] = _ticks(task / "stat") / _CLK_TCK
        except (OSError, ValueError, IndexError):
            continue
    return out


def process_cpu(pid: int) -> float:
    """CPU seconds of the whole process, exited threads included."""
    return _ticks(Path(f"/proc/{pid}/stat")) / _CLK_TCK


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def browser_cpu() -> float:
    """CPU seconds of the chromium processes this process started (through Playwright's driver);
    other chromium on a shared machine is not counted."""
    kids, total, todo = _children(), 0.0, [os.getpid()]
    while todo:
        pid = todo.pop()
        for k in kids.get(pid, []):
            todo.append(k)
            try:
                if b"chromium" in Path(f"/proc/{k}/cmdline").read_bytes():
                    total += _ticks(Path(f"/proc/{k}/stat")) / _CLK_TCK
            except OSError:
                continue
    return total


# --- the live side -------------------------------------------------------------------------------


def _window(obs: list, t0: float, t1: float) -> list:
    return [o for o in obs if t0 <= o[0] <= t1]


def live_window(page, pid: int, seconds: float) -> dict:
    """Train `seconds` with the page refreshing; the rate from the status line's timestamps."""
    threads0, proc0, browser0 = thread_cpu(pid), process_cpu(pid), browser_cpu()
    t0 = page.evaluate("performance.now()")
    w0 = time.monotonic()
    time.sleep(seconds)
    t1 = page.evaluate("performance.now()")
    wall = time.monotonic() - w0
    threads1, proc1, browser1 = thread_cpu(pid), process_cpu(pid), browser_cpu()
    status = _window(page.evaluate("window.__status"), t0, t1)
    live = _window(page.evaluate("window.__live"), t0, t1)
    assert len(status) >= 3 and all(s[2] for s in status), status
    (ta, sa, _), (tb, sb, _) = status[0], status[-1]
    steps_per_s = (sb - sa) / ((tb - ta) / 1000)
    # The busiest thread is the session's training thread; the rest of the server is the process's
    # total minus it (script runs use short-lived threads whose time only the process total keeps).
    worker_cpu = max(threads1.get(k, 0.0) - v for k, v in threads0.items())
    rest_cpu = (proc1 - proc0) - worker_cpu
    out = {"steps_per_s": steps_per_s, "span_s": (tb - ta) / 1000, "status_updates": len(status),
           "worker_thread_cpu_pct": 100 * worker_cpu / wall, "server_other_cpu_pct": 100 * rest_cpu / wall,
           "browser_cpu_pct": 100 * (browser1 - browser0) / wall}
    if len(live) >= 2:  # training seconds = step / (steps per training second), both cumulative
        (ua, ma, ca), (ub, mb, cb) = live[0], live[-1]
        if ca > 0 and cb > 0:
            train = mb / cb - ma / ca
            out["train_fraction"] = train / ((ub - ua) / 1000)
            out["compute_steps_per_s"] = (mb - ma) / train if train > 0 else None
    return out


def refresh_setting(page) -> str:
    slider = page.locator(".st-key-refresh_s input[type=range]").first
    return slider.get_attribute("aria-valuetext") or "?"


def set_refresh(page, label: str) -> None:
    """Move the "Refresh every" slider to `label` (for diagnosis runs; the default is left alone)."""
    slider = page.locator(".st-key-refresh_s input[type=range]").first
    slider.focus()
    for _ in range(4):
        slider.press("ArrowLeft")
    for _ in range(["0.5 s", "1 s", "2 s", "5 s"].index(label)):
        slider.press("ArrowRight")
    page.wait_for_function("(l) => document.querySelector('.st-key-refresh_s input[type=range]')"
                           ".getAttribute('aria-valuetext') === l", arg=label)


def run(rounds: int, seconds: float, clicks: int, settle: float, refresh: str | None = None,
        hide_charts: bool = False) -> dict:
    from playwright.sync_api import sync_playwright

    from bench.browser import (
        CHROMIUM,
        CHROMIUM_ARGS,
        HIDE_CHARTS,
        click_latency,
        server_process,
        sidebar_text,
        wait_for_app,
        wait_for_render,
        wait_for_status,
    )
    from bench.run import JsonProcess
    from rnn_core.config import DEFAULT_PRESET, PRESETS

    chars_per_step = PRESETS[DEFAULT_PRESET].batch * PRESETS[DEFAULT_PRESET].seq_len
    load_before = os.getloadavg()
    report: dict = {"machine": {"cpus": os.cpu_count(), "loadavg_before": load_before},
                    "rounds": [], "clicks_in_rounds": [], "clicks": []}
    headless = JsonProcess([sys.executable, "-m", "bench.live", "--headless-worker"],
                           name="headless worker")
    try:
        with server_process() as (url, proc), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            if hide_charts:
                page.add_init_script(HIDE_CHARTS)
            page.goto(url)
            wait_for_app(page)
            wait_for_render(page)
            if refresh:
                set_refresh(page, refresh)
                wait_for_app(page)
            page.evaluate(_OBSERVE_JS)
            caption = re.search(r"Corpus: .*", sidebar_text(page))
            report["app"] = {"refresh": refresh_setting(page), "preset_shown": page.locator(
                ".st-key-preset input").first.input_value(),
                "corpus_line": caption.group(0) if caption else "?",
                "headless_config": headless.info["config"], "charts_hidden": hide_charts}
            say(f"app: refresh every {report['app']['refresh']}, preset {report['app']['preset_shown']}, "
                f"{report['app']['corpus_line']}")
            say(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")

            playing = False

            def play() -> None:
                nonlocal playing
                if not playing:
                    report["clicks_in_rounds"].append(("play", click_latency(page, "play", "Training")))
                    playing = True

            def pause() -> None:
                nonlocal playing
                if playing:
                    report["clicks_in_rounds"].append(("pause", click_latency(page, "pause", "Paused")))
                    wait_for_status(page, "Paused")
                    playing = False
                    time.sleep(1.0)  # the worker ends its slice; the last refreshes drain

            play()
            time.sleep(max(settle, 5.0))  # warm-up: first steps, first chart renders
            headless.ask(run=1.0)
            for r in range(rounds):
                order = ("live", "headless") if r % 2 == 0 else ("headless", "live")
                row: dict = {"round": r + 1, "order": "/".join(order)}
                for side in order:
                    if side == "live":
                        play()
                        time.sleep(settle)
                        row["live"] = live_window(page, proc.pid, seconds)
                    else:
                        pause()
                        headless.ask(run=1.0)  # warm (its caches were the app's for a while)
                        row["headless"] = headless.ask(run=seconds)
                lv, hd = row["live"], row["headless"]
                hd["steps_per_s"] = hd["steps"] / hd["wall"]
                row["ratio"] = lv["steps_per_s"] / hd["steps_per_s"]
                if lv.get("compute_steps_per_s"):
                    row["compute_ratio"] = lv["compute_steps_per_s"] / hd["steps_per_s"]
                report["rounds"].append(row)
                say(f"  round {r + 1}/{rounds} ({row['order']}): live {lv['steps_per_s']:.1f} steps/s, "
                    f"headless {hd['steps_per_s']:.1f}, ratio {row['ratio']:.2f}; load "
                    f"{os.getloadavg()[0]:.2f}")

            # Click latency while training with the page refreshing every second.
            play()
            for i in range(clicks):
                if i % 2 == 0:
                    time.sleep(3.0)  # training, page refreshing
                    report["clicks"].append(("pause", click_latency(page, "pause", "Paused")))
                else:
                    time.sleep(1.0)
                    report["clicks"].append(("play", click_latency(page, "play", "Training")))
            playing = report["clicks"][-1][0] == "play"
            pause()
            browser.close()
    finally:
        headless.close()
    report["machine"]["loadavg_after"] = os.getloadavg()
    report["chars_per_step"] = chars_per_step
    report["summary"] = summarise(report)
    return report


def summarise(report: dict) -> dict:
    rows = report["rounds"]
    med = statistics.median

    def col(get):
        vals = [v for v in (get(r) for r in rows) if v is not None]
        return med(vals) if vals else None

    lat = [x for _, x in report["clicks"]]
    return {
        "live_steps_per_s": col(lambda r: r["live"]["steps_per_s"]),
        "headless_steps_per_s": col(lambda r: r["headless"]["steps_per_s"]),
        "ratio": col(lambda r: r["ratio"]),
        "ratio_min": min(r["ratio"] for r in rows), "ratio_max": max(r["ratio"] for r in rows),
        "train_fraction": col(lambda r: r["live"].get("train_fraction")),
        "compute_ratio": col(lambda r: r.get("compute_ratio")),
        "worker_thread_cpu_pct": col(lambda r: r["live"]["worker_thread_cpu_pct"]),
        "server_other_cpu_pct": col(lambda r: r["live"]["server_other_cpu_pct"]),
        "browser_cpu_pct": col(lambda r: r["live"]["browser_cpu_pct"]),
        "headless_cpu_pct": col(lambda r: 100 * r["headless"]["cpu"] / r["headless"]["wall"]),
        "click_median_s": med(lat) if lat else None, "click_worst_s": max(lat) if lat else None,
        "clicks": len(lat),
    }


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def print_report(report: dict) -> None:
    cps = report["chars_per_step"]
    say("\nround  order           live steps/s  (chars/s)  headless steps/s  (chars/s)  ratio"
        "  in-step  compute ratio  worker CPU  server other  browser")
    for r in report["rounds"]:
        lv, hd = r["live"], r["headless"]
        frac = lv.get("train_fraction")
        comp = r.get("compute_ratio")
        say(f"{r['round']:>5}  {r['order']:<14}{lv['steps_per_s']:>13.1f}{lv['steps_per_s'] * cps:>11,.0f}"
            f"{hd['steps_per_s']:>18.1f}{hd['steps_per_s'] * cps:>11,.0f}{r['ratio']:>7.2f}"
            f"{(f'{frac:.0%}' if frac else '-'):>9}{(f'{comp:.2f}' if comp else '-'):>15}"
            f"{lv['worker_thread_cpu_pct']:>11.0f}%{lv['server_other_cpu_pct']:>13.0f}%"
            f"{lv['browser_cpu_pct']:>8.0f}%")
    s = report["summary"]
    say(f"median: live {s['live_steps_per_s']:.1f} steps/s ({s['live_steps_per_s'] * cps:,.0f} chars/s), "
        f"headless {s['headless_steps_per_s']:.1f} steps/s ({s['headless_steps_per_s'] * cps:,.0f} chars/s), "
        f"ratio {s['ratio']:.2f} (rounds {s['ratio_min']:.2f}-{s['ratio_max']:.2f})")
    if s["train_fraction"]:
        say(f"  worker inside Trainer steps {s['train_fraction']:.0%} of wall time; a step while live "
            f"runs at {s['compute_ratio']:.2f}x the headless step rate; headless process CPU "
            f"{s['headless_cpu_pct']:.0f}% of its wall time")
    say(f"  while live: training thread {s['worker_thread_cpu_pct']:.0f}% CPU, rest of the server "
        f"{s['server_other_cpu_pct']:.0f}%, our Chromium {s['browser_cpu_pct']:.0f}% (100% = one core)")
    lat = [x for _, x in report["clicks"]]
    if lat:
        say(f"click -> status (Pause->'Paused', Play->'Training', training, refresh "
            f"{report['app']['refresh']}): median {s['click_median_s']:.2f} s, worst "
            f"{s['click_worst_s']:.2f} s over {len(lat)} clicks ({', '.join(f'{x:.2f}' for x in lat)})")
    rc = [x for _, x in report["clicks_in_rounds"]]
    if rc:
        say(f"  clicks between rounds: median {statistics.median(rc):.2f} s, worst {max(rc):.2f} s "
            f"over {len(rc)}")
    m = report["machine"]
    say(f"load average before {' '.join(f'{x:.2f}' for x in m['loadavg_before'])}, after "
        f"{' '.join(f'{x:.2f}' for x in m['loadavg_after'])} ({m['cpus']} cores)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=15.0, help="length of each window")
    ap.add_argument("--settle", type=float, default=3.0, help="seconds after Play before a window")
    ap.add_argument("--clicks", type=int, default=10)
    ap.add_argument("--refresh", choices=["0.5 s", "1 s", "2 s", "5 s"],
                    help="diagnosis: set the page's refresh interval (default: leave the app's default)")
    ap.add_argument("--hide-charts", action="store_true",
                    help="diagnosis: keep charts out of the browser's layout (the server still sends them)")
    ap.add_argument("--json", help="write the report here (default bench/results/live-<time>.json)")
    ap.add_argument("--headless-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.headless_worker:
        headless_worker()
        return 0
    report = run(args.rounds, args.seconds, args.clicks, args.settle, args.refresh, args.hide_charts)
    print_report(report)
    path = (Path(args.json) if args.json
            else ROOT / "bench" / "results" / time.strftime("live-%Y%m%d-%H%M%S.json"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
    say(f"written: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
