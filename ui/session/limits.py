"""How big a model one session may train: every setting is bounded on its own (rnn_core.config),
but together the bounds allow ~7 GB a step, and one student's maximal settings must not take the
server down for the whole room."""

from __future__ import annotations

import dataclasses
import os

from rnn_core.cells import param_count, step_floats
from rnn_core.config import ConfigError, TrainConfig

# Memory one session's model may take (weights, optimizer state, one step's activations).
MAX_MODEL_MB = float(os.environ.get("UNROLLED_MAX_MODEL_MB", "256"))


class ModelTooBigError(ConfigError):
    """Valid settings whose model would not fit MAX_MODEL_MB."""


def model_megabytes(config: TrainConfig, vocab_size: int) -> float:
    """Upper estimate of a trainer's memory: weights with their backups and optimizer state, and
    one step's activations and gradients (measured peaks are 60-80 % of this), for its cell (an
    LSTM's weights are 4 times the RNN's, a GRU's 3: rnn_core.cells)."""
    H, K, T, B = config.hidden, vocab_size, config.seq_len, config.batch
    item = 4 if config.dtype == "float32" else 8
    # 8 copies of the weights (params, grads, last update, snapshots, optimizer slots): 5 here and
    # the 3 that step_floats counts, with one step's activations (logits, softmax, dy; h, dh ...).
    floats = 5 * param_count(config.cell, H, K) + step_floats(config.cell, T, B, H, K)
    return floats * item / 2**20


def check_config(config: object, vocab_size: int) -> TrainConfig:
    """A TrainConfig that validates and fits MAX_MODEL_MB, or ConfigError with the reason. Checks
    again what TrainConfig checked: a frozen dataclass can still be forged (object.__setattr__,
    copy.replace) or replaced by another type altogether."""
    if not isinstance(config, TrainConfig):
        raise ConfigError(f"settings must be a TrainConfig, got {type(config).__name__}")
    try:
        config = TrainConfig(**dataclasses.asdict(config))  # runs every bound check again
    except TypeError as exc:
        raise ConfigError(f"invalid settings: {exc}") from None
    mb = model_megabytes(config, vocab_size)
    if mb > MAX_MODEL_MB:
        raise ModelTooBigError(
            f"hidden {config.hidden}, sequence length {config.seq_len} and {config.batch} streams "
            f"over {vocab_size} characters need about {mb:,.0f} MB, more than the "
            f"{MAX_MODEL_MB:,.0f} MB one session may use on this server. Lower the hidden size, "
            "the sequence length or the batch.")
    return config
