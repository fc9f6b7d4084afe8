"""Training configuration, its bounds, and the presets."""

from __future__ import annotations

import dataclasses
import json
import numbers
from dataclasses import dataclass
from typing import Any

from rnn_core.cells import CELL_NAMES
from rnn_core.model import INIT_SCHEMES
from rnn_core.optim import CLIP_MODES, OPTIMIZERS

DTYPES = ("float64", "float32")


class ConfigError(ValueError):
    """A hyperparameter out of range; the message is meant for the user."""


# Bounds enforced here, whatever the caller (widgets, CLI, scripts); the UI uses the same numbers.
BOUNDS: dict[str, tuple[float, float]] = {
    "hidden": (1, 1024),
    "seq_len": (1, 400),
    "lr": (1e-7, 10.0),
    "clip": (1e-6, 1e6),
    "batch": (1, 256),
    "seed": (0, 2**32 - 1),
    "val_fraction": (0.0, 0.5),
    "val_every": (0, 1_000_000),
}
INT_FIELDS = ("hidden", "seq_len", "batch", "seed", "val_every")


@dataclass(frozen=True)
class TrainConfig:
    """Defaults are min-char-rnn's: hidden 100, seq_len 25, lr 0.1, clip 5 by value, Adagrad."""

    hidden: int = 100
    seq_len: int = 25
    lr: float = 0.1
    clip: float = 5.0
    clip_mode: str = "value"
    optimizer: str = "adagrad"
    batch: int = 1            # independent streams; 1 with float64 is exact min-char-rnn
    dtype: str = "float64"
    init: str = "uniform"     # the article's U(-1/sqrt(n), 1/sqrt(n)); "randn" is min-char-rnn's
    seed: int = 0
    val_fraction: float = 0.1  # held-out tail of the corpus for the validation loss (0: none)
    val_every: int = 200       # steps between validation evaluations (0: never automatically)
    cell: str = "rnn"          # the article's RNN, or "lstm", "gru" (rnn_core/cells.py)

    def __post_init__(self) -> None:
        for name, (lo, hi) in BOUNDS.items():
            value = getattr(self, name)
            # numbers.Real admits NumPy scalars (a widget or an array may hand out np.int64).
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ConfigError(f"{name} must be a number, got {value!r}")
            if not lo <= value <= hi:  # also rejects NaN (and inf, before int() could fail on it)
                raise ConfigError(f"{name} must be between {lo:g} and {hi:g}, got {value!r}")
            if name in INT_FIELDS and int(value) != value:
                raise ConfigError(f"{name} must be a whole number, got {value!r}")
            # Store plain int / float: 2.0 hidden units would break np.zeros, and JSON needs builtins.
            object.__setattr__(self, name, int(value) if name in INT_FIELDS else float(value))
        for name, allowed in (("clip_mode", CLIP_MODES), ("optimizer", OPTIMIZERS),
                              ("dtype", DTYPES), ("init", INIT_SCHEMES), ("cell", CELL_NAMES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"configuration is not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise ConfigError("configuration must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ConfigError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        return cls(**data)

    @property
    def exact(self) -> bool:
        """True when training follows min-char-rnn operation for operation."""
        return self.batch == 1 and self.dtype == "float64" and self.cell == "rnn"


# Settings a running trainer takes between steps (Trainer.apply_live); every other one only takes
# effect with a new model.
LIVE_SETTINGS = ("lr", "clip", "clip_mode", "val_every")
NEEDS_RESET = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in LIVE_SETTINGS)

PRESETS: dict[str, TrainConfig] = {
    # Tuned for the validation loss of the first 30-60 s of training on one core (bench/README.md,
    # "Tuning the fast preset"): 32 float32 streams with Adam reach 3 bits/char in about 3 s, and
    # at lr 2e-3 (3e-3 plateaued above 2.5) went below 2.5 with every seed tried, in 11-17 s.
    # Clipping by global norm at 20: the norm is 8-50 in the first noisy steps, spikes to 40-56
    # around steps 100-300, then settles at 18-23 (python-docs, seed 0), so clipping visibly cuts
    # the spikes early and keeps the norm in check later (36 % of the first 4,000 steps clipped).
    # Validation loss, mean of seeds 0-2, after 250 / 1,000 / 4,000 steps: 3.90 / 2.98 / 2.59
    # bits/char, against 3.97 / 3.01 / 2.60 when clipping by value at 1 (which clipped a handful
    # of entries, about 0.01 %, on 29 % of the steps: invisible on the chart).
    "fast": TrainConfig(hidden=128, seq_len=25, lr=2e-3, clip=20.0, clip_mode="norm",
                        optimizer="adam", batch=32, dtype="float32"),
    # Karpathy's min-char-rnn, exactly.
    "min-char-rnn": TrainConfig(),
}
DEFAULT_PRESET = "fast"
