"""Checkpoints: the only module that reads or writes model files.

A checkpoint is an .npz readable with np.load(..., allow_pickle=False):
  U (H, K), W (H, H), V (K, H), b (H,), c (K,)   the weights (the RNN's; each cell's own names,
               e.g. U_i ... W_o, V, b_i ... b_o, c for the LSTM: rnn_core/lstm.py, gru.py)
  vocab        0-d str array: the characters in sorted order
  config       0-d str array: TrainConfig as JSON; its "cell" says which cell (none: the RNN,
               as in checkpoints from before the LSTM and GRU)
  optimizer    0-d str array: {"name": ..., "t": updates taken} as JSON        (optional)
  opt.<slot>.<param>  the optimizer's state arrays, e.g. opt.mem.U for Adagrad  (optional)
  trainer      0-d str array: {"step", "p", "chars_seen", "smooth_loss", "time"} as JSON (optional)
  h            (B, C) the carried state of every stream: h (B, H); for the LSTM h and its cell
               state s side by side (B, 2H)                                       (optional)
  update.<param>  the change the last update made to each weight, e.g. update.W  (optional)
With the optional parts present, training resumes exactly where it stopped (Trainer.state() is
what is saved and Trainer.load_state() what restores it); without update.*, no last update is
known (Inspect shows none until the next step).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from rnn_core import cells
from rnn_core.config import ConfigError, TrainConfig
from rnn_core.corpus import Corpus, Vocab
from rnn_core.model import PARAM_NAMES, Params
from rnn_core.optim import OPTIMIZERS, OptimizerState
from rnn_core.trainer import Trainer

# The largest configuration (hidden 1024, 1000 characters) with Adam's two state arrays per weight
# is about 75 MB in float64.
MAX_CHECKPOINT_BYTES = 100 * 2**20
_TRAINER_META = {"step": int, "p": int, "chars_seen": int, "smooth_loss": float, "time": float}


CELL_TITLES = {"rnn": "an RNN", "lstm": "an LSTM", "gru": "a GRU"}


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
    last_update: Params | None = None                 # the last update's change to each weight


def to_bytes(trainer: Trainer) -> bytes:
    """Everything needed to resume `trainer` exactly (Trainer.state()), as .npz bytes."""
    state = trainer.state()
    names = trainer.param_names
    arrays: dict[str, np.ndarray] = {k: state.params[k] for k in names}
    arrays.update({f"update.{k}": state.last_update[k] for k in names})
    arrays["vocab"] = np.array(trainer.corpus.vocab.chars)
    arrays["config"] = np.array(trainer.config.to_json())
    arrays["optimizer"] = np.array(json.dumps({"name": state.optimizer.name, "t": state.optimizer.t}))
    for slot, d in state.optimizer.slots.items():
        for k, a in d.items():
            arrays[f"opt.{slot}.{k}"] = a
    arrays["trainer"] = np.array(json.dumps({
        "step": state.step, "p": state.p, "chars_seen": state.chars_seen,
        "smooth_loss": state.smooth_loss, "time": state.train_time,
    }))
    arrays["h"] = state.h
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def save(trainer: Trainer, path: str | Path) -> None:
    """Write the checkpoint next to `path` first, then rename: a crash never leaves half a file
    in place of an earlier checkpoint."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(to_bytes(trainer))
    os.replace(tmp, path)


def _array(npz: Any, key: str) -> np.ndarray:
    a = npz[key]
    if not isinstance(a, np.ndarray):  # NpzFile hands out the raw bytes of a member that is no .npy
        raise CheckpointError(f"The checkpoint's '{key}' is not an array.")
    return a


def _text(npz: Any, key: str) -> str:
    a = _array(npz, key)
    if a.shape != () or a.dtype.kind != "U":
        raise CheckpointError(f"The checkpoint's '{key}' must be a single string.")
    return str(a)


