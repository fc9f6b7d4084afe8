"""The command line, run as a user runs it: `python -m rnn_core.train ...` in a subprocess."""

from __future__ import annotations

import argparse
import codecs
import json
import math
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import rnn_core.train as train_cli
from rnn_core.checkpoint import load, restore
from rnn_core.config import PRESETS, TrainConfig
from rnn_core.corpus import load_builtin
from rnn_core.trainer import DivergenceError
from rnn_core.units import bits_per_char
from tests.rnn_support import SMALL_TEXT

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--hidden", "16", "--seq-len", "10", "--sample-every", "0", "--quiet"]


def cli(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rnn_core.train", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def log_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def assert_one_error_line(out: subprocess.CompletedProcess, *words: str) -> str:
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert "Traceback" not in out.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def test_trains_on_a_builtin_corpus_with_log_samples_progress_and_checkpoint(tmp_path):
    log, ckpt = tmp_path / "log.jsonl", tmp_path / "model.npz"
    out = cli("zen", "--steps", "30", "--hidden", "16", "--seq-len", "10", "--sample-every", "10",
              "--sample-length", "40", "--log", log, "--save", ckpt)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("----- step") == 3 and "----- step 30, smooth loss" in out.stdout
    rows = log_rows(log)
    last = rows[-1]["smooth_loss"]
    # the progress line: the step, and the smooth loss with its unit and in bits per character
    assert (f"step 30 of 30  smooth loss {last:.3f} nats/chunk ({bits_per_char(last, 10):.3f} "
            "bits/char)") in out.stderr
    # the end: where the model is, and its validation loss
    restored = restore(load(ckpt), load_builtin("zen", 10)).trainer
    assert out.stdout.splitlines()[-1] == (
        f"Finished at step 30: validation {restored.validation_bpc():.3f} bits/char; saved to {ckpt}")
    assert [r["step"] for r in rows] == list(range(1, 31))
    for r in rows:
        for key in ("loss", "smooth_loss", "global_pre", "global_post", "clipped_fraction",
                    *(f"{w}_{k}" for w in ("pre", "post") for k in "UWVbc")):
            assert math.isfinite(r[key]), key
        assert r["global_post"] <= r["global_pre"]
    assert rows[-1]["smooth_loss"] < rows[0]["smooth_loss"]
    with np.load(ckpt, allow_pickle=False) as npz:
        assert npz["U"].shape == (16, len(set(str(npz["vocab"])))) and npz["W"].shape == (16, 16)
    assert load(ckpt).trainer["step"] == 30


def test_trains_on_a_text_file(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_bytes(codecs.BOM_UTF16_LE + SMALL_TEXT.replace("\n", "\r\n").encode("utf-16-le"))
    log = tmp_path / "log.jsonl"
    out = cli(text, "--steps", "20", "--val-fraction", "0", *SMALL, "--log", log)
    assert out.returncode == 0, out.stderr
    assert len(log_rows(log)) == 20
    assert out.stderr == ""  # --quiet, no samples
    assert out.stdout == "Finished at step 20: no validation (no held-out text); not saved (no --save)\n"


def test_init_resumes_exactly_with_the_checkpoints_configuration(tmp_path):
    args = ("zen", "--optimizer", "adam", "--lr", "0.01", "--batch", "2", *SMALL)
    straight, first, second = (tmp_path / f"{n}.jsonl" for n in ("straight", "first", "second"))
    assert cli(*args, "--steps", "30", "--log", straight).returncode == 0
    assert cli(*args, "--steps", "20", "--log", first, "--save", tmp_path / "a.npz").returncode == 0
    # only --init: hidden size, optimizer, lr and batch all come from the checkpoint
    out = cli("zen", "--init", tmp_path / "a.npz", "--steps", "10", "--log", second,
              "--sample-every", "0")
    assert out.returncode == 0, out.stderr
    assert "note:" not in out.stderr  # everything carried over
    assert "step 30 (10 of 10 this run)" in out.stderr  # the trainer's step, and this run's count
    rows, ref = log_rows(second), log_rows(straight)[20:]
    assert [r["step"] for r in rows] == list(range(21, 31))
    assert [r["loss"] for r in rows] == [r["loss"] for r in ref]
    assert [r["smooth_loss"] for r in rows] == [r["smooth_loss"] for r in ref]


def test_init_options_given_override_the_checkpoint(tmp_path):
    assert cli("zen", "--steps", "5", *SMALL, "--save", tmp_path / "a.npz").returncode == 0
    log = tmp_path / "log.jsonl"
    out = cli("zen", "--init", tmp_path / "a.npz", "--steps", "3", "--lr", "0.05", "--quiet",
              "--sample-every", "0", "--log", log)
    assert out.returncode == 0, out.stderr
    assert [r["lr"] for r in log_rows(log)] == [0.05] * 3


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_cell_trains_logs_its_weights_samples_saves_and_resumes_exactly(cell, tmp_path):
    args = ("zen", "--cell", cell, "--batch", "2", *SMALL)
    straight, first, second = (tmp_path / f"{n}.jsonl" for n in ("straight", "first", "second"))
    assert cli(*args, "--steps", "12", "--log", straight).returncode == 0
    out = cli(*args, "--steps", "8", "--log", first, "--save", tmp_path / "a.npz",
              "--sample-every", "4", "--sample-length", "30")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("----- step") == 2  # samples from the cell
    gate = "f" if cell == "lstm" else "z"
    rows = log_rows(first)
    for key in (f"pre_W_{gate}", f"post_U_{gate}", f"pre_b_{gate}", "pre_V", "post_c"):
        assert all(math.isfinite(r[key]) for r in rows), key
    assert "pre_W" not in rows[0]
    assert load(tmp_path / "a.npz").config.cell == cell
    out = cli("zen", "--init", tmp_path / "a.npz", "--steps", "4", "--log", second, "--quiet",
              "--sample-every", "0")
    assert out.returncode == 0, out.stderr
    assert "note:" not in out.stderr
    assert [r["loss"] for r in log_rows(second)] == [r["loss"] for r in log_rows(straight)[8:]]
    other = "gru" if cell == "lstm" else "lstm"
    out = cli("zen", "--init", tmp_path / "a.npz", "--cell", other, "--steps", "2", "--quiet")
    title = {"lstm": "an LSTM", "gru": "a GRU"}
    assert_one_error_line(out, f"holds {title[cell]}, not {title[other]} (--cell {other})")


def _png(path: Path) -> Path:
    path.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806") + b"\0" * 64)
    return path


@pytest.mark.parametrize("make_args, words", [
    (lambda d: [d / "missing.txt"], ["no such file"]),
    (lambda d: [d], ["is a directory"]),
    (lambda d: [_png(d / "image.png")], ["binary"]),
    (lambda d: [_write(d / "empty.txt", b"")], ["empty"]),
    (lambda d: [_write(d / "short.txt", b"tiny")], ["too short"]),
    (lambda d: ["zen", "--lr", "-1"], ["lr must be between"]),
    (lambda d: ["zen", "--lr", "nan"], ["lr must be between"]),
    (lambda d: ["zen", "--lr", "fast"], ["--lr", "invalid float value"]),
    (lambda d: ["zen", "--hidden", "0"], ["hidden must be between"]),
    (lambda d: ["zen", "--batch", "1000"], ["batch must be between"]),
    (lambda d: ["zen", "--optimizer", "lbfgs"], ["--optimizer", "invalid choice"]),
    (lambda d: ["zen", "--cell", "transformer"], ["--cell", "invalid choice"]),
    (lambda d: ["zen", "--no-such-option"], ["unrecognized arguments"]),
    (lambda d: [], ["corpus"]),
    (lambda d: ["zen", "--steps", "-5"], ["--steps"]),
    (lambda d: ["zen", "--sample-every", "-1"], ["--sample-every"]),
    (lambda d: ["zen", "--sample-length", "100000"], ["--sample-length"]),
    (lambda d: ["zen", "--init", _write(d / "p.npz", pickle.dumps({"U": [1.0]}))], ["pickled"]),
    (lambda d: ["zen", "--init", _write(d / "junk.npz", b"PK\x03\x04junk")], ["checkpoint"]),
    (lambda d: ["zen", "--init", d / "none.npz"], ["Cannot read"]),
    (lambda d: ["zen", "--log", d], ["--log", "Is a directory"]),
    (lambda d: ["zen", "--preset", "slow"], ["--preset", "invalid choice"]),
], ids=["missing-file", "directory-as-corpus", "binary-file", "empty-file", "short-file", "negative-lr",
        "nan-lr", "text-lr",
        "zero-hidden", "huge-batch", "unknown-optimizer", "unknown-cell", "unknown-option", "no-corpus",
        "negative-steps",
        "negative-sample-every", "long-sample", "pickled-checkpoint", "junk-checkpoint",
        "missing-checkpoint", "log-is-a-directory", "unknown-preset"])
def test_bad_input_is_one_error_line(make_args, words, tmp_path):
    args = make_args(tmp_path)
    if "--steps" not in args:
        args += ["--steps", "3"]
    assert_one_error_line(cli(*args, "--quiet"), *words)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_mismatched_checkpoint_is_one_error_line(tmp_path):
    assert cli("zen", "--steps", "2", *SMALL, "--save", tmp_path / "zen.npz").returncode == 0
    other = _write(tmp_path / "other.txt", SMALL_TEXT.encode())
    out = cli(other, "--init", tmp_path / "zen.npz", "--steps", "2", "--quiet")
    assert_one_error_line(out, "vocabulary", "does not match")
    out = cli("zen", "--init", tmp_path / "zen.npz", "--hidden", "32", "--steps", "2", "--quiet")
    assert_one_error_line(out, "16 hidden units, not 32")


def test_divergence_exits_3_with_the_facts_in_words_and_saves_the_state_gone_back_to(tmp_path):
    ckpt, log = tmp_path / "diverged.npz", tmp_path / "log.jsonl"
    out = cli("zen", "--optimizer", "sgd", "--clip-mode", "off", "--lr", "10", "--steps", "200",
              *SMALL, "--save", ckpt, "--log", log)
    assert out.returncode == 3
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: training diverged at step "), out.stderr
    assert "Traceback" not in out.stderr and "RuntimeWarning" not in out.stderr
    assert "bits/char" in errors[0]
    assert "Lower --lr (it is 10; try 1) and turn clipping on with --clip-mode norm." in errors[0]
    back_to = int(re.search(r"(?:Went back to|stays at) step ([\d,]+)", errors[0])[1].replace(",", ""))
    saved = load(ckpt)  # loading checks that every weight is finite
    assert saved.trainer["step"] == back_to
    assert out.stdout.splitlines()[-1].startswith(f"Stopped at step {back_to:,}: validation ")
    assert out.stdout.splitlines()[-1].endswith(f"saved to {ckpt}")
    rows = log_rows(log)
    assert len(rows) < 200 and all(math.isfinite(r["loss"]) for r in rows)
    assert back_to <= rows[-1]["step"]
    # and training can go on from there with a sane learning rate
    out = cli("zen", "--init", ckpt, "--lr", "0.01", "--steps", "20", "--quiet", "--sample-every", "0")
    assert out.returncode == 0, out.stderr


def test_divergence_with_clipping_on_does_not_suggest_turning_it_on(tmp_path):
    out = cli("zen", "--optimizer", "sgd", "--clip-mode", "value", "--lr", "10", "--steps", "200", *SMALL)
    assert out.returncode == 3, out.stderr
    assert "Lower --lr (it is 10; try 1)." in out.stderr
    assert "--clip-mode" not in out.stderr


def _diverged(kind: str = "loss_exploded", loss: float = 30.0, back_to: int = 200, undone: int = 37,
              snapshot_loss: float = math.nan) -> DivergenceError:
    return DivergenceError(kind, step=back_to + undone + 1, loss=loss, uniform_loss=7.0,
                           back_to=back_to, undone=undone, snapshot_loss=snapshot_loss)


def _nats(bpc: float, seq_len: int = 10) -> float:
    return bpc * seq_len * math.log(2)


@pytest.mark.parametrize("kind, words", [
    ("loss_not_finite", "the loss was not a finite number"),
    ("gradients_not_finite", "the gradients were not finite"),
    ("loss_exploded", "the loss exploded"),
    ("update_not_finite", "the update would have made the weights"),
])
def test_each_kind_of_divergence_is_worded(kind, words):
    config = TrainConfig(seq_len=10, lr=0.5)
    text = train_cli.describe_divergence(_diverged(kind, loss=_nats(42.0)), config)
    assert text.startswith(f"training diverged at step 238: {words}")
    assert "(loss 42.00 bits/char; a uniform guess scores 1.01)" in text  # 7 nats over 10 chars
    assert "Went back to step 200 (37 steps undone)." in text
    assert text.endswith("Lower --lr (it is 0.5; try 0.05).")


def test_divergence_wording_follows_the_facts():
    config = TrainConfig(seq_len=10, clip_mode="off")
    text = train_cli.describe_divergence(_diverged(loss=math.nan, undone=1, snapshot_loss=_nats(2.5)),
                                         config)
    assert "(loss not a finite number;" in text
    assert "Went back to step 200 (1 step undone; the loss averaged 2.50 bits/char before it)." in text
    assert text.endswith("Lower --lr (it is 0.1; try 0.01) and turn clipping on with --clip-mode norm.")
    nothing_undone = train_cli.describe_divergence(_diverged(back_to=0, undone=0), config)
    assert "That step was not taken; the model stays at step 0." in nothing_undone
    assert "Went back" not in nothing_undone
    # never a learning rate below the lowest allowed
    assert train_cli.describe_divergence(_diverged(), config.replace(lr=5e-7)).endswith(
        "Lower --lr (it is 5e-07; try 1e-07) and turn clipping on with --clip-mode norm.")
    at_lowest = train_cli.describe_divergence(_diverged(), TrainConfig(seq_len=10, lr=1e-7, clip=2.0))
    assert at_lowest.endswith("Lower --clip (it is 2).") and "--lr" not in at_lowest


def wait_for_log_lines(proc: subprocess.Popen, log: Path) -> None:
    """Until the running CLI has logged a step (the log is written in blocks: a few at once)."""
    while not (log.exists() and log.read_text(encoding="utf-8").count("\n") >= 1):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)


def test_ctrl_c_stops_between_steps_saves_the_last_complete_state_and_exits_130(tmp_path):
    ckpt, log = tmp_path / "model.npz", tmp_path / "log.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "rnn_core.train", "zen", "--steps", "10000000",
                             *SMALL, "--save", str(ckpt), "--log", str(log)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_log_lines(proc, log)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    saved = load(ckpt)
    rows = log_rows(log)
    # the last complete step: every step logged is in the checkpoint, and no half step
    assert saved.trainer["step"] > 0 and saved.trainer["step"] == rows[-1]["step"] == len(rows)
    assert out.splitlines()[-1].startswith(f"Interrupted at step {len(rows):,}: validation ")
    assert out.splitlines()[-1].endswith(f"saved to {ckpt}")
    # it resumes from there
    more = tmp_path / "more.jsonl"
    assert cli("zen", "--init", ckpt, "--steps", "2", "--quiet", "--log", more).returncode == 0
    assert [r["step"] for r in log_rows(more)] == [len(rows) + 1, len(rows) + 2]


@pytest.mark.parametrize("make_path, words", [
    (lambda d: d / "no" / "such" / "dir" / "model.npz", ["--save", "there is no directory"]),
    (lambda d: d, ["--save", "is a directory"]),
    # /sys refuses new files even to root (a chmod'ed directory would not stop root)
    (lambda d: Path("/sys/unrolled-model.npz"), ["--save", "cannot write there"]),
], ids=["missing-directory", "a-directory", "no-permission"])
def test_an_unwritable_save_path_is_an_error_before_the_first_step(make_path, words, tmp_path):
    log = tmp_path / "log.jsonl"
    out = cli("zen", "--steps", "100000", *SMALL, "--save", make_path(tmp_path), "--log", log)
    assert_one_error_line(out, *words)
    assert not log.exists()  # refused before the log was opened, so before any step


def test_save_path_check_leaves_nothing_behind(tmp_path):
    out = cli("zen", "--steps", "0", *SMALL, "--save", tmp_path / "m.npz")
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


@pytest.mark.parametrize("changed, note", [
    (["--optimizer", "adam"], "note: --optimizer adam instead of the checkpoint's adagrad: adam starts "
                              "afresh from the checkpoint's weights, at step 0"),
    (["--batch", "2"], "note: 2 streams (--batch) instead of the checkpoint's 1: the weights and "
                       "adagrad's state are kept, but training starts again at step 0"),
])
def test_init_says_what_it_could_not_carry_over(changed, note, tmp_path):
    ckpt, log = tmp_path / "a.npz", tmp_path / "log.jsonl"
    assert cli("zen", "--steps", "20", *SMALL, "--save", ckpt).returncode == 0
    out = cli("zen", "--init", ckpt, *changed, "--steps", "3", "--quiet", "--log", log)
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith(note), out.stderr
    assert [r["step"] for r in log_rows(log)] == [1, 2, 3]  # restarted, as the note says


def test_a_weights_only_checkpoint_says_the_optimizer_starts_afresh(tmp_path):
    ckpt = tmp_path / "a.npz"
    assert cli("zen", "--steps", "5", *SMALL, "--save", ckpt).returncode == 0
    with np.load(ckpt, allow_pickle=False) as npz:
        weights = {k: npz[k] for k in ("U", "W", "V", "b", "c", "vocab", "config")}
    np.savez(tmp_path / "weights.npz", **weights)
    out = cli("zen", "--init", tmp_path / "weights.npz", "--steps", "1", "--quiet")
    assert out.returncode == 0, out.stderr
    assert out.stderr.startswith("note: the checkpoint holds no optimizer state: adagrad starts afresh")


def test_preset_then_options_given_in_any_order(tmp_path):
    for name, order in (("a", ["--preset", "fast", "--hidden", "16"]),
                        ("b", ["--hidden", "16", "--preset", "fast"])):
        out = cli("zen", *order, "--steps", "2", "--seq-len", "10", "--quiet", "--save",
                  tmp_path / f"{name}.npz")
        assert out.returncode == 0, out.stderr
    for name in "ab":
        assert load(tmp_path / f"{name}.npz").config == PRESETS["fast"].replace(hidden=16, seq_len=10)


def config_of(*argv: str, base: TrainConfig | None = None) -> TrainConfig:
    return train_cli.build_config(train_cli.parse_args(["zen", *argv]), base or TrainConfig())


def test_settings_come_from_the_base_then_the_preset_then_the_options_given():
    ckpt = TrainConfig(hidden=16, lr=0.05, optimizer="rmsprop", val_every=7)
    assert config_of(base=ckpt) == ckpt  # --init alone: the checkpoint's configuration
    assert config_of("--lr", "0.01", base=ckpt) == ckpt.replace(lr=0.01)
    assert config_of("--preset", "min-char-rnn", "--hidden", "16", base=ckpt) == TrainConfig(hidden=16)
    assert config_of("--lr", "0.3", "--preset", "fast", base=ckpt) == PRESETS["fast"].replace(lr=0.3)
    assert config_of("--preset", "fast") == PRESETS["fast"]
    assert config_of() == TrainConfig()


def test_a_preset_whose_hidden_size_does_not_fit_the_checkpoint_is_one_error_line(tmp_path):
    assert cli("zen", "--steps", "2", *SMALL, "--save", tmp_path / "a.npz").returncode == 0
    out = cli("zen", "--init", tmp_path / "a.npz", "--preset", "fast", "--steps", "2", "--quiet")
    assert_one_error_line(out, "16 hidden units, not 128 (--preset fast)")
    out = cli("zen", "--init", tmp_path / "a.npz", "--preset", "fast", "--hidden", "16", "--steps", "2",
              "--quiet")
    assert out.returncode == 0, out.stderr


def test_help_shows_every_default_and_where_settings_come_from():
    parser = train_cli.build_parser()
    defaults = TrainConfig()
    for action in parser._actions:
        dest = action.dest
        if dest in train_cli.CONFIG_OPTIONS:
            value = getattr(defaults, train_cli.CONFIG_OPTIONS[dest])
        elif action.default not in (None, False, argparse.SUPPRESS):
            value = action.default
        else:
            continue  # no default: the corpus, --preset, --init, --save, --log, --quiet, --help
        assert f"default {value}" in action.help % vars(action), (dest, action.help)
    out = cli("--help")
    assert out.returncode == 0
    help_text = " ".join(out.stdout.split())
    assert "default 1000" in help_text  # --steps
    assert ("validation every N steps (skipped while validation has taken over 5 % of the training "
            "time") in help_text
    assert "1. min-char-rnn's defaults (shown above), or with --init the checkpoint's configuration;" \
        in help_text
    assert "3. the options given on the command line, in any order." in help_text
