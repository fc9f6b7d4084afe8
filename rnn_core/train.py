"""Command line: train headless, log JSON lines, print samples, save checkpoints.

    python -m rnn_core.train CORPUS [--preset NAME] [--steps N] [--lr LR] ... [--save CKPT] [--log FILE]

CORPUS is a text file or the name of a built-in corpus. Bad input exits with status 2 and one line
on stderr, before the first step. A divergence exits with status 3 and Ctrl-C with status 130, both
after saving (with --save) the last sound state: the state the trainer went back to, or the last
complete step.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn, TextIO

from rnn_core.cells import CELL_NAMES
from rnn_core.checkpoint import CELL_TITLES, Checkpoint, CheckpointError, Restored, load, restore, save
from rnn_core.config import BOUNDS, DTYPES, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import BUILTINS, CorpusError, corpus_from_bytes, load_builtin
from rnn_core.model import INIT_SCHEMES
from rnn_core.optim import CLIP_MODES, OPTIMIZERS
from rnn_core.sampling import MAX_SAMPLE_LENGTH, sample
from rnn_core.trainer import VAL_TIME_SHARE, DivergenceError, Trainer
from rnn_core.tuning import tune_process
from rnn_core.units import bits_per_char

MAX_CORPUS_BYTES = 20 * 2**20
EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130

PRECEDENCE = """\
Where the settings come from, each overriding the one before:
  1. min-char-rnn's defaults (shown above), or with --init the checkpoint's configuration;
  2. --preset NAME, all of its settings;
  3. the options given on the command line, in any order.
With --init the cell and the hidden size must stay the checkpoint's."""