def _json_object(npz: Any, key: str) -> dict[str, Any]:
    try:
        value = json.loads(_text(npz, key))
    except json.JSONDecodeError:
        raise CheckpointError(f"The checkpoint's '{key}' is not valid JSON.") from None
    if not isinstance(value, dict):
        raise CheckpointError(f"The checkpoint's '{key}' must be a JSON object.")
    return value


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _check_meta(opt_meta: dict[str, Any] | None, trainer_meta: dict[str, Any] | None) -> None:
    if opt_meta is not None and not (opt_meta.get("name") in OPTIMIZERS and _is_count(opt_meta.get("t"))):
        raise CheckpointError("The checkpoint's optimizer record needs a known name and a step count t.")
    if trainer_meta is not None:
        for name, kind in _TRAINER_META.items():
            v = trainer_meta.get(name)
            ok = _is_count(v) if kind is int else (
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v >= 0)
            if not ok:
                raise CheckpointError(f"The checkpoint's trainer record has an invalid {name!r}: {v!r}.")


def _float_array(a: np.ndarray, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    if a.dtype.kind != "f" or (shape is not None and a.shape != shape):
        need = f" need {shape} floats" if shape is not None else " must be floats"
        raise CheckpointError(f"{what} has shape {a.shape} ({a.dtype});{need}.")
    if not np.isfinite(a).all():
        raise CheckpointError(f"{what} contains NaN or infinite values.")
    return a


def from_bytes(raw: bytes) -> Checkpoint:
    """Parse and validate checkpoint bytes; any problem is a CheckpointError."""
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"The file is larger than {MAX_CHECKPOINT_BYTES // 2**20} MB.")
    if not raw.startswith(b"PK"):
        if raw.startswith(b"\x80") or b"pickle" in raw[:64]:
            raise CheckpointError("This file holds pickled Python objects, which are never loaded.")
        raise CheckpointError("This is not a checkpoint (.npz) file.")
    try:
        # A compressed member could unpack to far more than the file's size: check before reading.
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            if sum(info.file_size for info in zf.infolist()) > MAX_CHECKPOINT_BYTES:
                raise CheckpointError(f"The checkpoint unpacks to more than "
                                      f"{MAX_CHECKPOINT_BYTES // 2**20} MB.")
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            keys = set(npz.files)
            # The configuration names the cell, and so the weights to look for.
            config = TrainConfig.from_json(_text(npz, "config")) if "config" in keys else None
            names = cells.get(config.cell).PARAM_NAMES if config is not None else PARAM_NAMES
            missing = [k for k in (*names, "vocab", "config") if k not in keys]
            if missing:
                raise CheckpointError(f"The checkpoint lacks {', '.join(missing)}.")
            assert config is not None
            arrays = {k: _array(npz, k) for k in keys
                      if k not in ("vocab", "config", "optimizer", "trainer")}
            vocab_chars = _text(npz, "vocab")
            opt_meta = _json_object(npz, "optimizer") if "optimizer" in keys else None
            trainer_meta = _json_object(npz, "trainer") if "trainer" in keys else None
    except CheckpointError:
        raise
    except ConfigError as exc:
        raise CheckpointError(f"The checkpoint's configuration is invalid: {exc}.") from None
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise CheckpointError("This file holds pickled Python objects, which are never loaded.") from None
        raise CheckpointError(f"The checkpoint is malformed: {exc}") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError, MemoryError, RuntimeError,
            NotImplementedError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: an unknown compression;
        # MemoryError: a header that claims a huge array.
        raise CheckpointError(f"The checkpoint is damaged or truncated ({type(exc).__name__}).") from None
    _check_meta(opt_meta, trainer_meta)
    try:
        vocab = Vocab(vocab_chars)
    except ValueError:
        raise CheckpointError("The checkpoint's vocabulary is not a sorted set of characters.") from None
    cell = cells.get(config.cell)
    shapes = cell.param_shapes(config.hidden, len(vocab))
    params: Params = {}
    for k in cell.PARAM_NAMES:
        what = f"The weight {k} (hidden {config.hidden}, a vocabulary of {len(vocab)})"
        params[k] = _float_array(arrays.pop(k), what, shapes[k]).astype(config.dtype)
    update: Params | None = None
    if any(k.startswith("update.") for k in arrays):
        update = {}
        for k in cell.PARAM_NAMES:
            if f"update.{k}" not in arrays:
                raise CheckpointError(f"The checkpoint lacks update.{k}.")
            update[k] = _float_array(arrays.pop(f"update.{k}"), f"The last update update.{k}",
                                     shapes[k]).astype(config.dtype)
    opt_state: dict[str, Params] | None = None
    if opt_meta is not None:
        opt_state = {}
        for key in [k for k in arrays if k.startswith("opt.")]:
            parts = key.split(".")
            if len(parts) != 3 or parts[2] not in shapes:
                raise CheckpointError(f"The checkpoint has an unknown optimizer array {key!r}.")
            a = _float_array(arrays.pop(key), f"The optimizer state {key}", shapes[parts[2]])
            opt_state.setdefault(parts[1], {})[parts[2]] = a.astype(config.dtype)
    h = arrays.pop("h", None)
    if h is not None:
        _float_array(h, "The hidden state h")
        C = cell.carry_size(config.hidden)
        if h.ndim != 2 or h.shape[1] != C:
            raise CheckpointError(f"The hidden state h has shape {h.shape}; it needs (streams, {C}).")
    return Checkpoint(params, vocab, config, opt_meta, opt_state, trainer_meta, h, update)


