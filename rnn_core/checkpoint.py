"""Checkpoints: the only module that reads or writes model files.

A checkpoint is an .npz readable with np.load(..., allow_pickle=False):
  U (H, K), W (H, H), V (K, H), b (H,), c (K,)   the weights
  vocab        0-d str array: the characters in sorted order
  config       0-d str array: TrainConfig as JSON
  optimizer    0-d str array: {"name": ..., "t": updates taken} as JSON        (optional)
  opt.<slot>.<param>  the optimizer's state arrays, e.g. opt.mem.U for Adagrad  (optional)
  trainer      0-d str array: {"step", "p", "chars_seen", "smooth_loss", "time"} as JSON (optional)
  h            (B, H) the carried hidden state of every stream                   (optional)
With the optional parts present, training resumes exactly where it stopped.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn_core.config import ConfigError, TrainConfig
from rnn_core.corpus import Corpus, Vocab
from rnn_core.model import PARAM_NAMES, Params, param_shapes
from rnn_core.trainer import Trainer

MAX_CHECKPOINT_BYTES = 50 * 2**20


class CheckpointError(ValueError):
    """A file that is not a usable checkpoint; the message is meant for the user."""


@dataclass
class Checkpoint:
    params: Params
    vocab: Vocab
    config: TrainConfig
    optimizer: dict[str, Any] | None = None           # {"name", "t"}
    optimizer_state: dict[str, Params] | None = None  # slot -> param -> array
    trainer: dict[str, Any] | None = None
    h: np.ndarray | None = None


def to_bytes(trainer: Trainer) -> bytes:
    """Everything needed to resume `trainer` exactly, as .npz bytes."""
    arrays: dict[str, np.ndarray] = {k: trainer.params[k] for k in PARAM_NAMES}
    arrays["vocab"] = np.array(trainer.corpus.vocab.chars)
    arrays["config"] = np.array(trainer.config.to_json())
    arrays["optimizer"] = np.array(json.dumps({"name": trainer.optimizer.name,
                                               "t": trainer.optimizer.t}))
    for slot, d in trainer.optimizer.state.items():
        for k, a in d.items():
            arrays[f"opt.{slot}.{k}"] = a
    arrays["trainer"] = np.array(json.dumps({
        "step": trainer.step_count, "p": trainer.p, "chars_seen": trainer.chars_seen,
        "smooth_loss": trainer.smooth_loss, "time": trainer.train_time,
    }))
    arrays["h"] = trainer.h
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def save(trainer: Trainer, path: str | Path) -> None:
    Path(path).write_bytes(to_bytes(trainer))


def _text(npz: Any, key: str) -> str:
    a = npz[key]
    if a.shape != () or a.dtype.kind != "U":
        raise CheckpointError(f"'{key}' must be a single string")
    return str(a)


def from_bytes(raw: bytes) -> Checkpoint:
    """Parse and validate checkpoint bytes; any problem is a CheckpointError."""
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"The file is larger than {MAX_CHECKPOINT_BYTES // 2**20} MB.")
    if not raw.startswith(b"PK"):
        if raw.startswith(b"\x80") or b"pickle" in raw[:64]:
            raise CheckpointError("This file holds pickled Python objects, which are never loaded.")
        raise CheckpointError("This is not a checkpoint (.npz) file.")
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            keys = set(npz.files)
            missing = [k for k in (*PARAM_NAMES, "vocab", "config") if k not in keys]
            if missing:
                raise CheckpointError(f"The checkpoint lacks {', '.join(missing)}.")
            arrays = {k: npz[k] for k in keys if k not in ("vocab", "config", "optimizer", "trainer")}
            vocab_chars = _text(npz, "vocab")
            config = TrainConfig.from_json(_text(npz, "config"))
            opt_meta = json.loads(_text(npz, "optimizer")) if "optimizer" in keys else None
            trainer_meta = json.loads(_text(npz, "trainer")) if "trainer" in keys else None
    except CheckpointError:
        raise
    except ConfigError as exc:
        raise CheckpointError(f"The checkpoint's configuration is invalid: {exc}") from None
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CheckpointError("This file holds pickled Python objects, which are never loaded.") from None
        raise CheckpointError(f"The checkpoint is malformed: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"The checkpoint is damaged or truncated ({type(exc).__name__}).") from None
    try:
        vocab = Vocab(vocab_chars)
    except ValueError:
        raise CheckpointError("The checkpoint's vocabulary is not a sorted set of characters.") from None
    shapes = param_shapes(config.hidden, len(vocab))
    params: Params = {}
    for k in PARAM_NAMES:
        a = arrays.pop(k)
        if a.shape != shapes[k] or a.dtype.kind != "f":
            raise CheckpointError(
                f"{k} has shape {a.shape} ({a.dtype}); hidden {config.hidden} and a vocabulary of "
                f"{len(vocab)} need {shapes[k]} floats.")
        if not np.isfinite(a).all():
            raise CheckpointError(f"{k} contains NaN or infinite values.")
        params[k] = a.astype(config.dtype)
    opt_state: dict[str, Params] | None = None
    if opt_meta is not None:
        opt_state = {}
        for key in [k for k in arrays if k.startswith("opt.")]:
            _, slot, name = key.split(".", 2)
            a = arrays.pop(key)
            if name not in shapes or a.shape != shapes[name]:
                raise CheckpointError(f"optimizer state {key} has the wrong shape {a.shape}.")
            opt_state.setdefault(slot, {})[name] = a.astype(config.dtype)
    h = arrays.pop("h", None)
    if h is not None and (h.ndim != 2 or h.shape[1] != config.hidden):
        raise CheckpointError(f"the hidden state has the wrong shape {h.shape}.")
    return Checkpoint(params, vocab, config, opt_meta, opt_state, trainer_meta, h)


def load(path: str | Path) -> Checkpoint:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror}.") from None
    return from_bytes(raw)


def restore(ckpt: Checkpoint, corpus: Corpus, config: TrainConfig | None = None,
            weights_only: bool = False) -> Trainer:
    """A trainer on `corpus` starting from the checkpoint.

    With the optimizer and trainer state present (and weights_only False) it resumes exactly;
    otherwise it starts from the weights with a fresh optimizer at step 0. `config` overrides the
    checkpoint's, but hidden size must match the weights.
    """
    if ckpt.vocab.chars != corpus.vocab.chars:
        extra = corpus.vocab.unknown(ckpt.vocab.chars) + ckpt.vocab.unknown(corpus.vocab.chars)
        raise CheckpointError(
            f"The checkpoint's vocabulary ({len(ckpt.vocab)} characters) does not match this "
            f"text's ({len(corpus.vocab)}); they differ in {extra[:20]!r}.")
    config = config or ckpt.config
    if config.hidden != ckpt.config.hidden:
        raise CheckpointError(
            f"The checkpoint has {ckpt.config.hidden} hidden units, not {config.hidden}.")
    trainer = Trainer(corpus, config)
    for k in PARAM_NAMES:
        np.copyto(trainer.params[k], ckpt.params[k].astype(trainer.dtype))
    resumable = (not weights_only and ckpt.optimizer is not None and ckpt.optimizer_state is not None
                 and ckpt.optimizer.get("name") == trainer.optimizer.name)
    if resumable:
        assert ckpt.optimizer_state is not None and ckpt.optimizer is not None
        for slot, d in trainer.optimizer.state.items():
            for k, a in d.items():
                if slot not in ckpt.optimizer_state or k not in ckpt.optimizer_state[slot]:
                    raise CheckpointError(f"The checkpoint lacks optimizer state opt.{slot}.{k}.")
                np.copyto(a, ckpt.optimizer_state[slot][k])
        trainer.optimizer.t = int(ckpt.optimizer["t"])
        meta = ckpt.trainer
        if meta is not None and ckpt.h is not None and ckpt.h.shape == trainer.h.shape:
            trainer.step_count = int(meta["step"])
            trainer.p = int(meta["p"])
            trainer.chars_seen = int(meta["chars_seen"])
            trainer.smooth_loss = float(meta["smooth_loss"])
            trainer.train_time = float(meta["time"])
            trainer.h = ckpt.h.astype(trainer.dtype)
    return trainer
