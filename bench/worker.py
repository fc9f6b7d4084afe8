"""One contender in its own process, driven by bench/run.py over stdin/stdout (JSON lines).

    python -m bench.worker NAME [--seed S] [--threads N]

Commands, one per line: {"run": seconds} trains for that long (at least 3 steps) and answers
{"chars", "wall", "cpu", "steps"}; {"ttt": cap, "targets": [...]} measures time to target loss
(see time_to_target) and answers with the result; {"quit": true} ends. The BLAS thread count
comes from the environment the parent sets (OPENBLAS_NUM_THREADS etc.), before NumPy loads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time


def throughput(contender, seconds: float) -> dict[str, float]:
    chars = steps = 0
    wall0, cpu0 = time.perf_counter(), time.process_time()
    end = wall0 + seconds
    while steps < 3 or time.perf_counter() < end:
        chars += contender.step()
        steps += 1
    return {"chars": chars, "wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0,
            "steps": steps}


def time_to_target(contender, cap: float, targets: list[float]) -> dict:
    """Train until every target validation bpc is reached or `cap` seconds of training pass.

    Only the steps are timed, in wall time (what a user waits) and in CPU time (what the machine's
    other load does not inflate); the validation runs (the Trainer's validation_bpc: the held-out
    tail from a zero state) happen between them, at training times 0.1 s apart at first and then
    4% of the elapsed time apart, so a reported time is at most about 4% (or 0.1 s) late.
    """
    wall = cpu = 0.0
    steps = 0
    next_eval = 0.1
    reached: dict[str, list[float]] = {}  # target -> [wall, cpu, steps]
    curve: list[tuple[float, float, int, float]] = []  # (wall, cpu, steps, bpc)
    while wall < cap:
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(5):
            contender.step()
        wall += time.perf_counter() - w0
        cpu += time.process_time() - c0
        steps += 5
        if wall >= next_eval or wall >= cap:
            bpc = contender.validation_bpc()
            curve.append((round(wall, 3), round(cpu, 3), steps, round(bpc, 4)))
            for target in targets:
                if str(target) not in reached and bpc <= target:
                    reached[str(target)] = [wall, cpu, steps]
            if len(reached) == len(targets):
                break
            next_eval = wall + max(0.1, 0.04 * wall)
    return {"reached": reached, "train_time": wall, "curve": curve}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("name")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if os.environ.get("BENCH_RNN_CORE_FROM"):  # race another copy of rnn_core (bench/run.py --before)
        sys.path.insert(0, os.environ["BENCH_RNN_CORE_FROM"])
    try:  # the app's and the CLI's process tuning (the thread count is the parent's to set)
        from rnn_core.tuning import tune_process
    except ImportError:  # an rnn_core from before it existed tuned the process on import
        pass
    else:
        tune_process()
    from bench.contenders import make

    contender = make(args.name, args.seed, args.threads)
    print(json.dumps({"ready": args.name}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if "run" in cmd:
            out = throughput(contender, float(cmd["run"]))
        elif "ttt" in cmd:
            out = time_to_target(contender, float(cmd["ttt"]), [float(t) for t in cmd["targets"]])
        else:
            break
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