class CliError(Exception):
    """Bad input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line like every other bad input (argparse would print the usage first).
        raise CliError(f"{message} (see --help)")


# Options that set a TrainConfig field: option dest -> field. Their default is None ("not given"),
# so that only the options given override the preset's or the checkpoint's configuration.
CONFIG_OPTIONS = {"cell": "cell", "hidden": "hidden", "seq_len": "seq_len", "lr": "lr", "clip": "clip",
                  "clip_mode": "clip_mode", "optimizer": "optimizer", "batch": "batch",
                  "dtype": "dtype", "weight_init": "init", "seed": "seed",
                  "val_fraction": "val_fraction", "val_every": "val_every"}


def _preset_help() -> str:
    default = TrainConfig()
    parts = []
    for name, preset in PRESETS.items():
        changed = [f"{k} {v}" for k, v in vars(preset).items() if v != getattr(default, k)]
        parts.append(f"{name} ({', '.join(changed) if changed else 'the defaults'})")
    return "the app's settings: " + "; ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig()
    ap = _Parser(prog="python -m rnn_core.train", description=__doc__.split("\n")[0], epilog=PRECEDENCE,
                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", help=f"a text file, or a built-in corpus: {', '.join(BUILTINS)}")
    ap.add_argument("--preset", choices=PRESETS, help=_preset_help())
    ap.add_argument("--steps", type=int, default=1000,
                    help="steps in this run (a resumed run counts on from the checkpoint's step; "
                    "default %(default)s)")
    ap.add_argument("--cell", choices=CELL_NAMES, help="the article's vanilla RNN, or an LSTM or a GRU "
                    f"(default {d.cell})")
    ap.add_argument("--hidden", type=int, help=f"hidden units (default {d.hidden})")
    ap.add_argument("--seq-len", type=int, help=f"characters per chunk (default {d.seq_len})")
    ap.add_argument("--lr", type=float, help=f"learning rate (default {d.lr})")
    ap.add_argument("--clip", type=float, help=f"clipping threshold (default {d.clip})")
    ap.add_argument("--clip-mode", choices=CLIP_MODES, help="clip each gradient entry (value), "
                    f"the gradients' global norm (norm), or not at all (default {d.clip_mode})")
    ap.add_argument("--optimizer", choices=OPTIMIZERS, help=f"(default {d.optimizer})")
    ap.add_argument("--batch", type=int, help=f"independent streams (default {d.batch}: exact)")
    ap.add_argument("--dtype", choices=DTYPES, help=f"(default {d.dtype}: exact)")
    ap.add_argument("--weight-init", choices=INIT_SCHEMES, help=f"initial weights (default {d.init})")
    ap.add_argument("--seed", type=int, help=f"random seed of the initial weights (default {d.seed})")
    ap.add_argument("--val-fraction", type=float,
                    help=f"held-out tail of the text for validation (default {d.val_fraction})")
    ap.add_argument("--val-every", type=int, metavar="N",
                    help=f"validation every N steps (skipped while validation has taken over "
                    f"{VAL_TIME_SHARE * 100:g} %% of the training time; 0: never; default {d.val_every})")
    ap.add_argument("--init", metavar="CKPT", help="start from a checkpoint (resumes exactly if it "
                    "holds optimizer state and the optimizer and streams are the same)")
    ap.add_argument("--save", metavar="CKPT", help="write a checkpoint at the end, on a divergence "
                    "or on Ctrl-C (the path is checked before the first step)")
    ap.add_argument("--log", metavar="FILE", help="one JSON object per step")
    ap.add_argument("--sample-every", type=int, default=100, metavar="N",
                    help="print a sample every N steps, 0: none (default %(default)s)")
    ap.add_argument("--sample-length", type=int, default=200, metavar="N",
                    help="characters per sample (default %(default)s)")
    ap.add_argument("--quiet", action="store_true", help="no progress line on stderr")
    return ap


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def check_options(args: argparse.Namespace) -> None:
    if args.steps < 0:
        raise CliError("--steps must be 0 or more")
    if args.sample_every < 0:
        raise CliError("--sample-every must be 0 (no samples) or more")
    if not 0 <= args.sample_length <= MAX_SAMPLE_LENGTH:
        raise CliError(f"--sample-length must be between 0 and {MAX_SAMPLE_LENGTH}")
    if args.save:
        check_writable(Path(args.save))


def check_writable(path: Path) -> None:
    """Fail now, not after the training, when a checkpoint cannot be written to `path`: write and
    remove the temporary file that checkpoint.save writes first."""
    if path.is_dir():
        raise CliError(f"--save {path}: is a directory; give a file name, e.g. {path / 'model.npz'}")
    if not path.parent.is_dir():
        raise CliError(f"--save {path}: there is no directory {path.parent}")
    probe = path.with_name(path.name + ".tmp")
    try:
        probe.open("wb").close()
        probe.unlink()
    except OSError as exc:
        raise CliError(f"--save {path}: cannot write there ({exc.strerror})") from None


def load_corpus(name: str, seq_len: int):
    if name in BUILTINS:
        return load_builtin(name, seq_len)
    path = Path(name)
    if path.is_dir():
        raise CliError(f"{name} is a directory; give a text file, or a built-in corpus "
                       f"({', '.join(BUILTINS)})")
    if not path.is_file():
        raise CliError(f"{name}: no such file, and not a built-in corpus ({', '.join(BUILTINS)})")
    if path.stat().st_size > MAX_CORPUS_BYTES:
        raise CliError(f"{name}: larger than {MAX_CORPUS_BYTES // 2**20} MB")
    return corpus_from_bytes(path.read_bytes(), name=path.name, seq_len=seq_len)


def build_config(args: argparse.Namespace, base: TrainConfig) -> TrainConfig:
    """`base` (the defaults or a checkpoint's), then the preset, then the options given."""
    given = {field: getattr(args, dest) for dest, field in CONFIG_OPTIONS.items()
             if getattr(args, dest) is not None}
    return (PRESETS[args.preset] if args.preset else base).replace(**given)


def build_trainer(args: argparse.Namespace) -> Trainer:
    if not args.init:
        config = build_config(args, TrainConfig())
        return Trainer(load_corpus(args.corpus, config.seq_len), config)
    ckpt = load(args.init)
    config = build_config(args, ckpt.config)
    if config.cell != ckpt.config.cell:
        source = f"--cell {config.cell}" if args.cell is not None else f"--preset {args.preset}"
        raise CliError(f"{args.init}: the checkpoint holds {CELL_TITLES[ckpt.config.cell]}, not "
                       f"{CELL_TITLES[config.cell]} ({source}); the cell of a checkpoint cannot change")
    if config.hidden != ckpt.config.hidden:
        source = "--hidden" if args.hidden is not None else f"--preset {args.preset}"
        raise CliError(f"{args.init}: the checkpoint has {ckpt.config.hidden} hidden units, not "
                       f"{config.hidden} ({source}); the hidden size of a checkpoint cannot change")
    restored = restore(ckpt, load_corpus(args.corpus, config.seq_len), config)
    for note in resume_notes(ckpt, restored):
        sys.stderr.write(f"note: {note}\n")
    return restored.trainer


def resume_notes(ckpt: Checkpoint, restored: Restored) -> list[str]:
    """What --init could not carry over, in words (restore starts those parts afresh)."""
    trainer = restored.trainer
    name = trainer.config.optimizer
    if not restored.optimizer_resumed:
        old = ckpt.optimizer["name"] if ckpt.optimizer and ckpt.optimizer_state is not None else None
        why = (f"--optimizer {name} instead of the checkpoint's {old}" if old and old != name
               else "the checkpoint holds no optimizer state")
        return [f"{why}: {name} starts afresh from the checkpoint's weights, at step 0"]
    if not restored.position_resumed:
        why = ("the checkpoint holds no position in the text" if ckpt.h is None or ckpt.trainer is None
               else f"{trainer.streams} streams (--batch) instead of the checkpoint's {ckpt.h.shape[0]}")
        return [f"{why}: the weights and {name}'s state are kept, but training starts again at "
                f"step 0, at the start of the text with a zero hidden state"]
    return []


def loss_text(nats: float, seq_len: int) -> str:
    return f"{nats:.3f} nats/chunk ({bits_per_char(nats, seq_len):.3f} bits/char)"


def progress(out: TextIO, trainer: Trainer, done: int, total: int, rate: float) -> None:
    width = 30
    filled = width * done // max(total, 1)
    step = trainer.step_count
    count = (f"step {step:,} of {total:,}" if step == done
             else f"step {step:,} ({done:,} of {total:,} this run)")
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {count}  smooth loss "
              f"{loss_text(trainer.smooth_loss, trainer.config.seq_len)}  {rate:,.0f} steps/s ")
    out.flush()


