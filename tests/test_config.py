"""TrainConfig: defaults, bounds, types, JSON, presets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rnn_core.config import (
    BOUNDS,
    DEFAULT_PRESET,
    INT_FIELDS,
    LIVE_SETTINGS,
    NEEDS_RESET,
    PRESETS,
    ConfigError,
    TrainConfig,
)
from rnn_core.trainer import Trainer
from tests.rnn_support import small_corpus


def test_defaults_are_min_char_rnn():
    c = TrainConfig()
    assert (c.hidden, c.seq_len, c.lr, c.clip, c.clip_mode, c.optimizer) == (100, 25, 0.1, 5.0, "value",
                                                                             "adagrad")
    assert c.batch == 1 and c.dtype == "float64" and c.init == "uniform" and c.exact
    assert not c.replace(batch=2).exact and not c.replace(dtype="float32").exact


@pytest.mark.parametrize("name", list(BOUNDS))
def test_every_bound_is_enforced(name):
    lo, hi = BOUNDS[name]
    TrainConfig(**{name: lo})
    TrainConfig(**{name: hi})
    step = 1 if name in INT_FIELDS else (hi - lo) * 1e-3
    for bad in (lo - step, hi + step * (1 if name in INT_FIELDS else 1000)):
        with pytest.raises(ConfigError, match=f"{name} must be between"):
            TrainConfig(**{name: bad})


@pytest.mark.parametrize("name", list(BOUNDS))
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_numbers_are_rejected(name, bad):
    with pytest.raises(ConfigError, match=name):
        TrainConfig(**{name: bad})


@pytest.mark.parametrize("name", list(BOUNDS))
@pytest.mark.parametrize("bad", ["1", None, True, [1], {"v": 1}, 1 + 0j])
def test_wrong_types_are_rejected(name, bad):
    with pytest.raises(ConfigError, match=f"{name} must be a number"):
        TrainConfig(**{name: bad})


@pytest.mark.parametrize("name", INT_FIELDS)
def test_whole_numbers_are_required_where_counts_are_meant(name):
    with pytest.raises(ConfigError, match=f"{name} must be a whole number"):
        TrainConfig(**{name: 2.5})


@pytest.mark.parametrize("name", INT_FIELDS)
def test_counts_given_as_whole_floats_or_numpy_ints_become_ints(name):
    for value in (3.0, np.int64(3), np.int32(3)):
        c = TrainConfig(**{name: value})
        assert getattr(c, name) == 3 and type(getattr(c, name)) is int
    c = TrainConfig(lr=np.float32(0.5), clip=2)
    assert type(c.lr) is float and type(c.clip) is float and c.clip == 2.0


def test_a_whole_float_hidden_size_trains():
    trainer = Trainer(small_corpus(), TrainConfig(hidden=8.0, seq_len=10.0, batch=2.0, val_fraction=0))
    assert trainer.params["W"].shape == (8, 8) and trainer.step().step == 1


@pytest.mark.parametrize("name, bad", [("clip_mode", "sometimes"), ("optimizer", "lbfgs"),
                                       ("dtype", "float16"), ("init", "xavier"), ("optimizer", None),
                                       ("dtype", ["float32"])])
def test_choices_are_enforced(name, bad):
    with pytest.raises(ConfigError, match=f"{name} must be one of"):
        TrainConfig(**{name: bad})


def test_json_round_trip_and_bad_json():
    c = TrainConfig(hidden=64, lr=0.003, optimizer="adam", batch=8, dtype="float32", seed=5)
    assert TrainConfig.from_json(c.to_json()) == c
    for text, match in [("[1, 2]", "JSON object"), ('{"hidden": 0}', "hidden"),
                        ('{"hidden": 64, "colour": "red"}', "unknown configuration keys: colour"),
                        ('{"lr": NaN}', "lr"), ("not json", "not valid JSON"), ("", "not valid JSON"),
                        ('{"hidden": "64"}', "hidden must be a number")]:
        with pytest.raises(ConfigError, match=match):
            TrainConfig.from_json(text)


def test_replace_validates_and_config_is_frozen():
    c = TrainConfig()
    assert c.replace(lr=0.5).lr == 0.5 and c.lr == 0.1
    with pytest.raises(ConfigError):
        c.replace(lr=-0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.lr = 0.5  # type: ignore[misc]


def test_presets_are_valid_and_the_live_settings_need_no_reset():
    assert DEFAULT_PRESET in PRESETS and PRESETS["min-char-rnn"] == TrainConfig()
    for preset in PRESETS.values():
        assert TrainConfig.from_json(preset.to_json()) == preset
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    assert set(NEEDS_RESET) | set(LIVE_SETTINGS) == fields
    assert not set(NEEDS_RESET) & set(LIVE_SETTINGS)
    assert issubclass(ConfigError, ValueError)
