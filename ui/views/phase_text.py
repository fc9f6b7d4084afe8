"""What the Unrolled page says at each phase of the walk: the article's equation (LaTeX), the same
equation with this step's numbers at the chosen time step, the lines of rnn_core that compute it
(read from its source by markers, ui/views/source.py), and the per-parameter tables.

Characters in LaTeX go through ui.text.latex_text, in markdown through escape_markdown: the
characters of an uploaded text must not become commands of either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnn_core import model, optim
from rnn_core.optim import Optimizer
from rnn_core.trainer import Trainer
from ui.text import escape_markdown, latex_text
from ui.views.source import Excerpt, excerpt
from ui.views.unrolled import (
    BACKWARD,
    CHUNK,
    CLIP,
    FORWARD,
    PHASES,
    SOFTMAX,
    STEP,
    UPDATE,
    StepCheck,
    UnrolledView,
)


@dataclass(frozen=True)
class PhaseText:
    title: str          # e.g. "3 · Backward"
    lead: str           # markdown: what happens in this phase
    rule: str           # LaTeX: the article's equations
    numbers: str        # LaTeX: the same with this step's numbers at time step t
    note: str           # markdown: what the numbers are of (unit, stream, ...)

    @property
    def equations(self) -> str:
        """The rule, then the numbers, as one LaTeX block."""
        return r"\begin{gathered}" + self.rule + r" \\[10pt] " + self.numbers + r"\end{gathered}"


# --- numbers and characters in LaTeX ------------------------------------------------------------


def num(x: float, digits: int = 4) -> str:
    """x with `digits` significant digits, in LaTeX (×10^n outside [0.001, 10^5))."""
    if not math.isfinite(x):
        return r"\text{" + ("NaN" if math.isnan(x) else ("-" if x < 0 else "") + "inf") + "}"
    if x == 0 or 1e-3 <= abs(x) < 1e5:
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(x)))) if x else 0
        return f"{x:.{decimals}f}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def count(n: int) -> str:
    """An integer with thousands separators that LaTeX does not space out (12{,}800)."""
    return f"{n:,}".replace(",", "{,}")


def signed(x: float, digits: int = 4) -> str:
    """A term after the first of a sum: '+ 0.1234' or '- 0.1234'."""
    return ("- " if x < 0 else "+ ") + num(abs(x), digits)


def char(label: str) -> str:
    """A (visible) character as a small typewriter box."""
    return r"\fbox{\texttt{" + latex_text(label) + "}}"


def gathered(*lines: str) -> str:
    return r"\begin{gathered}" + r" \\ ".join(lines) + r"\end{gathered}"


# --- the update rules, one per optimizer (tests check every optimizer has one) ------------------


def update_rule(opt: type[Optimizer]) -> str:
    """The optimizer's update rule in LaTeX (its docstring, optim.py, says it in code); P is any
    weight, g its gradient after clipping, η the learning rate. Constants are read from the class."""
    step = r"\qquad P \leftarrow P - "
    match opt.name:
        case "sgd":
            return r"P \leftarrow P - \eta\, g"
        case "momentum":
            return rf"v \leftarrow {opt.mu:g}\, v + g, {step} \eta\, v"
        case "adagrad":
            return rf"m \leftarrow m + g^2, {step} \frac{{\eta\, g}}{{\sqrt{{m + 10^{{-8}}}}}}"
        case "rmsprop":
            return (rf"s \leftarrow {opt.rho:g}\, s + {1 - opt.rho:.3g}\, g^2, "
                    rf"{step} \frac{{\eta\, g}}{{\sqrt{{s}} + \epsilon}}")
        case "adam":
            return (rf"m \leftarrow {opt.beta1:g}\, m + {1 - opt.beta1:.3g}\, g, \quad "
                    rf"v \leftarrow {opt.beta2:g}\, v + {1 - opt.beta2:.3g}\, g^2 \\ "
                    rf"P \leftarrow P - \eta\, \frac{{\hat m}}{{\sqrt{{\hat v}} + \epsilon}} \quad "
                    r"(\hat m, \hat v: \text{bias-corrected})")
    raise KeyError(f"no update rule written for optimizer {opt.name!r}")


# --- the text of each phase -----------------------------------------------------------------------


def phase_text(view: UnrolledView, phase: int, t: int, check: StepCheck | None = None) -> PhaseText:
    """The words and equations of `phase` at time step t (clamped to the chunk)."""
    t = min(max(int(t), 0), view.T - 1)
    make = {CHUNK: _chunk, FORWARD: _forward, SOFTMAX: _softmax, BACKWARD: _backward, CLIP: _clip,
            UPDATE: _update}
    if phase == STEP:
        return _step(view, check)
    return make[phase](view, t)


def _title(phase: int, extra: str = "") -> str:
    return f"{phase} · {PHASES[phase]}{extra}"


def _md_char(label: str) -> str:
    return f"`{label}`" if "`" not in label else escape_markdown(label)


def _chunk(v: UnrolledView, t: int) -> PhaseText:
    carried = float(np.linalg.norm(v.h0))
    stream = f"Stream {v.stream} of {v.streams} reads" if v.streams > 1 else "The network reads"
    start = ("the start of the text, so h(−1) = 0" if carried == 0 else
             "h(−1) is the state the previous chunk ended in, carried over without gradient")
    return PhaseText(
        title=_title(CHUNK),
        lead=(f"{stream} T = {v.T} characters from position {v.p:,}: each input x(t) is one character, "
              f"its target the next; {start}."),
        rule=gathered(r"x(t) = \text{onehot}(\text{text}[p + t]), \qquad "
                      r"\text{target}(t) = \text{text}[p + t + 1], \qquad t = 0, \dots, T-1"),
        numbers=gathered(
            rf"x({t}) = \text{{onehot}}({char(v.inputs[t])}) \;(\text{{id }} {v.input_ids[t]}), \qquad "
            rf"\text{{target}}({t}) = {char(v.targets[t])} \;(\text{{id }} {v.target_ids[t]})",
            rf"p = {v.p}, \qquad \lVert h(-1) \rVert = {num(carried)}"),
        note=f"Step {v.step:,} · {v.vocab_size} characters in the vocabulary, so x(t) has {v.vocab_size} "
             f"entries, one of them 1.",
    )


def _forward(v: UnrolledView, t: int) -> PhaseText:
    drawn = v.units
    i = int(drawn[np.argmax(np.abs(v.hs[t, drawn]))])  # the drawn unit most active at t
    ux, wh, b, h = v.ux[t, i], v.wh[t, i], v.b[i], v.hs[t, i]
    prev = "h(-1)" if t == 0 else f"h({t - 1})"
    return PhaseText(
        title=_title(FORWARD, f", t = 0 … {v.T - 1}"),
        lead=("h(t) mixes the input character (through U) with the previous state (through W), "
              "squashed by tanh into (−1, 1); the columns fill in as t advances."),
        rule=gathered(r"h(t) = \tanh\big(U x(t) + W h(t-1) + b\big)"),
        numbers=gathered(
            rf"h_{{{i}}}({t}) = \tanh\big(\underbrace{{{num(ux)}}}_{{(U x({t}))_{{{i}}}}}"
            rf"\underbrace{{{signed(wh)}}}_{{(W {prev})_{{{i}}}}}"
            rf"\underbrace{{{signed(b)}}}_{{b_{{{i}}}}}\big) = \tanh({num(ux + wh + b)}) = {num(h)}",
            rf"\lVert h({t}) \rVert = {num(float(np.linalg.norm(v.hs[t])))}"),
        note=(f"Unit {i}: of the {len(drawn)} units drawn, the most active at t = {t}. x({t}) is one-hot "
              f"({_md_char(v.inputs[t])}), so U x({t}) is that character's column of U."),
    )


def _softmax(v: UnrolledView, t: int) -> PhaseText:
    ch = char(v.targets[t])
    rank = int(v.target_rank[t])
    mean = (f" The step's loss is the mean over the {v.streams} streams: {v.mean_loss:.3f}."
            if v.streams > 1 else "")
    return PhaseText(
        title=_title(SOFTMAX),
        lead=("Scores o(t) for the K characters (through V), their softmax ŷ(t), and the loss term "
              "L(t): minus the log of the probability given to the true next character."),
        rule=gathered(r"o(t) = V h(t) + c, \qquad \hat y(t) = \operatorname{softmax}\big(o(t)\big)",
                      r"L(t) = -\ln \hat y(t)_{\text{target}(t)}, \qquad L = \sum_t L(t)"),
        numbers=gathered(
            rf"\hat y({t})_{{{ch}}} = \frac{{e^{{o({t})_{{{ch}}}}}}}{{\sum_k e^{{o({t})_k}}}} = "
            rf"e^{{{num(v.o_target[t])} - {num(v.log_sum_exp[t])}}} = {num(v.p_target[t])}",
            rf"L({t}) = -\ln {num(v.p_target[t])} = {num(v.losses[t])}, \qquad "
            rf"L = \sum_{{t=0}}^{{{v.T - 1}}} L(t) = {num(v.loss)}"),
        note=(f"The true next character {_md_char(v.targets[t])} is rank {rank} of {v.vocab_size}; "
              f"a uniform guess would give L(t) = ln {v.vocab_size} = {math.log(v.vocab_size):.3f}."
              + mean),
    )


def _backward(v: UnrolledView, t: int) -> PhaseText:
    drawn = v.units
    i = int(drawn[np.argmax(np.abs(v.dh[t, drawn]))])
    out, nxt, total = v.from_output[t, i], v.from_next[t, i], v.dh[t, i]
    later = (rf"\underbrace{{{signed(nxt)}}}_{{(W^\top \partial L / \partial z({t + 1}))_{{{i}}}}}"
             if t < v.T - 1 else r"\underbrace{+\,0}_{\text{nothing after } T-1}")
    streams = (f" Each stream's own loss: the step's gradients are the mean over the {v.streams} streams."
               if v.streams > 1 else "")
    return PhaseText(
        title=_title(BACKWARD, f", t = {v.T - 1} … 0"),
        lead=("Backpropagation through time: ∂L/∂h(t) comes from h(t)'s own output and, along W, from "
              "h(t+1). Bars: its size; purple arrows: what each path carries."),
        rule=gathered(r"\partial L / \partial h(t) = V^\top\big(\hat y(t) - \text{onehot}"
                      r"(\text{target}(t))\big) + W^\top\, \partial L / \partial z(t+1)",
                      r"\partial L / \partial z(t) = \big(1 - h(t)^2\big) \odot \partial L / \partial h(t)"),
        numbers=gathered(
            rf"\partial L / \partial h_{{{i}}}({t}) = "
            rf"\underbrace{{{num(out)}}}_{{(V^\top(\hat y({t}) - \text{{onehot}}))_{{{i}}}}}"
            rf"{later} = {num(total)}",
            rf"\lVert \partial L / \partial h({t}) \rVert = {num(float(v.dh_norms[t]))}"),
        note=(f"Unit {i}: of the units drawn, the one with the largest gradient at t = {t}. "
              f"No gradient flows into h(−1): BPTT stops at the chunk's edge.{streams}"),
    )


def _clip(v: UnrolledView, t: int) -> PhaseText:
    total = v.entries
    cut = sum(r.cut for r in v.params)
    if v.clip_mode == "norm":
        rule = (r"g \leftarrow g \cdot \min\Big(1, \frac{\text{clip}}{\lVert g \rVert}\Big), \qquad "
                r"\lVert g \rVert = \sqrt{\textstyle\sum_{P \in \{U, W, V, b, c\}} "
                r"\lVert \partial L / \partial P \rVert^2}")
        if v.global_pre > v.clip:
            numbers = (rf"\lVert g \rVert = {num(v.global_pre)} > {num(v.clip)} \;\Rightarrow\; "
                       rf"g \leftarrow {num(v.clip / v.global_pre)}\, g, \qquad \lVert g \rVert = "
                       rf"{num(v.global_post)}")
        else:
            numbers = rf"\lVert g \rVert = {num(v.global_pre)} \le {num(v.clip)}: \text{{unchanged}}"
        lead = f"Clipping by global norm at {v.clip:g}: every gradient is scaled by the same factor."
    elif v.clip_mode == "value":
        rule = (r"g_j \leftarrow \max\big(-\text{clip}, \min(\text{clip}, g_j)\big) \quad "
                r"\text{for every entry } j")
        numbers = (rf"\text{{clip}} = {num(v.clip)}: \; {count(cut)} \text{{ of }} {count(total)} "
                   rf"\text{{ entries cut}}, \qquad \lVert g \rVert = {num(v.global_pre)} \to "
                   rf"{num(v.global_post)}")
        lead = f"Clipping by value at ±{v.clip:g}, entry by entry (min-char-rnn's np.clip)."
    else:
        rule = r"g \leftarrow g \quad \text{(clipping off)}"
        numbers = rf"\lVert g \rVert = {num(v.global_pre)}"
        lead = "Clipping is off: the gradients go to the optimizer as they are."
    return PhaseText(
        title=_title(CLIP), lead=lead + " The table: each parameter's before and after.",
        rule=gathered(rule), numbers=gathered(numbers),
        note=f"{cut:,} of {total:,} gradient entries changed by clipping." + _diverges(v),
    )


def _update(v: UnrolledView, t: int) -> PhaseText:
    big = max(v.params, key=lambda r: r.delta_max)
    at = ",".join(str(i) for i in big.at)
    name = rf"{big.name}_{{{at}}}"
    return PhaseText(
        title=_title(UPDATE),
        lead=(f"{v.optimizer.__name__} moves every weight P along its clipped gradient g, learning rate "
              f"η = {v.lr:g}. The table: how far each parameter moved."),
        rule=gathered(update_rule(v.optimizer)),
        numbers=gathered(rf"{name}: \; {num(big.before, 5)} \to {num(big.after, 5)} \qquad "
                         rf"(\Delta = {num(big.after - big.before)}, \; g = {num(big.grad)})"),
        note=f"The largest move of any weight this step: {big.name}[{at}]." + _diverges(v),
    )


def _step(v: UnrolledView, check: StepCheck | None) -> PhaseText:
    if check is None:
        numbers = r"\text{not taken yet}"
        note = ""
    else:
        diffs = r",\; ".join(rf"{k}: {num(d)}" for k, d in check.max_diff.items())
        numbers = rf"\max \lvert P_{{\text{{trainer}}}} - P_{{\text{{after}}}} \rvert = {diffs}"
        note = (f"Step {check.step:,} taken: the trainer's weights are exactly the ones this walk showed "
                "after the update." if check.taken and check.equal else
                f"The trainer is at step {check.trainer_step:,}: this step was not taken as shown.")
    return PhaseText(
        title=_title(STEP),
        lead=("The trainer's step() ran the same phases on all streams and applied this update; "
              "Next walks through the next step."),
        rule=gathered(r"P \leftarrow P + \Delta P \qquad \text{for } P \in \{U, W, V, b, c\}"),
        numbers=gathered(numbers), note=note,
    )


def _diverges(v: UnrolledView) -> str:
    return (" **This step diverges**: the trainer will not take it, but go back to its last healthy "
            "state and pause." if v.diverges else "")


# --- the lines of rnn_core behind each phase ----------------------------------------------------


def phase_source(phase: int, clip_mode: str, optimizer: type[Optimizer]) -> list[Excerpt]:
    """The lines of rnn_core that compute `phase`, read from its source now (LookupError when a
    marker has gone: tests/test_unrolled_view.py reads every one)."""
    if phase == CHUNK:
        return [excerpt(Trainer._next_chunk, "if self.step_count == 0", "targets = np.ascontiguousarray")]
    if phase == FORWARD:
        return [excerpt(model.forward, "for t in range(T):", "# h(t)")]
    if phase == SOFTMAX:
        return [excerpt(model.forward, "# o(t) = V h(t) + c", "softmax_nll(o, targets"),
                excerpt(model.softmax_nll, "picked = o.ravel()", "return np.log(sums) - picked")]
    if phase == BACKWARD:
        return [excerpt(model.gradients, "# V^T do(t), the part from o(t)", "dz[t].dot(W, out=dh_next)")]
    if phase == CLIP:
        start, end = {"norm": ('elif mode == "norm":', "n_clipped = int(np.count_nonzero(g))"),
                      "value": ("c = np.clip(g, -clip, clip)", "n_clipped = int(np.count_nonzero(np.abs(g)"),
                      "off": ('elif mode == "off":', "return grads.alias()")}[clip_mode]
        return [excerpt(optim._clip_flat, start, end)]
    if phase == UPDATE:
        return [excerpt(optimizer._update, "def _update(", "p += delta")]
    if phase == STEP:
        return [excerpt(Trainer.step, "p, inputs, targets, h0 = self._next_chunk()", "return self._record(")]
    raise ValueError(f"no phase {phase}")


# --- tables ---------------------------------------------------------------------------------------


def param_table(view: UnrolledView, phase: int) -> pd.DataFrame | None:
    """Per parameter: the clipping (CLIP), the update (UPDATE); None for the other phases (the
    step taken says in its equation that the weights are the ones shown)."""
    rows = view.params
    names = [f"{r.name} {'×'.join(map(str, r.shape))}" for r in rows]
    if phase == CLIP:
        return pd.DataFrame({"parameter": names, "‖g‖ before": [r.norm_pre for r in rows],
                             "‖g‖ after": [r.norm_post for r in rows],
                             "entries cut": [f"{r.cut:,} of {r.size:,}" for r in rows]})
    if phase == UPDATE:
        return pd.DataFrame({"parameter": names, "‖ΔP‖": [r.delta_norm for r in rows],
                             "largest |Δ|": [r.delta_max for r in rows],
                             "at": [f"{r.name}[{','.join(map(str, r.at))}]" for r in rows]})
    return None


def units_table(view: UnrolledView, t: int) -> pd.DataFrame:
    """Every hidden unit at time step t: the parts of h(t), h(t) and dL/dh(t) (what the figure
    draws for only some units)."""
    t = min(max(int(t), 0), view.T - 1)
    h_prev = view.h0 if t == 0 else view.hs[t - 1]
    drawn = set(view.units.tolist())
    return pd.DataFrame({
        "unit": np.arange(view.H), "drawn": ["✓" if u in drawn else "" for u in range(view.H)],
        "h(t-1)": h_prev, "U x(t)": view.ux[t], "W h(t-1)": view.wh[t], "b": view.b,
        "h(t)": view.hs[t], "∂L/∂h(t)": view.dh[t],
    })
