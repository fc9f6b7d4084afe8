"""Command line: train headless, log JSON lines, print samples, save checkpoints.

    python -m rnn_core.train CORPUS [--steps N] [--hidden H] ... [--save CKPT] [--log FILE.jsonl]

CORPUS is a text file or the name of a built-in corpus. Bad input exits with status 2 and one line
on stderr; a divergence exits with status 3 after saving the last finite weights (with --save).
With --init CKPT the checkpoint's configuration is used, except for the options given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NoReturn, TextIO

from rnn_core.checkpoint import CheckpointError, load, restore, save
from rnn_core.config import ConfigError, TrainConfig
from rnn_core.corpus import BUILTINS, CorpusError, corpus_from_bytes, load_builtin
from rnn_core.model import INIT_SCHEMES
from rnn_core.optim import CLIP_MODES, OPTIMIZERS
from rnn_core.sampling import MAX_SAMPLE_LENGTH, sample
from rnn_core.trainer import DivergenceError, Trainer
from rnn_core.tuning import tune_process

MAX_CORPUS_BYTES = 20 * 2**20


class CliError(Exception):
    """Bad input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line like every other bad input (argparse would print the usage first).
        raise CliError(f"{message} (see --help)")


# Options that set a TrainConfig field: option dest -> field. Their default is None ("not given"),
# so that with --init only the options given override the checkpoint's configuration.
CONFIG_OPTIONS = {"hidden": "hidden", "seq_len": "seq_len", "lr": "lr", "clip": "clip",
                  "clip_mode": "clip_mode", "optimizer": "optimizer", "batch": "batch",
                  "dtype": "dtype", "weight_init": "init", "seed": "seed",
                  "val_fraction": "val_fraction", "val_every": "val_every"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    d = TrainConfig()
    ap = _Parser(prog="python -m rnn_core.train", description=__doc__.split("\n")[0])
    ap.add_argument("corpus", help=f"a text file, or a built-in corpus: {', '.join(BUILTINS)}")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--hidden", type=int, help=f"default {d.hidden}")
    ap.add_argument("--seq-len", type=int, help=f"default {d.seq_len}")
    ap.add_argument("--lr", type=float, help=f"default {d.lr}")
    ap.add_argument("--clip", type=float, help=f"default {d.clip}")
    ap.add_argument("--clip-mode", choices=CLIP_MODES, help=f"default {d.clip_mode}")
    ap.add_argument("--optimizer", choices=OPTIMIZERS, help=f"default {d.optimizer}")
    ap.add_argument("--batch", type=int, help=f"independent streams (default {d.batch}: exact)")
    ap.add_argument("--dtype", choices=("float64", "float32"), help=f"default {d.dtype}")
    ap.add_argument("--weight-init", choices=INIT_SCHEMES, help=f"default {d.init}")
    ap.add_argument("--seed", type=int, help=f"default {d.seed}")
    ap.add_argument("--val-fraction", type=float, help=f"default {d.val_fraction}")
    ap.add_argument("--val-every", type=int, help=f"default {d.val_every}")
    ap.add_argument("--init", metavar="CKPT", help="start from a checkpoint (resumes exactly if it "
                    "holds optimizer state)")
    ap.add_argument("--save", metavar="CKPT", help="write a checkpoint at the end")
    ap.add_argument("--log", metavar="FILE", help="one JSON object per step")
    ap.add_argument("--sample-every", type=int, default=100, help="0: no samples")
    ap.add_argument("--sample-length", type=int, default=200)
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap.parse_args(argv)


def load_corpus(name: str, seq_len: int):
    if name in BUILTINS:
        return load_builtin(name, seq_len)
    path = Path(name)
    if not path.is_file():
        raise CliError(f"{name}: no such file, and not a built-in corpus ({', '.join(BUILTINS)})")
    if path.stat().st_size > MAX_CORPUS_BYTES:
        raise CliError(f"{name}: larger than {MAX_CORPUS_BYTES // 2**20} MB")
    return corpus_from_bytes(path.read_bytes(), name=path.name, seq_len=seq_len)


def build_trainer(args: argparse.Namespace) -> Trainer:
    given = {field: getattr(args, dest) for dest, field in CONFIG_OPTIONS.items()
             if getattr(args, dest) is not None}
    if args.init:
        ckpt = load(args.init)
        config = ckpt.config.replace(**given)
        return restore(ckpt, load_corpus(args.corpus, config.seq_len), config).trainer
    config = TrainConfig(**given)
    return Trainer(load_corpus(args.corpus, config.seq_len), config)


def progress(out: TextIO, done: int, total: int, loss: float, rate: float) -> None:
    width = 30
    filled = width * done // max(total, 1)
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}  "
              f"smooth loss {loss:.3f}  {rate:,.0f} steps/s ")
    out.flush()


def train(args: argparse.Namespace) -> int:
    if args.steps < 0:
        raise CliError("--steps must be 0 or more")
    if args.sample_every < 0:
        raise CliError("--sample-every must be 0 (no samples) or more")
    if not 0 <= args.sample_length <= MAX_SAMPLE_LENGTH:
        raise CliError(f"--sample-length must be between 0 and {MAX_SAMPLE_LENGTH}")
    trainer = build_trainer(args)
    log = open(args.log, "w", encoding="utf-8") if args.log else None  # noqa: SIM115
    status = 0
    start = time.perf_counter()
    try:
        for i in range(args.steps):
            try:
                record = trainer.step()
            except DivergenceError as exc:
                sys.stderr.write(f"\nerror: {exc}\n")
                status = 3
                break
            if log:
                log.write(json.dumps(record.as_row()) + "\n")
            if args.sample_every and record.step % args.sample_every == 0:
                text = sample(trainer.params, trainer.corpus.vocab, args.sample_length,
                              rng=trainer.step_count).text
                sys.stdout.write(f"\n----- step {record.step}, smooth loss "
                                 f"{record.smooth_loss:.3f} -----\n{text}\n")
                sys.stdout.flush()
            if not args.quiet and (i % 50 == 0 or i == args.steps - 1):
                progress(sys.stderr, i + 1, args.steps, record.smooth_loss,
                         (i + 1) / max(time.perf_counter() - start, 1e-9))
    finally:
        if log:
            log.close()
        if not args.quiet:
            sys.stderr.write("\n")
    if args.save:
        save(trainer, args.save)
    return status


def main(argv: list[str] | None = None) -> int:
    tune_process()
    try:
        return train(parse_args(argv))
    except (CliError, CorpusError, ConfigError, CheckpointError, ValueError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