DIVERGED = {
    "loss_not_finite": "the loss was not a finite number",
    "gradients_not_finite": "the gradients were not finite numbers",
    "loss_exploded": "the loss exploded",
    "update_not_finite": "the update would have made the weights or the optimizer's state non-finite",
}


def describe_divergence(exc: DivergenceError, config: TrainConfig) -> str:
    """The trainer's facts in words, with what to change given the settings."""
    T = config.seq_len
    loss = (f"{bits_per_char(exc.loss, T):,.2f} bits/char" if math.isfinite(exc.loss)
            else "not a finite number")
    text = (f"training diverged at step {exc.step:,}: {DIVERGED.get(exc.kind, exc.kind)} (loss {loss}; "
            f"a uniform guess scores {bits_per_char(exc.uniform_loss, T):.2f}).")
    if exc.undone:
        text += f" Went back to step {exc.back_to:,} ({exc.undone:,} step{'s' * (exc.undone != 1)} undone"
        if math.isfinite(exc.snapshot_loss):
            text += f"; the loss averaged {bits_per_char(exc.snapshot_loss, T):.2f} bits/char before it"
        text += ")."
    else:
        text += f" That step was not taken; the model stays at step {exc.back_to:,}."
    advice = []
    lowest = BOUNDS["lr"][0]
    if config.lr > lowest:
        advice.append(f"lower --lr (it is {config.lr:g}; try {max(config.lr / 10, lowest):g})")
    if config.clip_mode == "off":
        advice.append("turn clipping on with --clip-mode norm")
    elif not advice:
        advice.append(f"lower --clip (it is {config.clip:g})")
    advice_text = " and ".join(advice)
    return f"{text} {advice_text[0].upper()}{advice_text[1:]}."


