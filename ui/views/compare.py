"""The Compare page's views: a snapshot of every run of the session's comparison, taken under the
session's lock (`read_compare`, copies only), and the tables its charts draw, computed outside it:
the validation loss against characters seen and against training time, how far back each run's
gradient reaches (the itemized gradients of rnn_core/reach.py on its last chunk, stream 0, computed
here on demand, never in the training step), the gradient norms before and after clipping, and a
sample from each run at the same settings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core.config import TrainConfig
from rnn_core.corpus import Vocab
from rnn_core.model import Params
from rnn_core.sampling import sample
from rnn_core.units import bits_per_char
from ui.session.compare import Comparison
from ui.session.timeline import SampleSettings
from ui.views.grad_flow import ReachInput, reach_view, read_reach
from ui.views.train import STAGES, downsample_index

MAX_GRAD_POINTS = 300  # per run and stage in the gradient chart
SAMPLE = SampleSettings(length=200, temperature=1.0, rng_seed=0)  # the same for every run


@dataclass(frozen=True)
class RunView:
    """One run's numbers at one whole step (copies, safe outside the lock)."""

    label: str
    config: TrainConfig
    step: int
    chars_seen: int
    train_time: float
    smooth_bpc: float
    val: dict[str, np.ndarray]       # chars_seen, time, val_bpc: one entry per evaluation
    grads: dict[str, np.ndarray]     # chars_seen, global_pre, global_post: the kept history rows
    reach: ReachInput | None         # its last chunk (stream 0) and the weights it was computed with
    params: Params                   # the current weights, for the sample
    stopped: str | None              # why it stopped before the budget (a divergence)
    done: bool

    @property
    def last_val_bpc(self) -> float | None:
        v = self.val["val_bpc"]
        return float(v[-1]) if len(v) else None


@dataclass(frozen=True)
class CompareView:
    vary: str               # what the runs differ in (ui.session.compare.VARIATIONS)
    base: str               # what they share, in words
    budget: int             # characters each run reads
    corpus_name: str
    vocab: Vocab
    runs: list[RunView]

    @property
    def labels(self) -> list[str]:
        return [run.label for run in self.runs]

    @property
    def chars_seen(self) -> int:
        """What every run has read (the least of them)."""
        return min(run.chars_seen for run in self.runs)

    @property
    def done(self) -> bool:
        return all(run.done for run in self.runs)


def read_compare(comparison: Comparison | None) -> CompareView | None:
    """Copy what the page draws of every run (call under the session's lock); None without a
    comparison."""
    if comparison is None:
        return None
    runs = []
    for run in comparison.runs:
        t = run.trainer
        runs.append(RunView(
            label=run.label, config=t.config, step=t.step_count, chars_seen=t.chars_seen,
            train_time=t.train_time, smooth_bpc=bits_per_char(t.smooth_loss, t.config.seq_len),
            val={k: t.val_history.column(k) for k in ("chars_seen", "time", "val_bpc")},
            grads={k: t.history.column(k) for k in ("chars_seen", "global_pre", "global_post")},
            reach=read_reach(t, 0), params=t.snapshot_params(), stopped=run.stopped,
            done=run.done(comparison.budget)))
    return CompareView(comparison.vary, comparison.describe_base(), comparison.budget,
                       comparison.corpus.name, comparison.corpus.vocab, runs)


def val_frame(view: CompareView) -> pd.DataFrame:
    """(run, chars_seen, time, val_bpc): each run's validation losses, bits per character. Empty
    while the only ones are the untrained weights' (at 0 characters: an axis with one value draws
    no useful ticks)."""
    parts = [pd.DataFrame({"run": run.label, "chars_seen": run.val["chars_seen"],
                           "time": run.val["time"], "val_bpc": run.val["val_bpc"]}) for run in view.runs]
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[np.isfinite(frame["val_bpc"])]
    return frame if (frame["chars_seen"] > 0).any() else frame.iloc[:0]


def grad_frame(view: CompareView, max_points: int = MAX_GRAD_POINTS) -> pd.DataFrame:
    """(run, chars_seen, norm, stage): each run's global gradient norm before and after clipping
    against the characters it had read, downsampled; floored at 1e-12 for the log scale."""
    parts = []
    for run in view.runs:
        idx = downsample_index(len(run.grads["chars_seen"]), max_points)
        for col, stage in zip(("global_pre", "global_post"), STAGES, strict=True):
            parts.append(pd.DataFrame({"run": run.label, "chars_seen": run.grads["chars_seen"][idx],
                                       "norm": np.maximum(run.grads[col][idx], 1e-12), "stage": stage}))
    return pd.concat(parts, ignore_index=True)


def reach_frame(view: CompareView) -> pd.DataFrame:
    """(run, distance, share, typical): for each run's last chunk, the typical (geometric mean)
    ||dL(t)/dh(s)|| over the pairs t - s = distance, and that as a share of distance 0 (how much
    of a prediction's gradient is left that many steps back). Runs before their first step, or
    whose typical gradient is 0 at distance 0, are left out."""
    parts = []
    for run in view.runs:
        if run.reach is None:
            continue
        r = reach_view(run.reach)
        if not r.typical[0] > 0:
            continue
        parts.append(pd.DataFrame({"run": run.label, "distance": r.distances,
                                   "share": r.typical / r.typical[0], "typical": r.typical}))
    if not parts:
        return pd.DataFrame(columns=["run", "distance", "share", "typical"])
    frame = pd.concat(parts, ignore_index=True)
    return frame[frame["share"] > 0]  # an exact 0 has no place on a log axis


def samples(view: CompareView, settings: SampleSettings = SAMPLE) -> list[str]:
    """A sample from each run's current weights, all with the same settings and random seed."""
    return [sample(run.params, view.vocab, settings.length, seed_text=settings.seed_text,
                   temperature=settings.temperature, top_k=settings.top_k, greedy=settings.greedy,
                   rng=settings.rng_seed).text for run in view.runs]


def run_heading(run: RunView) -> str:
    """'**LSTM** · validation 2.31 bits/char' (markdown; labels are the app's, never user text)."""
    val = run.last_val_bpc
    return f"**{run.label}** · validation " + (f"**{val:.2f}** bits/char" if val is not None else "–")


def run_caption(run: RunView, budget: int) -> str:
    """A run's progress in a line (markdown; labels are the app's, never user text)."""
    done = f" · **{run.stopped}**" if run.stopped else " · budget read" if run.done else ""
    return (f"{run.chars_seen:,} of {budget:,} characters · step {run.step:,} · "
            f"{run.train_time:,.1f} s of training{done}")


def norm_clip(view: CompareView) -> float | None:
    """The one threshold the runs clip the global norm at, when every run that clips does so by
    norm at the same value (None otherwise: by value, or thresholds that differ)."""
    clipping = {(run.config.clip_mode, run.config.clip) for run in view.runs if run.config.clip_mode != "off"}
    if len(clipping) == 1:
        ((mode, clip),) = clipping
        return clip if mode == "norm" else None
    return None