def load(path: str | Path) -> Checkpoint:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise CheckpointError(f"Cannot read {path}: {exc.strerror}.") from None
    return from_bytes(raw)


class Restored(NamedTuple):
    trainer: Trainer
    optimizer_resumed: bool  # the optimizer's state came from the checkpoint (else: fresh, t = 0)
    position_resumed: bool   # so did the step count, position in the text and hidden state


def restore(ckpt: Checkpoint, corpus: Corpus, config: TrainConfig | None = None,
            weights_only: bool = False) -> Restored:
    """A trainer on `corpus` starting from the checkpoint.

    With the optimizer and trainer state present (and weights_only False) it resumes exactly;
    otherwise it starts from the weights with a fresh optimizer at step 0: when the optimizer
    differs, and, for the position, when the number of streams does. `config` overrides the
    checkpoint's, but the cell and the hidden size must match the weights.
    """
    if ckpt.vocab.chars != corpus.vocab.chars:
        extra = "".join(sorted(set(ckpt.vocab.chars) ^ set(corpus.vocab.chars)))
        raise CheckpointError(
            f"The checkpoint's vocabulary ({len(ckpt.vocab)} characters) does not match this "
            f"text's ({len(corpus.vocab)}); they differ in {extra[:20]!r}.")
    config = config or ckpt.config
    if config.cell != ckpt.config.cell:
        raise CheckpointError(f"The checkpoint holds {CELL_TITLES[ckpt.config.cell]}, not "
                              f"{CELL_TITLES[config.cell]}.")
    if config.hidden != ckpt.config.hidden:
        raise CheckpointError(
            f"The checkpoint has {ckpt.config.hidden} hidden units, not {config.hidden}.")
    trainer = Trainer(corpus, config)
    fresh = trainer.state()
    params = {k: ckpt.params[k].astype(trainer.dtype) for k in trainer.param_names}
    state = dataclasses.replace(fresh, params=params, last_update=ckpt.last_update)
    optimizer_resumed = position_resumed = False
    if (not weights_only and ckpt.optimizer is not None and ckpt.optimizer_state is not None
            and ckpt.optimizer.get("name") == fresh.optimizer.name):
        slots = {}
        for slot, d in fresh.optimizer.slots.items():
            missing = [k for k in d if k not in ckpt.optimizer_state.get(slot, {})]
            if missing:
                raise CheckpointError(f"The checkpoint lacks optimizer state opt.{slot}.{missing[0]}.")
            slots[slot] = {k: ckpt.optimizer_state[slot][k].astype(trainer.dtype) for k in d}
        optimizer = OptimizerState(fresh.optimizer.name, int(ckpt.optimizer["t"]), slots)
        state = dataclasses.replace(state, optimizer=optimizer)
        optimizer_resumed = True
        meta = ckpt.trainer
        if meta is not None and ckpt.h is not None and ckpt.h.shape == fresh.h.shape:
            state = dataclasses.replace(
                state, step=int(meta["step"]), p=int(meta["p"]), chars_seen=int(meta["chars_seen"]),
                smooth_loss=float(meta["smooth_loss"]), train_time=float(meta["time"]), h=ckpt.h)
            position_resumed = True
    try:
        trainer.load_state(state)
    except ValueError as exc:
        raise CheckpointError(f"The checkpoint does not fit this text and settings: {exc}.") from None
    return Restored(trainer, optimizer_resumed, position_resumed)
