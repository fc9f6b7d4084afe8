"""The benchmark: throughput, the gated cells against PyTorch's, BLAS threads and time to a target
loss, side by side in one run.

    python bench/run.py            # full run (about 15-20 minutes)
    python bench/run.py --quick    # a short run (about 3 minutes)

Each contender (bench/contenders.py) lives in its own worker process (bench/worker.py), started by
this one with the BLAS thread count set in its environment; only one works at a time.

Throughput: paired rounds. In each round every contender trains for the same wall time, in an
order that rotates from round to round; its chars/s is divided by min-char-rnn's in the same round,
and the table shows medians over the rounds (the ratios are medians of per-round ratios).

Time to target: a fresh process per (contender, seed) trains and evaluates the Trainer's
validation loss (held-out 10% tail, read from a zero state) between steps; the time is training
time only. Medians over the seeds; a contender that does not get there within the cap reads ">cap".

Results also go to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.contenders import DESCRIPTIONS  # noqa: E402

TARGETS = (3.0, 2.5)


class JsonProcess:
    """A child process that answers one JSON line on stdout for each JSON line on stdin; the first
    line it prints (its greeting) is kept in `info`."""

    def __init__(self, cmd: list[str], env: dict[str, str] | None = None, name: str = "worker") -> None:
        self.name = name
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.info = self._read()

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} exited (status {self.proc.wait()})")
        return json.loads(line)

    def ask(self, **cmd: object) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        with contextlib.suppress(BrokenPipeError, OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({"quit": True}) + "\n")
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self.proc.poll() is None:
            self.proc.kill()


class Worker(JsonProcess):
    """A contender's process (bench/worker.py); `ask` sends one command and returns its answer."""

    def __init__(self, name: str, seed: int = 0, threads: int = 1, code: str | None = None) -> None:
        env = dict(os.environ)
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(threads)
        if code:  # another copy of rnn_core (e.g. the code before an optimisation)
            env["BENCH_RNN_CORE_FROM"] = code
        super().__init__([sys.executable, "-m", "bench.worker", name, "--seed", str(seed),
                          "--threads", str(threads)], env, f"worker {name}")  # info: {"ready": name}


def machine() -> dict:
    import numpy as np

    info: dict[str, object] = {"python": platform.python_version(), "numpy": np.__version__,
                               "cpus": os.cpu_count(), "loadavg_start": os.getloadavg()}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        info["cpu"] = next((line.split(":", 1)[1].strip() for line in lscpu.splitlines()
                            if line.startswith("Model name")), "?")
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    info["blas"] = f"{blas.get('name')} {blas.get('version')}"
    if importlib.util.find_spec("threadpoolctl"):
        from threadpoolctl import threadpool_info

        info["blas_runtime"] = [{k: d.get(k) for k in ("internal_api", "version", "architecture")}
                                for d in threadpool_info()]
    if importlib.util.find_spec("torch"):
        info["torch"] = subprocess.run([sys.executable, "-c", "import torch; print(torch.__version__)"],
                                       capture_output=True, text=True).stdout.strip()
    return info


# --- throughput ----------------------------------------------------------------------------------


