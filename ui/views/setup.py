"""A setup: the built-in text, the preset and every Train-page setting, as a link carries it and
a lesson sets it. No Streamlit.

A link's query parameters are the widgets' keys (`corpus_choice`, `preset`, `lr`, `seed`, …,
`presentation`; and `cell`, which has no widget), so the widgets bound to the URL
(`bind="query-params"`) and `read_link` read the same link. A setting missing from a link is its
preset's value (the widgets' defaults are their preset's values, and Streamlit drops a value equal
to the default from the URL). `read_link` takes anything: what it cannot use it leaves out and
names in `ignored`; it never reads a file (the text comes from the built-in list by name) and never
runs anything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

from rnn_core.cells import CELL_NAMES
from rnn_core.config import BOUNDS, DEFAULT_PRESET, DTYPES, INT_FIELDS, PRESETS, ConfigError, TrainConfig
from rnn_core.corpus import BUILTINS, DEFAULT_CORPUS
from rnn_core.model import INIT_SCHEMES
from rnn_core.optim import CLIP_MODES, OPTIMIZERS
from ui.session.limits import check_config
from ui.text import escape_markdown

# The Train page's settings, each a widget keyed by its TrainConfig field.
SETTING_KEYS = ("lr", "clip", "clip_mode", "cell", "hidden", "seq_len", "optimizer", "batch", "dtype", "init",
                "seed")
CONFIG_KEYS = SETTING_KEYS  # what a link carries of a TrainConfig: every setting's widget
CHOICES: dict[str, tuple[str, ...]] = {"clip_mode": CLIP_MODES, "optimizer": OPTIMIZERS, "dtype": DTYPES,
                                       "init": INIT_SCHEMES, "cell": CELL_NAMES}
CORPUS_KEY, PRESET_KEY, PRESENTATION_KEY = "corpus_choice", "preset", "presentation"
LINK_KEYS = (CORPUS_KEY, PRESET_KEY, *CONFIG_KEYS, PRESENTATION_KEY)
UPLOAD_LABEL = "Your own text file (upload below)"  # the Data page's label for an upload
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")  # ASCII digits only
_WHOLE = re.compile(r"[0-9]+")
_SHOWN = 24  # characters of a rejected value quoted back
_NOTES = 5   # rejected values named, at most


def corpus_label(name: str) -> str:
    """The Data page's label for a built-in (what its selectbox writes into the URL)."""
    return BUILTINS[name].title if name in BUILTINS else UPLOAD_LABEL


@dataclass(frozen=True)
class Setup:
    """What a link reproduces: a run from step 0 on this text with these settings."""

    corpus: str = DEFAULT_CORPUS      # a built-in's name
    preset: str = DEFAULT_PRESET      # the preset the settings started from (the widgets' defaults)
    config: TrainConfig = field(default_factory=lambda: PRESETS[DEFAULT_PRESET])
    presentation: bool = False        # the `presentation` toggle (bound by its own widget)

    def widget_values(self) -> dict[str, object]:
        """{widget key: value} for every widget a setup sets."""
        return {CORPUS_KEY: self.corpus, PRESET_KEY: self.preset,
                **{k: getattr(self.config, k) for k in SETTING_KEYS}}


@dataclass(frozen=True)
class LinkRead:
    setup: Setup
    ignored: tuple[str, ...] = ()  # what could not be used, each a short phrase (markdown-safe)

    def note(self) -> str | None:
        """One short message for the page, or None when everything was used."""
        if not self.ignored:
            return None
        shown = list(self.ignored[:_NOTES])
        if len(self.ignored) > _NOTES:
            shown.append(f"and {len(self.ignored) - _NOTES} more")
        return ("This link had values that cannot be used, so it opened with valid ones instead: "
                + "; ".join(shown) + ".")


def _quoted(value: str) -> str:
    return f"“{escape_markdown(value, _SHOWN)}”"


def _last(value: str | list[str]) -> str:
    """A parameter given several times counts once, as its last value (as Streamlit reads it)."""
    return value[-1] if isinstance(value, list) and value else value if isinstance(value, str) else ""