class StopFlag:
    """Ctrl-C (SIGINT) asks training to stop after the step in progress: the handler only sets
    `requested`, which the loop reads between steps. A second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def __enter__(self) -> StopFlag:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        # None: a handler not set from Python; the default then.
        signal.signal(signal.SIGINT, signal.SIG_DFL if self._previous is None else self._previous)

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # No output here: a write from a signal handler can land inside the loop's own write.


def open_log(path: str | None) -> TextIO | None:
    if not path:
        return None
    try:
        return open(path, "w", encoding="utf-8")  # closed by train()
    except OSError as exc:
        raise CliError(f"--log {path}: cannot write ({exc.strerror})") from None


def run_steps(trainer: Trainer, args: argparse.Namespace, log: TextIO | None, stop: StopFlag) -> int:
    """Up to args.steps steps; the exit status (0, or EXIT_INTERRUPTED)."""
    start = time.perf_counter()
    done = 0
    try:
        while done < args.steps:
            if stop.requested:
                return EXIT_INTERRUPTED
            record = trainer.step()  # a DivergenceError goes to the caller
            done += 1
            if log:
                log.write(json.dumps(record.as_row()) + "\n")
            if args.sample_every and record.step % args.sample_every == 0:
                text = sample(trainer.params, trainer.corpus.vocab, args.sample_length,
                              rng=trainer.step_count).text
                sys.stdout.write(f"\n----- step {record.step:,}, smooth loss "
                                 f"{loss_text(record.smooth_loss, record.seq_len)} -----\n{text}\n")
                sys.stdout.flush()
            if not args.quiet and (done % 50 == 1 or done == args.steps):
                progress(sys.stderr, trainer, done, args.steps,
                         done / max(time.perf_counter() - start, 1e-9))
        return 0  # every step taken, even if Ctrl-C came during the last one
    finally:
        if not args.quiet and done:
            sys.stderr.write("\n")


def finish(trainer: Trainer, args: argparse.Namespace, status: int) -> None:
    """Save (with --save) and say where, with the validation loss of the model saved."""
    if args.save:
        save(trainer, args.save)
    bpc = trainer.validation_bpc()
    how = {0: "Finished", EXIT_DIVERGED: "Stopped", EXIT_INTERRUPTED: "Interrupted"}[status]
    val = f"validation {bpc:.3f} bits/char" if bpc is not None else "no validation (no held-out text)"
    where = f"saved to {args.save}" if args.save else "not saved (no --save)"
    sys.stdout.write(f"{how} at step {trainer.step_count:,}: {val}; {where}\n")
    sys.stdout.flush()


def train(args: argparse.Namespace) -> int:
    check_options(args)
    trainer = build_trainer(args)
    log = open_log(args.log)
    try:
        with StopFlag() as stop:
            try:
                status = run_steps(trainer, args, log, stop)
            except DivergenceError as exc:  # the trainer went back to a sound state
                sys.stderr.write(f"error: {describe_divergence(exc, trainer.config)}\n")
                status = EXIT_DIVERGED
    finally:
        if log:
            log.close()
    finish(trainer, args, status)
    return status


def main(argv: list[str] | None = None) -> int:
    tune_process()
    try:
        return train(parse_args(argv))
    except (CliError, CorpusError, ConfigError, CheckpointError, ValueError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted at once\n")
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
