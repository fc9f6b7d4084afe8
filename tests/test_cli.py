"""The command line, run as a user runs it: `python -m rnn_core.train ...` in a subprocess."""

from __future__ import annotations

import codecs
import json
import math
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rnn_core.checkpoint import load
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
    assert "30/30" in out.stderr and "smooth loss" in out.stderr  # the progress bar
    rows = log_rows(log)
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
    assert out.stdout == "" and out.stderr == ""  # --quiet, no samples


def test_init_resumes_exactly_with_the_checkpoints_configuration(tmp_path):
    args = ("zen", "--optimizer", "adam", "--lr", "0.01", "--batch", "2", *SMALL)
    straight, first, second = (tmp_path / f"{n}.jsonl" for n in ("straight", "first", "second"))
    assert cli(*args, "--steps", "30", "--log", straight).returncode == 0
    assert cli(*args, "--steps", "20", "--log", first, "--save", tmp_path / "a.npz").returncode == 0
    # only --init: hidden size, optimizer, lr and batch all come from the checkpoint
    out = cli("zen", "--init", tmp_path / "a.npz", "--steps", "10", "--log", second, "--quiet",
              "--sample-every", "0")
    assert out.returncode == 0, out.stderr
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


def _png(path: Path) -> Path:
    path.write_bytes(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806") + b"\0" * 64)
    return path


@pytest.mark.parametrize("make_args, words", [
    (lambda d: [d / "missing.txt"], ["no such file"]),
    (lambda d: [_png(d / "image.png")], ["binary"]),
    (lambda d: [_write(d / "empty.txt", b"")], ["empty"]),
    (lambda d: [_write(d / "short.txt", b"tiny")], ["too short"]),
    (lambda d: ["zen", "--lr", "-1"], ["lr must be between"]),
    (lambda d: ["zen", "--lr", "nan"], ["lr must be between"]),
    (lambda d: ["zen", "--lr", "fast"], ["--lr", "invalid float value"]),
    (lambda d: ["zen", "--hidden", "0"], ["hidden must be between"]),
    (lambda d: ["zen", "--batch", "1000"], ["batch must be between"]),
    (lambda d: ["zen", "--optimizer", "lbfgs"], ["--optimizer", "invalid choice"]),
    (lambda d: ["zen", "--no-such-option"], ["unrecognized arguments"]),
    (lambda d: [], ["corpus"]),
    (lambda d: ["zen", "--steps", "-5"], ["--steps"]),
    (lambda d: ["zen", "--sample-every", "-1"], ["--sample-every"]),
    (lambda d: ["zen", "--sample-length", "100000"], ["--sample-length"]),
    (lambda d: ["zen", "--init", _write(d / "p.npz", pickle.dumps({"U": [1.0]}))], ["pickled"]),
    (lambda d: ["zen", "--init", _write(d / "junk.npz", b"PK\x03\x04junk")], ["checkpoint"]),
    (lambda d: ["zen", "--init", d / "none.npz"], ["Cannot read"]),
    (lambda d: ["zen", "--log", d], ["Is a directory"]),
], ids=["missing-file", "binary-file", "empty-file", "short-file", "negative-lr", "nan-lr", "text-lr",
        "zero-hidden", "huge-batch", "unknown-optimizer", "unknown-option", "no-corpus", "negative-steps",
        "negative-sample-every", "long-sample", "pickled-checkpoint", "junk-checkpoint",
        "missing-checkpoint", "log-is-a-directory"])
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


def test_divergence_exits_non_zero_and_saves_the_last_finite_weights(tmp_path):
    ckpt, log = tmp_path / "diverged.npz", tmp_path / "log.jsonl"
    out = cli("zen", "--optimizer", "sgd", "--clip-mode", "off", "--lr", "10", "--steps", "200",
              *SMALL, "--save", ckpt, "--log", log)
    assert out.returncode == 3
    errors = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: Training stopped")
    assert "Traceback" not in out.stderr and "RuntimeWarning" not in out.stderr
    saved = load(ckpt)  # loading checks that every weight is finite
    assert all(np.isfinite(a).all() for a in saved.params.values())
    rows = log_rows(log)
    assert len(rows) < 200 and all(math.isfinite(r["loss"]) for r in rows)
    assert saved.trainer["step"] <= rows[-1]["step"]
    # and training can go on from there with a sane learning rate
    out = cli("zen", "--init", ckpt, "--lr", "0.01", "--steps", "20", "--quiet", "--sample-every", "0")
    assert out.returncode == 0, out.stderr