def _setting(key: str, raw: str) -> tuple[object | None, str | None]:
    """(value, None) for a usable setting, (None, why not) otherwise."""
    if key in CHOICES:
        return (raw, None) if raw in CHOICES[key] else (None, f"one of {', '.join(CHOICES[key])}")
    lo, hi = BOUNDS[key]
    if key in INT_FIELDS:
        if not _WHOLE.fullmatch(raw):
            return None, "a whole number"
        value: float = int(raw)
    else:
        if not _NUMBER.fullmatch(raw) or not math.isfinite(float(raw)):
            return None, "a number"
        value = float(raw)
    if not lo <= value <= hi:
        return None, f"between {lo:g} and {hi:g}"
    return value, None


def read_link(params: Mapping[str, str | list[str]], vocab_size: Callable[[str], int]) -> LinkRead:
    """The setup a link's query parameters describe, and what was ignored. `vocab_size(name)`:
    a built-in text's number of symbols (the model's size depends on it)."""
    ignored: list[str] = []
    raw = {k: _last(v) for k, v in params.items()}
    for key, value in params.items():
        if key not in LINK_KEYS:
            ignored.append(f"{_quoted(key)} (not a setting)")
        elif isinstance(value, list) and len(value) > 1:
            ignored.append(f"all but the last of {len(value)} values for {key}")

    corpus = DEFAULT_CORPUS
    if CORPUS_KEY in raw:
        by_label = {corpus_label(n): n for n in BUILTINS}
        name = by_label.get(raw[CORPUS_KEY], raw[CORPUS_KEY] if raw[CORPUS_KEY] in BUILTINS else None)
        if name is not None:
            corpus = name
        elif raw[CORPUS_KEY] in ("upload", UPLOAD_LABEL):
            ignored.append(f"the text (an uploaded text cannot travel in a link: "
                           f"{corpus_label(DEFAULT_CORPUS)} instead)")
        else:
            ignored.append(f"text {_quoted(raw[CORPUS_KEY])} (not a built-in text)")
    preset = DEFAULT_PRESET
    if PRESET_KEY in raw:
        if raw[PRESET_KEY] in PRESETS:
            preset = raw[PRESET_KEY]
        else:
            ignored.append(f"preset {_quoted(raw[PRESET_KEY])} (one of {', '.join(PRESETS)})")

    base = PRESETS[preset]
    changes: dict[str, object] = {}
    for key in CONFIG_KEYS:
        if key not in raw:
            continue
        value, why = _setting(key, raw[key])
        if why is None:
            changes[key] = value
        else:
            ignored.append(f"{key} {_quoted(raw[key])} (must be {why}; {_format(getattr(base, key))} "
                           "instead)")
    try:
        config = check_config(base.replace(**changes), vocab_size(corpus))
    except ConfigError as exc:  # each setting in bounds, but together too big for this server
        ignored.append(f"the model's size ({escape_markdown(str(exc))} The preset's sizes instead)")
        sizes = {k: getattr(base, k) for k in ("hidden", "seq_len", "batch")}
        config = base.replace(**{**changes, **sizes})

    presentation = False
    if PRESENTATION_KEY in raw:
        if raw[PRESENTATION_KEY].lower() in ("true", "false"):
            presentation = raw[PRESENTATION_KEY].lower() == "true"
        else:
            ignored.append(f"presentation {_quoted(raw[PRESENTATION_KEY])} (must be true or false)")
    return LinkRead(Setup(corpus, preset, config, presentation), tuple(ignored))


def _format(value: object) -> str:
    """A setting as a link writes it (and as Streamlit's widgets read it back)."""
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def link_query(setup: Setup) -> dict[str, str]:
    """The query parameters of a link to `setup`: only what differs from the defaults (the text,
    the preset, and each setting from its preset's value), as the bound widgets write them."""
    query: dict[str, str] = {}
    if setup.corpus != DEFAULT_CORPUS:
        query[CORPUS_KEY] = corpus_label(setup.corpus)
    if setup.preset != DEFAULT_PRESET:
        query[PRESET_KEY] = setup.preset
    base = PRESETS[setup.preset]
    for key in CONFIG_KEYS:
        if getattr(setup.config, key) != getattr(base, key):
            query[key] = _format(getattr(setup.config, key))
    if setup.presentation:
        query[PRESENTATION_KEY] = "true"
    return query


def link_url(base_url: str, page_path: str, setup: Setup) -> str:
    """The whole link: the app's address, the page (the default page is the bare address) and the
    setup's query parameters."""
    url = base_url.rstrip("/") + "/" + page_path.strip("/")
    query = urlencode(link_query(setup))
    return url + ("?" + query if query else "")

