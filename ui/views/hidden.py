"""The hidden state h(t) over a chunk: units × time steps, in an order the user picks (by default
similar units together, so structure shows), the units that follow a kind of character (spaces,
line breaks, quotes, brackets, ...), and the text coloured by one unit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnn_core.trace import ChunkTrace
from rnn_core.trainer import Trainer
from ui.text import visible_char
from ui.views.chunk import ChunkSnapshot, read_chunk
from ui.views.text_grid import TextGrid, text_grid

MAX_UNITS = 256  # hidden units per heatmap (a 1024-unit model shows its first / top 256)

SIMILAR = "similar units together"
UNIT_ORDERS = (SIMILAR, "unit number", "most variable", "most saturated")


def _correlations(hs: np.ndarray) -> np.ndarray:
    """Pearson correlation of the units' time courses (H, H) for hs (T, H); a unit that does not
    change over the chunk correlates 0 with every unit (and itself)."""
    x = hs - hs.mean(axis=0)                          # (T, H)
    norm = np.linalg.norm(x, axis=0)                  # (H,)
    z = np.divide(x, norm, out=np.zeros_like(x), where=norm > 1e-12)
    return z.T @ z                                    # (H, H)


def similarity_order(hs: np.ndarray) -> np.ndarray:
    """A 1-D order of the units (indices into H) for hs (T, H) in which units with similar time
    courses sit together: average-linkage clustering on 1 - correlation (by nearest-neighbour
    chains, O(H^2)), each merge putting the two clusters' most correlated ends side by side."""
    H = hs.shape[1]
    C = _correlations(np.asarray(hs, dtype=np.float64))
    D = 1.0 - C                                       # (H, H) distances in [0, 2]
    np.fill_diagonal(D, np.inf)
    clusters: dict[int, list[int]] = {i: [i] for i in range(H)}
    chain: list[int] = []
    while len(clusters) > 1:
        if not chain:
            chain.append(next(iter(clusters)))
        a = chain[-1]
        b = int(np.argmin(D[a]))
        if len(chain) > 1 and D[a, chain[-2]] <= D[a, b]:
            b = chain[-2]
        if len(chain) < 2 or b != chain[-2]:
            chain.append(b)
            continue
        chain.pop()
        chain.pop()
        i, j = min(a, b), max(a, b)                   # j joins i
        x, y = clusters[i], clusters.pop(j)
        # The four ways to join x and y: keep the one whose touching ends are most alike.
        joins = [x + y, x + y[::-1], x[::-1] + y, x[::-1] + y[::-1]]
        clusters[i] = max(joins, key=lambda o: C[o[len(x) - 1], o[len(x)]])
        D[i] = (len(x) * D[i] + len(y) * D[j]) / (len(x) + len(y))  # average linkage
        D[:, i] = D[i]
        D[i, i] = np.inf
        D[j, :] = D[:, j] = np.inf
    (order,) = clusters.values()
    return np.array(order, dtype=np.int64)


def unit_order(hs: np.ndarray, how: str = "unit number", max_units: int | None = None) -> np.ndarray:
    """Order of the hidden units (indices into H) for hs of shape (T, H), the first `max_units`.
    SIMILAR orders only the max_units most variable units (it costs O(H^2) steps)."""
    H = hs.shape[1]
    n = H if max_units is None else min(max_units, H)
    if how == SIMILAR:
        keep = np.arange(H) if n == H else np.sort(np.argsort(-hs.std(axis=0), kind="stable")[:n])
        return keep[similarity_order(hs[:, keep])]
    if how == "unit number":
        order = np.arange(H)
    elif how == "most variable":
        order = np.argsort(-hs.std(axis=0), kind="stable")
    elif how == "most saturated":
        order = np.argsort(-np.abs(hs).mean(axis=0), kind="stable")
    else:
        raise ValueError(f"unknown unit order {how!r}; choose one of {UNIT_ORDERS}")
    return order[:n]


@dataclass(frozen=True)
class HiddenView:
    z: np.ndarray          # (units, T) activations in [-1, 1]
    units: np.ndarray      # (units,) hidden-unit index of each row
    labels: list[str]      # (T,) visible input characters
    total_units: int       # H, of which `units` are shown


def hidden_view(trace: ChunkTrace, order: str = "unit number", max_units: int = MAX_UNITS) -> HiddenView:
    units = unit_order(trace.hs, order, max_units)
    return HiddenView(z=trace.hs[:, units].T.copy(), units=units,
                      labels=[visible_char(c) for c in trace.input_chars],
                      total_units=trace.hs.shape[1])


def unit_grid(trace: ChunkTrace, unit: int) -> tuple[TextGrid, int]:
    """The input text coloured by one unit's activation (unit clamped to [0, H)); the unit used."""
    unit = min(max(unit, 0), trace.hs.shape[1] - 1)
    return text_grid(trace.input_chars, trace.hs[:, unit]), unit


# --- units worth a look -------------------------------------------------------------------------

FEATURES: dict[str, Callable[[str], bool]] = {
    "spaces": lambda c: c == " ",
    "line breaks": lambda c: c == "\n",
    "quotes": lambda c: c in "'\"`",
    "brackets": lambda c: c in "()[]{}<>",
    "capital letters": str.isupper,
    "digits": str.isdigit,
}
MIN_COUNT = 2   # occurrences (and non-occurrences) before a feature is correlated at all
MIN_R = 0.25    # |r| below this is not worth pointing out
MAX_STREAMS = 32  # streams of a step whose chunks the correlations are taken over