def paired_rounds(names: list[str], rounds: int, seconds: float, threads: dict[str, int] | None = None,
                  labels: list[str] | None = None,
                  code: dict[str, str] | None = None) -> dict[str, list[dict]]:
    """Every contender trains `seconds` per round; returns each one's per-round measurements."""
    labels = labels or names
    workers = {}
    try:
        for label, name in zip(labels, names, strict=True):
            workers[label] = Worker(name, threads=(threads or {}).get(label, 1), code=(code or {}).get(label))
            workers[label].ask(run=min(1.0, 2 * seconds))  # warm-up
        out: dict[str, list[dict]] = {label: [] for label in labels}
        for r in range(rounds):
            order = labels[r % len(labels):] + labels[: r % len(labels)]
            for label in order:
                out[label].append(workers[label].ask(run=seconds))
            print(f"  round {r + 1}/{rounds}", end="\r", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        return out
    finally:
        for w in workers.values():
            w.close()


def rate(m: dict, clock: str = "wall") -> float:
    return m["chars"] / m[clock]


def median_ratio(a: list[dict], b: list[dict], clock: str = "wall") -> float:
    return statistics.median(rate(x, clock) / rate(y, clock) for x, y in zip(a, b, strict=True))


def throughput_section(args: argparse.Namespace, with_torch: bool) -> dict:
    names = ["minchar", "exact", "batched32", "fast", "bare_b1", "bare_b32"]
    names += ["torch_b1", "torch_b32"] if with_torch else []
    labels, code = list(names), {}
    if args.before:  # the same contenders on another copy of rnn_core, for before/after figures
        for name in ("exact", "batched32"):
            labels.append(f"{name}_before")
            code[f"{name}_before"] = args.before
    print(f"\n== Throughput: {args.rounds} paired rounds of {args.seconds:g} s, 1 BLAS thread ==")
    runs = paired_rounds([label.removesuffix("_before") for label in labels], args.rounds, args.seconds,
                         labels=labels, code=code)
    names = labels
    rows = []
    for name in names:
        row = {
            "name": name,
            "chars_per_s": statistics.median(rate(m) for m in runs[name]),
            "cpu_chars_per_s": statistics.median(rate(m, "cpu") for m in runs[name]),
            "vs_minchar": median_ratio(runs[name], runs["minchar"]),
            "vs_minchar_cpu": median_ratio(runs[name], runs["minchar"], "cpu"),
        }
        if with_torch:
            row["vs_torch_b32"] = median_ratio(runs[name], runs["torch_b32"])
            row["vs_torch_b1"] = median_ratio(runs[name], runs["torch_b1"])
        rows.append(row)
    header = f"{'contender':11s} {'chars/s':>9s} {'x minchar':>10s} {'(cpu time)':>10s}"
    header += f" {'x torch b32':>11s} {'x torch b1':>10s}" if with_torch else ""
    print(header)
    for row in rows:
        line = (f"{row['name']:11s} {row['chars_per_s']:9.0f} {row['vs_minchar']:10.2f} "
                f"{row['vs_minchar_cpu']:10.2f}")
        if with_torch:
            line += f" {row['vs_torch_b32']:11.2f} {row['vs_torch_b1']:10.2f}"
        print(line)
    for name in names:
        print(f"  {name}: {DESCRIPTIONS[name.removesuffix('_before')]}"
              + (f" (rnn_core from {args.before})" if name.endswith("_before") else ""))
    return {"rows": rows, "raw": runs}


# --- gated cells ------------------------------------------------------------------------------------


CELLS = ("rnn", "lstm", "gru")


def cells_section(args: argparse.Namespace, with_torch: bool) -> dict:
    """The fast preset's RNN, LSTM and GRU (B=32, H=128, float32, Adam) and, with PyTorch, its CPU
    nn.RNN/nn.LSTM/nn.GRU trained the same way, in the same paired rounds, one thread each. The
    targets (issue 13): an LSTM/GRU at least 1.5x PyTorch's, and within 4.5x of the RNN's time per
    character (an LSTM does 4x the matrix work)."""
    ours = {"rnn": "fast", "lstm": "fast_lstm", "gru": "fast_gru"}
    names = [ours[c] for c in CELLS] + [f"{kind}_{c}" for kind in ("products", "floor") for c in CELLS]
    names += [f"torch_fast_{c}" for c in CELLS] if with_torch else []
    print(f"\n== Cells: {args.rounds} paired rounds of {args.seconds:g} s, 1 thread, "
          "B=32, H=128, float32, Adam ==")
    runs = paired_rounds(names, args.rounds, args.seconds)
    rows = []
    print(f"{'cell':5s} {'chars/s':>9s} {'time/char vs RNN':>17s} {'products only':>14s} {'share':>6s}"
          + f" {'floor':>9s}"
          + (f" {'torch chars/s':>14s} {'x torch':>8s} {'products x torch':>17s} {'floor x torch':>14s}"
             if with_torch else ""))
    for cell in CELLS:
        name, products, floor = ours[cell], f"products_{cell}", f"floor_{cell}"
        row = {"cell": cell, "chars_per_s": statistics.median(rate(m) for m in runs[name]),
               "time_vs_rnn": median_ratio(runs["fast"], runs[name]),
               "products_chars_per_s": statistics.median(rate(m) for m in runs[products]),
               # the share of a step's time that its matrix products take
               "products_share": median_ratio(runs[name], runs[products]),
               "floor_chars_per_s": statistics.median(rate(m) for m in runs[floor])}
        line = (f"{cell:5s} {row['chars_per_s']:9.0f} {row['time_vs_rnn']:17.2f} "
                f"{row['products_chars_per_s']:14.0f} {row['products_share']:6.2f} "
                f"{row['floor_chars_per_s']:9.0f}")
        if with_torch:
            theirs = f"torch_fast_{cell}"
            row["torch_chars_per_s"] = statistics.median(rate(m) for m in runs[theirs])
            row["vs_torch"] = median_ratio(runs[name], runs[theirs])
            # the most any NumPy step could be: its products alone against PyTorch's whole step
            row["products_vs_torch"] = median_ratio(runs[products], runs[theirs])
            # and with the transcendental functions every step must evaluate besides
            row["floor_vs_torch"] = median_ratio(runs[floor], runs[theirs])
            line += (f" {row['torch_chars_per_s']:14.0f} {row['vs_torch']:8.2f}"
                     f" {row['products_vs_torch']:17.2f} {row['floor_vs_torch']:14.2f}")
        print(line)
        rows.append(row)
    for name in names:
        print(f"  {name}: {DESCRIPTIONS[name]}")
    return {"rows": rows, "raw": runs}


# --- BLAS threads ----------------------------------------------------------------------------------


def threads_section(args: argparse.Namespace) -> dict:
    rounds = max(3, args.rounds * 2 // 3)
    print(f"\n== BLAS threads: 1 vs 2, idle and with one core kept busy ({rounds} rounds) ==")
    labels = ["exact@1", "exact@2", "batched32@1", "batched32@2"]
    names = ["exact", "exact", "batched32", "batched32"]
    threads = {label: int(label[-1]) for label in labels}
    result = {}
    for condition in ("idle", "loaded"):
        load = None
        if condition == "loaded":
            load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            runs = paired_rounds(names, rounds, args.seconds, threads, labels)
        finally:
            if load is not None:
                load.kill()
                load.wait()
        result[condition] = {label: statistics.median(rate(m) for m in runs[label]) for label in labels}
        result[condition]["raw"] = runs
    print(f"{'':10s} {'exact 1 thr':>12s} {'2 thr':>9s} {'batched32 1 thr':>16s} {'2 thr':>9s}")
    for condition in ("idle", "loaded"):
        r = result[condition]
        print(f"{condition:10s} {r['exact@1']:12.0f} {r['exact@2']:9.0f} {r['batched32@1']:16.0f} "
              f"{r['batched32@2']:9.0f}   chars/s")
    return result


# --- time to target --------------------------------------------------------------------------------


def ttt_section(args: argparse.Namespace) -> dict:
    plan = [(name, cap) for name, cap in (("fast", args.cap_fast), ("exact", args.cap_exact),
                                          ("minchar", args.cap)) if name in args.ttt]
    print(f"\n== Time to validation bpc {' and '.join(map(str, TARGETS))}: seeds {args.seeds}, "
          f"caps (training seconds) {', '.join(f'{n} {c:g}' for n, c in plan)} ==")
    results: dict[str, list[dict]] = {name: [] for name, _ in plan}
    for seed in args.seeds:
        for name, cap in plan:
            w = Worker(name, seed=seed)
            try:
                # The fast preset trains on to its cap, for its loss after 30 s and 60 s.
                targets = list(TARGETS) + ([-1.0] if name == "fast" else [])
                r = w.ask(ttt=cap, targets=targets)
            finally:
                w.close()
            r["reached"].pop("-1.0", None)
            results[name].append(r)
            got = ", ".join(f"{t}: {s[0]:.1f} s" for t, s in r["reached"].items()) or "none"
            print(f"  seed {seed} {name:8s} {got}  (bpc at the end: {r['curve'][-1][3]:.3f} "
                  f"after {r['curve'][-1][0]:.0f} s)")
    inf = float("inf")
    table = {}
    for name, cap in plan:
        row: dict[str, float] = {"cap": cap}
        for target in map(str, TARGETS):
            row[target] = statistics.median(r["reached"].get(target, [inf])[0] for r in results[name])
            row[target + "_cpu"] = statistics.median(r["reached"].get(target, [inf, inf])[1]
                                                     for r in results[name])
        for sec in (30, 60):
            row[f"bpc@{sec}"] = statistics.median(_bpc_at(r["curve"], sec) for r in results[name])
        row["bpc_end"] = statistics.median(r["curve"][-1][3] for r in results[name])
        table[name] = row

    def fmt(t: float, cap: float) -> str:
        return f">{cap:g}" if t == inf else f"{t:.1f}"

    print(f"{'':9s} {'to 3.0: wall s':>14s} {'cpu s':>7s} {'to 2.5: wall s':>15s} {'cpu s':>7s} "
          f"{'best bpc by 30 s':>17s} {'by 60 s':>8s} {'at the end':>11s}")
    for name, cap in plan:
        row = table[name]
        print(f"{name:9s} {fmt(row['3.0'], cap):>14s} {fmt(row['3.0_cpu'], cap):>7s} "
              f"{fmt(row['2.5'], cap):>15s} {fmt(row['2.5_cpu'], cap):>7s} "
              f"{row['bpc@30']:17.3f} {row['bpc@60']:8.3f} {row['bpc_end']:11.3f}")
    for base in [name for name in ("minchar", "exact") if name in table and "fast" in table]:
        for target in map(str, TARGETS):
            f, b = table["fast"][target], table[base][target]
            if f == inf:
                text = "fast did not get there"
            elif b == inf:
                cap = table[base]["cap"]
                text = f">{cap / f:.0f}x (the baseline did not get there in {cap:g} s)"
            else:
                cpu = table[base][target + "_cpu"] / table["fast"][target + "_cpu"]
                text = f"{b / f:.1f}x (in cpu time: {cpu:.1f}x)"
            print(f"  fast vs {base} to {target}: {text}")
    return {"table": table, "runs": results}


def _bpc_at(curve: list, seconds: float) -> float:
    """Best validation bpc seen within the first `seconds` of training (nan if none)."""
    seen = [point[-1] for point in curve if point[0] <= seconds]
    return min(seen) if seen else float("nan")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer and shorter rounds, one seed, low caps")
    ap.add_argument("--sections", default="throughput,cells,threads,ttt")
    ap.add_argument("--rounds", type=int)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--seeds", type=int, nargs="+")
    ap.add_argument("--cap", type=float, help="training seconds allowed to min-char-rnn")
    ap.add_argument("--cap-exact", type=float, help="training seconds allowed to exact mode")
    ap.add_argument("--cap-fast", type=float, help="training seconds of the fast preset")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--ttt", nargs="+", default=["fast", "exact", "minchar"],
                    help="contenders of the time-to-target section")
    ap.add_argument("--before", metavar="DIR", help="also race exact and batched32 on the rnn_core in DIR")
    args = ap.parse_args(argv)
    quick = args.quick
    args.rounds = args.rounds or (4 if quick else 12)
    args.seconds = args.seconds or (0.5 if quick else 1.0)
    args.seeds = args.seeds or ([0] if quick else [0, 1, 2])
    args.cap = args.cap or (30.0 if quick else 180.0)
    args.cap_exact = args.cap_exact or (30.0 if quick else 90.0)
    args.cap_fast = args.cap_fast or (30.0 if quick else 60.0)
    with_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    info = machine()
    print("machine:", json.dumps(info))
    out: dict[str, object] = {"machine": info, "args": vars(args)}
    sections = args.sections.split(",")
    if "throughput" in sections:
        out["throughput"] = throughput_section(args, with_torch)
    if "cells" in sections:
        out["cells"] = cells_section(args, with_torch)
    if "threads" in sections:
        out["threads"] = threads_section(args)
    if "ttt" in sections:
        out["ttt"] = ttt_section(args)
    info["loadavg_end"] = os.getloadavg()
    print("load average at start / end:", info["loadavg_start"], info["loadavg_end"])
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    path = results / time.strftime("%Y%m%d-%H%M%S.json")
    path.write_text(json.dumps(out, indent=1, default=str))
    print("written", path.relative_to(ROOT))


if __name__ == "__main__":
    main()
