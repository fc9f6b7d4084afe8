"""A comparison: two or three runs on one text, from one seed, with one budget of characters,
whose settings differ in one thing (the cell, the optimizer, clipping, the hidden size).

The session's one worker trains them in turn (ui/session/worker.py), so a comparison costs one
training slot like a single model. `Comparison.step` always steps the run that has read the
fewest characters so far (round robin by characters seen): at any moment every run has read as
many characters as the others, give or take one step's worth, and each stops at the budget. A run
that diverges goes back to its last healthy state (the trainer does that) and stops there; the
others go on. Nothing here calls Streamlit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnn_core.config import BOUNDS, TrainConfig
from rnn_core.corpus import RECALL_GAP, Corpus
from rnn_core.sampling import sample
from rnn_core.trainer import DivergenceError, Trainer
from ui.session.limits import MAX_MODEL_MB, ModelTooBigError, check_config, model_megabytes
from ui.session.timeline import SampleSettings

VARIATIONS = ("cell", "optimizer", "clipping", "hidden size")
BUDGETS = (500_000, 2_000_000, 5_000_000, 10_000_000, 50_000_000)  # characters each run reads
DEFAULT_BUDGET = 2_000_000
# The comparison validates its runs itself, before the first step and every VAL_EVERY steps of
# each, however long it takes (the trainer's own schedule skips one when validation has taken over
# 5 % of the time): every run is evaluated at the same characters read, so the curves line up. On
# the fast preset, validating on 10,000 characters cost the time of 2.6 (RNN) to 5 (LSTM) training
# steps; on VAL_CHARS, half that: about 3-5 % of the training time.
VAL_EVERY = 50
VAL_CHARS = 5_000
# ... and takes a sample from each run at the same steps, with the same settings and random seed:
# the samples differ only in what the runs have learnt from the same characters.
SAMPLE = SampleSettings(length=200, rng_seed=0)

CELL_LABELS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
# Each optimizer at a learning rate that suits it, or the comparison would be of learning rates.
# The fast preset's settings on python-docs (32 float32 streams, hidden 128, norm clipping at 20),
# validation bits/char after 300 / 600 / 900 steps: Adam 2e-3 3.74 / 3.33 / 3.08; Adagrad 0.03
# 3.59 / 3.24 / 3.09 (0.01: 3.53 at 900, 0.1: 3.70); SGD 0.03 4.09 / 3.71 / 3.56 (0.1: 4.55; 0.3
# diverged).
OPTIMIZER_RUNS = (("adagrad", 0.03), ("sgd", 0.03), ("adam", 2e-3))
OPTIMIZER_LABELS = {"sgd": "SGD", "momentum": "Momentum", "adagrad": "Adagrad", "rmsprop": "RMSProp",
                    "adam": "Adam"}
NORM_CLIP = 20.0  # the fast preset's: "clipping on" when the base has it off

# "Watch gradients vanish": the three cells on the built-in `recall` text (a letter must be recalled
# 22 to 26 characters later), with the settings of tests/test_long_range.py, where within 5,000
# steps (3.2 M characters) the LSTM and GRU learn the recall and the RNN does not. The preset's
# budget leaves room beyond that: 7,812 steps of 16 streams x 40 characters.
VANISH_CORPUS = "recall"
VANISH_CONFIG = TrainConfig(hidden=32, seq_len=40, batch=16, optimizer="adam", lr=0.01, clip=1.0,
                            dtype="float32", seed=1)
VANISH_BUDGET = 5_000_000
RECALL_STREAMS = 10  # held-out pieces the recall is scored on, read side by side from a zero state


def recall_score(trainer: Trainer, max_chars: int = VAL_CHARS) -> float | None:
    """On the `recall` text: the share of held-out recalls the model gets right, i.e. of the
    capitals after "=" that it puts first (its most probable next character). A guess among the
    four letters scores about 1/4, memory 1. Read as RECALL_STREAMS pieces from a zero state; a
    recall whose letter lies before its piece's start (within RECALL_GAP + 2 characters of it) is
    not scored. None when the held-out text has no recall to score."""
    stoi = trainer.corpus.vocab.stoi
    if "=" not in stoi:
        return None
    data = trainer.val_data[: max_chars + 1]
    L = (len(data) - 1) // RECALL_STREAMS
    if L < 1:
        return None
    inputs = np.ascontiguousarray(data[: RECALL_STREAMS * L].reshape(RECALL_STREAMS, L).T)        # (L, S)
    targets = np.ascontiguousarray(data[1 : RECALL_STREAMS * L + 1].reshape(RECALL_STREAMS, L).T)  # (L, S)
    h0 = np.zeros((RECALL_STREAMS, trainer.carry_size), trainer.dtype)
    fw = trainer.cell.forward(trainer.params, inputs, targets, h0)
    t, b = np.nonzero(inputs == stoi["="])
    scored = t >= RECALL_GAP[1] + 2  # the letter is within this piece
    if not scored.any():
        return None
    t, b = t[scored], b[scored]
    return float((fw.ps[t, b].argmax(axis=-1) == targets[t, b]).mean())


def run_configs(base: TrainConfig, vary: str) -> list[tuple[str, TrainConfig]]:
    """(label, settings) of each run: `base` with one setting changed, as `vary` says. ValueError
    for an unknown variation."""
    if vary == "cell":
        return [(CELL_LABELS[c], base.replace(cell=c)) for c in CELL_LABELS]
    if vary == "optimizer":
        return [(f"{OPTIMIZER_LABELS[o]}, lr {lr:g}", base.replace(optimizer=o, lr=lr))
                for o, lr in OPTIMIZER_RUNS]
    if vary == "clipping":
        on = base if base.clip_mode != "off" else base.replace(clip_mode="norm", clip=NORM_CLIP)
        return [(f"clipping by {on.clip_mode} at {on.clip:g}", on),
                ("no clipping", on.replace(clip_mode="off"))]
    if vary == "hidden size":
        lo, hi = (int(b) for b in BOUNDS["hidden"])
        sizes = sorted({min(max(h, lo), hi) for h in (base.hidden // 2, base.hidden, base.hidden * 2)})
        return [(f"hidden {h}", base.replace(hidden=h)) for h in sizes]
    raise ValueError(f"unknown variation {vary!r}; choose one of {', '.join(VARIATIONS)}")


@dataclass(frozen=True)
class RunSample:
    step: int
    chars_seen: int
    text: str


class CompareRun:
    """One run of a comparison: its label, its trainer, its latest sample, and why it stopped
    early (a divergence)."""

    def __init__(self, label: str, trainer: Trainer) -> None:
        self.label = label
        self.trainer = trainer
        self.sample: RunSample | None = None
        self.recall: float | None = None  # the latest recall_score (the preset's text only)
        self.stopped: str | None = None  # "diverged at step N (...)": it trains no more

    def evaluate(self, recall: bool = False) -> None:
        """The validation loss and a sample (SAMPLE) of the current weights; with `recall`, its
        recall_score too."""
        t = self.trainer
        t.validation_bpc(VAL_CHARS)
        if recall:
            self.recall = recall_score(t)
        text = sample(t.params, t.corpus.vocab, SAMPLE.length, seed_text=SAMPLE.seed_text,
                      temperature=SAMPLE.temperature, top_k=SAMPLE.top_k, greedy=SAMPLE.greedy,
                      rng=SAMPLE.rng_seed).text
        self.sample = RunSample(t.step_count, t.chars_seen, text)

    def done(self, budget: int) -> bool:
        return self.stopped is not None or self.trainer.chars_seen >= budget


class Comparison:
    """The runs of one comparison and the scheduler that interleaves them (see the module
    docstring). Held and stepped under the session's lock, like the session's trainer."""

    def __init__(self, corpus: Corpus, base: TrainConfig, vary: str, budget: int = DEFAULT_BUDGET,
                 preset: bool = False) -> None:
        """`preset`: the comparison is "Watch gradients vanish" (its own text and settings, which a
        Reset keeps). Raises ConfigError (ModelTooBigError among them) when a run's settings are
        invalid or the runs together would not fit the memory one session may use."""
        configs = [(label, check_config(cfg.replace(val_every=0), len(corpus.vocab)))
                   for label, cfg in run_configs(base, vary)]
        mb = sum(model_megabytes(cfg, len(corpus.vocab)) for _, cfg in configs)
        if mb > MAX_MODEL_MB:
            raise ModelTooBigError(
                f"the {len(configs)} runs together need about {mb:,.0f} MB, more than the "
                f"{MAX_MODEL_MB:,.0f} MB one session may use on this server. Lower the hidden size "
                "or the batch on the Train page.")
        self.corpus = corpus
        self.base = base
        self.vary = vary
        self.budget = budget
        self.preset = preset
        self.runs = [CompareRun(label, Trainer(corpus, cfg, val_share=None)) for label, cfg in configs]

    # --- the schedule -----------------------------------------------------------------------

    @property
    def done(self) -> bool:
        """Every run has read its budget of characters (or stopped)."""
        return all(run.done(self.budget) for run in self.runs)

    def next_run(self) -> CompareRun | None:
        """The run to step next: of those not done, the one that has read the fewest characters
        (the first of them on a tie); None when all are done."""
        waiting = [run for run in self.runs if not run.done(self.budget)]
        return min(waiting, key=lambda run: run.trainer.chars_seen, default=None)

    def step(self) -> bool:
        """One step of the run that is behind; False when every run is done. A divergence stops
        that run (its trainer went back to a healthy state) and the others go on."""
        run = self.next_run()
        if run is None:
            return False
        t = run.trainer
        if t.step_count == 0 and not len(t.val_history):
            run.evaluate(self.preset)  # each curve starts where the untrained weights are
        try:
            t.step()
        except DivergenceError as exc:
            run.stopped = (f"diverged at step {exc.step:,} and stopped (back at step "
                           f"{exc.back_to:,})")
            return True
        if t.step_count % VAL_EVERY == 0:
            run.evaluate(self.preset)
        return True

    def step_round(self) -> None:
        """One step of each run that is not done (the sidebar's Step on the Compare page)."""
        for _ in range(sum(not run.done(self.budget) for run in self.runs)):
            self.step()

    def run_for(self, seconds: float, until: Callable[[], bool] | None = None) -> int:
        """Steps, in turn, for about `seconds` of wall time or until `until()` says stop (at
        least one unless all are done); the number of steps taken."""
        end = time.perf_counter() + seconds
        n = 0
        while self.step():
            n += 1
            if time.perf_counter() >= end or (until is not None and until()):
                break
        return n

    # --- facts --------------------------------------------------------------------------------

    @property
    def chars_seen(self) -> int:
        """The characters the runs have all read (the least any run has)."""
        return min(run.trainer.chars_seen for run in self.runs)

    def describe_base(self) -> str:
        """What every run shares, in a few words (no user text)."""
        b = self.base
        parts = {
            "cell": CELL_LABELS[b.cell], "hidden size": f"hidden {b.hidden}",
            "optimizer": f"{OPTIMIZER_LABELS[b.optimizer]}, lr {b.lr:g}",
            "clipping": "no clipping" if b.clip_mode == "off" else f"clipping by {b.clip_mode} at {b.clip:g}",
        }
        shared = [text for name, text in parts.items() if name != self.vary]
        steps = f"{b.batch} streams × {b.seq_len} characters a step, {b.dtype}, seed {b.seed}"
        return ", ".join([*shared, steps])