@dataclass(frozen=True)
class NotableUnit:
    feature: str      # a key of FEATURES
    unit: int         # the unit whose activation correlates most (in absolute value) with it
    r: float          # that correlation, in [-1, 1]
    count: int        # how many of the characters read are of the feature


def notable_units(hs: np.ndarray, chars: list[str], features: dict[str, Callable[[str], bool]] = FEATURES,
                  min_count: int = MIN_COUNT, min_r: float = MIN_R) -> list[NotableUnit]:
    """For each kind of character, the unit whose activation h(t) after reading character t
    correlates most with "character t is of this kind" (Pearson over the n characters, hs (n, H)),
    in the order of `features`. Left out: kinds seen fewer than `min_count` times (or missing fewer
    times), where some unit would correlate by chance, and correlations weaker than `min_r`. A unit
    that does not change is never picked."""
    hs = np.asarray(hs, dtype=np.float64)                           # (n, H)
    n = hs.shape[0]
    if len(chars) != n:
        raise ValueError(f"{n} hidden states but {len(chars)} characters")
    x = hs - hs.mean(axis=0)
    norms = np.linalg.norm(x, axis=0)                               # (H,)
    live = norms > 1e-12
    found = []
    for name, is_kind in features.items():
        f = np.array([is_kind(c) for c in chars], dtype=np.float64)  # (n,)
        count = int(f.sum())
        if count < min_count or n - count < min_count or not live.any():
            continue
        fc = f - f.mean()
        r = np.divide(fc @ x, norms * np.linalg.norm(fc), out=np.zeros(hs.shape[1]), where=live)  # (H,)
        unit = int(np.argmax(np.abs(r)))
        if abs(r[unit]) >= min_r:
            found.append(NotableUnit(name, unit, float(r[unit]), count))
    return found


@dataclass(frozen=True)
class HiddenInput:
    """One stream's chunk, and the hidden states and input characters of the step's first
    MAX_STREAMS streams (the chosen one among them), which the notable units are found over."""

    snap: ChunkSnapshot
    hs: np.ndarray       # (n, H) h(t) of those streams' chunks, one after the other
    chars: list[str]     # (n,) the input character each was read after

    @property
    def streams_used(self) -> int:
        return len(self.chars) // max(len(self.snap.trace.input_chars), 1)


def read_hidden(trainer: Trainer, stream: int = 0, max_streams: int = MAX_STREAMS) -> HiddenInput | None:
    """The chunk of `stream` and the step's chunks of up to `max_streams` streams (None before the
    first step); run under the lock: copies only."""
    snap = read_chunk(trainer, stream)
    if snap is None:
        return None
    traces = [trainer.chunk_trace(s) for s in range(min(trainer.streams, max_streams))]
    if snap.trace.stream >= max_streams:
        traces.append(snap.trace)
    return HiddenInput(snap, np.concatenate([t.hs for t in traces]),
                       [c for t in traces for c in t.input_chars])


CHOICES = (*(f"the unit that follows {name}" for name in FEATURES), "the unit number on the right")


def chosen_unit(notables: list[NotableUnit], choice: str, picked: int) -> tuple[int, NotableUnit | None, str]:
    """The unit to colour the text by: for a feature's choice, its notable unit (or, when that
    feature has none, the most telling notable unit, with a note saying so); for the last choice,
    or when nothing is notable, the unit `picked`. Returns (unit, its NotableUnit or None,
    a note for the user or "")."""
    if choice not in CHOICES:
        raise ValueError(f"unknown choice {choice!r}; choose one of {CHOICES}")
    if choice == CHOICES[-1]:
        return picked, None, ""
    feature = choice.removeprefix("the unit that follows ")
    for n in notables:
        if n.feature == feature:
            return n.unit, n, ""
    if not notables:
        return picked, None, f"No unit follows {feature} here: colouring by the unit on the right."
    best = max(notables, key=lambda n: abs(n.r))
    return best.unit, best, (f"No unit follows {feature} here: colouring by the one that follows "
                             f"{best.feature}.")


def unit_marks(notables: list[NotableUnit]) -> dict[int, str]:
    """Unit -> what it follows ("spaces", or "spaces, capital letters" for a unit found twice)."""
    marks: dict[int, str] = {}
    for n in notables:
        marks[n.unit] = f"{marks[n.unit]}, {n.feature}" if n.unit in marks else n.feature
    return marks


def describe_notables(notables: list[NotableUnit], n_chars: int, streams: int) -> str:
    """The notable units in a sentence (markdown; feature names only, no user text)."""
    where = (f"this step's {streams} chunks, {n_chars:,} characters" if streams > 1
             else f"{n_chars:,} characters")
    if not notables:
        return (f"No unit follows spaces, line breaks, quotes, brackets, capitals or digits closely "
                f"(|r| ≥ {MIN_R}) over {where}.")
    parts = [f"**h{n.unit}** {n.feature} (r = {n.r:+.2f})" for n in notables]
    return (f"**Units worth a look** (correlation r of h(t) with the character read, over {where}): "
            + " · ".join(parts))
