"""The Unrolled page: the network unrolled over the next training chunk of one stream, and that
training step walked through phase by phase.

The numbers are rnn_core's own: `Trainer.peek()` computes the next step on copies without taking
it (hs, softmax, loss terms, dL/dh(t), gradients before and after clipping, the weights after the
update), and `step()` right after takes exactly that update. What the article's equations split
into parts (U x(t) and W h(t-1), the two terms of dL/dh(t)) is recomputed here from the preview's
own weights; tests/test_unrolled_view.py checks the parts add up to rnn_core's totals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnn_core.config import TrainConfig
from rnn_core.corpus import Vocab
from rnn_core.model import PARAM_NAMES
from rnn_core.optim import Optimizer
from rnn_core.trainer import StepPreview, Trainer
from ui.text import visible_char
from ui.views.hidden import unit_order

PHASES = ("The chunk", "Forward", "Softmax and loss", "Backward", "Clipping", "Update", "Take the step")
CHUNK, FORWARD, SOFTMAX, BACKWARD, CLIP, UPDATE, STEP = range(len(PHASES))
BAR_KINDS = ("state", "loss", "gradient")  # ‖h(t)‖, L(t), ‖dL/dh(t)‖
SHOWN_UNITS = 16  # hidden units drawn (the most active on the chunk); all are in the table
TOP_K = 3         # next-character candidates drawn per time step


# --- reading (under the session's lock) -------------------------------------------------------


@dataclass(frozen=True)
class PreviewRead:
    """The next step as `Trainer.peek()` computes it, and what is needed to show it."""

    preview: StepPreview
    vocab: Vocab
    config: TrainConfig
    streams: int
    optimizer: type[Optimizer]  # its class: its update rule, docstring and constants
    key: PreviewKey


PreviewKey = tuple[int, int, TrainConfig, str, int]


def preview_key(trainer: Trainer) -> PreviewKey:
    """What the next step depends on besides the weights, which only a step or a new trainer (a
    Reset, a loaded model, another text) changes: which trainer, its next step, its settings (a new
    learning rate changes the update), its text. Run under the lock."""
    return id(trainer), trainer.step_count + 1, trainer.config, trainer.corpus.name, len(trainer.corpus)


def read_preview(trainer: Trainer) -> PreviewRead:
    """The trainer's next step, not taken (run under the lock: peek only computes on copies)."""
    return PreviewRead(trainer.peek(), trainer.corpus.vocab, trainer.config, trainer.streams,
                       type(trainer.optimizer), preview_key(trainer))


# --- the view of one stream ---------------------------------------------------------------------


@dataclass(frozen=True)
class ParamRow:
    """One parameter's gradient, clipping and update."""

    name: str
    shape: tuple[int, ...]
    norm_pre: float        # ||g|| before clipping
    norm_post: float       # ... and after
    cut: int               # entries that clipping changed
    delta_norm: float      # ||ΔP||, the update
    delta_max: float       # the largest |ΔP| of one entry ...
    at: tuple[int, ...]    # ... at this index
    before: float          # that entry before the update,
    grad: float            # its gradient after clipping,
    after: float           # and after the update

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))


@dataclass(frozen=True)
class UnrolledView:
    step: int               # the step this is (the trainer's next)
    stream: int
    streams: int
    p: int                  # where the chunk starts in each stream's segment
    inputs: list[str]       # (T,) visible input characters x(t)
    targets: list[str]      # (T,) visible true next characters
    input_ids: np.ndarray   # (T,)
    target_ids: np.ndarray  # (T,)
    units: np.ndarray       # (n,) the units drawn, most active on the chunk first
    h0: np.ndarray          # (H,) h(-1), carried in from the previous chunk (zero after a wrap)
    hs: np.ndarray          # (T, H) h(t), rnn_core's
    ux: np.ndarray          # (T, H) U x(t): column x(t) of U
    wh: np.ndarray          # (T, H) W h(t-1)
    b: np.ndarray           # (H,)
    top_chars: list[list[str]]  # (T, k) visible candidates for the next character, likeliest first
    top_p: np.ndarray       # (T, k) their probabilities, rnn_core's softmax
    top_is_target: np.ndarray   # (T, k) bool
    p_target: np.ndarray    # (T,) ŷ(t)[target(t)], rnn_core's
    target_rank: np.ndarray     # (T,) 1 = the likeliest
    o_target: np.ndarray    # (T,) the target's logit o(t)[target(t)]
    log_sum_exp: np.ndarray     # (T,) ln Σ_k exp o(t)_k
    losses: np.ndarray      # (T,) L(t) = -ln ŷ(t)[target(t)], rnn_core's
    loss: float             # this stream's chunk loss, Σ_t L(t)
    mean_loss: float        # the step's loss: the mean over the streams
    dh: np.ndarray          # (T, H) dL/dh(t) of this stream's chunk loss, rnn_core's
    from_output: np.ndarray     # (T, H) V^T (ŷ(t) - onehot(target(t))): what reaches h(t) from o(t)
    from_next: np.ndarray   # (T, H) W^T dL/dz(t+1): what flows back along W (zero at t = T-1)
    params: list[ParamRow]  # U, W, V, b, c
    global_pre: float       # ||g|| over all parameters, before clipping
    global_post: float
    clip_mode: str
    clip: float
    lr: float
    optimizer: type[Optimizer]
    vocab_size: int
    diverges: bool          # step() would not update but go back (DivergenceError)

    @property
    def T(self) -> int:  # noqa: N802 (the article's letters)
        return len(self.inputs)

    @property
    def H(self) -> int:  # noqa: N802
        return self.hs.shape[1]

    @property
    def dh_norms(self) -> np.ndarray:
        """(T,) ||dL/dh(t)||."""
        return np.linalg.norm(self.dh, axis=1)

    @property
    def entries(self) -> int:
        return sum(r.size for r in self.params)

    def param(self, name: str) -> ParamRow:
        return next(r for r in self.params if r.name == name)


def unrolled_view(read: PreviewRead, stream: int = 0, units: int = SHOWN_UNITS,
                  k: int = TOP_K) -> UnrolledView:
    """One stream of the previewed step (stream clamped to [0, B)), float64 for showing."""
    pv = read.preview
    fw = pv.forward
    s = min(max(int(stream), 0), read.streams - 1)
    U, W, V, b, c = (np.asarray(pv.params[name], np.float64) for name in PARAM_NAMES)
    inputs, targets = pv.inputs[:, s].copy(), pv.targets[:, s].copy()  # (T,)
    T = len(inputs)
    ts = np.arange(T)
    hs_all = fw.hs[:, s].astype(np.float64)  # (T+1, H): h(-1), h(0) ... h(T-1)
    hs = hs_all[1:]
    ps = fw.ps[:, s].astype(np.float64)      # (T, K)
    K = ps.shape[1]
    k = max(1, min(k, K))
    top = np.argsort(-ps, axis=1, kind="stable")[:, :k]               # (T, k)
    p_target = ps[ts, targets]
    o = hs @ V.T + c                                                   # (T, K) logits
    o_max = o.max(axis=1)
    log_sum_exp = o_max + np.log(np.exp(o - o_max[:, None]).sum(axis=1))
    dh = pv.dh[:, s].astype(np.float64)                                # (T, H)
    do = ps.copy()
    do[ts, targets] -= 1.0                                             # ŷ(t) - onehot(target(t))
    dz = (1.0 - hs * hs) * dh                                          # dL/dz(t)
    from_next = np.zeros_like(dh)
    from_next[:-1] = dz[1:] @ W                                        # W^T dz(t+1), as rows
    chars = read.vocab.chars
    return UnrolledView(
        step=pv.step, stream=s, streams=read.streams, p=pv.p,
        inputs=[visible_char(chars[i]) for i in inputs], targets=[visible_char(chars[i]) for i in targets],
        input_ids=inputs, target_ids=targets,
        units=unit_order(hs, "most saturated")[:units], h0=hs_all[0], hs=hs,
        ux=U[:, inputs].T.copy(), wh=hs_all[:-1] @ W.T, b=b,
        top_chars=[[visible_char(chars[i]) for i in row] for row in top],
        top_p=np.take_along_axis(ps, top, axis=1), top_is_target=top == targets[:, None],
        p_target=p_target, target_rank=(ps > p_target[:, None]).sum(axis=1) + 1,
        o_target=o[ts, targets], log_sum_exp=log_sum_exp,
        losses=fw.losses[:, s].astype(np.float64), loss=float(fw.losses[:, s].astype(np.float64).sum()),
        mean_loss=pv.loss, dh=dh, from_output=do @ V, from_next=from_next,
        params=_param_rows(pv), global_pre=pv.clip.global_pre, global_post=pv.clip.global_post,
        clip_mode=read.config.clip_mode, clip=read.config.clip, lr=pv.lr, optimizer=read.optimizer,
        vocab_size=K, diverges=pv.diverges,
    )


def _param_rows(pv: StepPreview) -> list[ParamRow]:
    rows = []
    for name in PARAM_NAMES:
        g, clipped = pv.grads[name], pv.clipped[name]
        before, after = pv.params[name], pv.params_after[name]
        delta = after - before  # in the weights' dtype, as Trainer.last_update() computes it
        j = np.unravel_index(int(np.argmax(np.abs(delta))), delta.shape)
        rows.append(ParamRow(
            name=name, shape=tuple(g.shape),
            norm_pre=pv.clip.norm_pre[name], norm_post=pv.clip.norm_post[name],
            cut=int(np.count_nonzero(clipped != g)),
            delta_norm=float(np.linalg.norm(delta.astype(np.float64))),
            delta_max=float(abs(delta[j])), at=tuple(int(i) for i in j),
            before=float(before[j]), grad=float(clipped[j]), after=float(after[j]),
        ))
    return rows


# --- one frame of the figure: what is computed at this phase and time step --------------------


@dataclass(frozen=True)
class FrameView:
    """What the unrolled figure draws at one phase and time step. Columns are time steps -1 (h(-1),
    carried in) to T-1; NaN marks what the walk has not computed yet."""

    phase: int
    t: int
    inputs: list[str]        # (T,)
    targets: list[str]       # (T,)
    units: list[int]         # (n,) rows of the hidden band, top to bottom
    cells: np.ndarray        # (n, T+1) h(t) of the drawn units, or dL/dh(t) in the backward phase
    cells_are_grads: bool
    cells_range: float       # colour scale ±range (1 for tanh's h)
    top_chars: list[list[str]] | None  # (T, k), None before the softmax
    top_p: np.ndarray | None     # (T, k)
    top_is_target: np.ndarray | None
    p_target: np.ndarray | None  # (T,)
    bars: np.ndarray | None  # (T,) a quantity per time step (NaN: not computed yet), or None
    bars_kind: str           # what they are: one of BAR_KINDS, "" without bars
    bars_title: str
    u: np.ndarray            # (T,) arrows x(t) -> h(t): NaN drawn faint (structure only), else
                             # how strongly, in [0, 1]
    w: np.ndarray            # (T,) arrows h(t-1) -> h(t) (t = 0: from h(-1)); backward: h(t) -> h(t-1)
    v: np.ndarray            # (T,) arrows h(t) -> ŷ(t); backward: ŷ(t) -> h(t)
    backward: bool           # arrows point back (the backward phase)


def frame_view(view: UnrolledView, phase: int, t: int) -> FrameView:
    T = view.T
    t = min(max(int(t), 0), T - 1)
    cols = np.arange(-1, T)                  # column c shows time step c (-1: the carried state)
    h_cols = np.concatenate([view.h0[None], view.hs])[:, view.units].T  # (n, T+1)
    faint = np.full(T, np.nan)
    one = np.ones(T)
    shown = {"u": faint, "w": faint, "v": faint}
    backward = phase == BACKWARD
    bars, kind, bars_title = None, "", ""
    cells, grads, scale = h_cols, False, 1.0
    softmax_done = phase >= SOFTMAX
    dh_norms = view.dh_norms
    if phase == CHUNK:
        cells = np.where(cols == -1, h_cols, np.nan)  # only the state carried in is known
    elif phase == FORWARD:
        cells = np.where(cols <= t, h_cols, np.nan)
        done = np.where(np.arange(T) <= t, 1.0, np.nan)
        shown = {"u": done, "w": done, "v": faint}
        bars = np.where(np.arange(T) <= t, np.linalg.norm(view.hs, axis=1), np.nan)
        kind, bars_title = "state", "‖h(t)‖: how much the state holds"
    elif phase == SOFTMAX:
        shown = {"u": one, "w": one, "v": one}
        bars, kind = view.losses, "loss"
        bars_title = f"L(t) = −ln ŷ(t)[target]: Σ = {view.loss:.3f}"
    elif backward:
        reached = np.arange(T) >= t
        g_cols = np.concatenate([np.zeros((1, view.H)), view.dh])[:, view.units].T  # (n, T+1)
        cells, grads = np.where(cols >= t, g_cols, np.nan), True
        scale = float(np.abs(view.dh[:, view.units]).max()) or 1.0
        out_norm = np.linalg.norm(view.from_output, axis=1)
        # The arrow into column t along W carries W^T dz(t) back to h(t-1); none into h(-1): the
        # carried state gets no gradient (truncated BPTT at the chunk's edge).
        back_norm = np.concatenate([[np.nan], np.linalg.norm(view.from_next, axis=1)[:-1]])
        w_reached = reached & (np.arange(T) > 0)
        shown = {"u": faint,
                 "w": np.where(w_reached, _strength(back_norm, w_reached), np.nan),
                 "v": np.where(reached, _strength(out_norm, reached), np.nan)}
        bars = np.where(reached, dh_norms, np.nan)
        kind, bars_title = "gradient", "‖∂L/∂h(t)‖: the gradient reaching h(t)"
    else:  # clipping, update, the step taken: everything computed
        shown = {"u": one, "w": one, "v": one}
        bars, kind, bars_title = dh_norms, "gradient", "‖∂L/∂h(t)‖: the gradient reaching h(t)"
    return FrameView(
        phase=phase, t=t, inputs=view.inputs, targets=view.targets, units=[int(u) for u in view.units],
        cells=cells, cells_are_grads=grads, cells_range=scale,
        top_chars=view.top_chars if softmax_done else None, top_p=view.top_p if softmax_done else None,
        top_is_target=view.top_is_target if softmax_done else None,
        p_target=view.p_target if softmax_done else None,
        bars=bars, bars_kind=kind, bars_title=bars_title, u=shown["u"], w=shown["w"], v=shown["v"],
        backward=backward,
    )


def _strength(values: np.ndarray, where: np.ndarray) -> np.ndarray:
    """values scaled to [0, 1] by their largest among `where` (0 where that is 0)."""
    top = float(np.nanmax(np.where(where, values, np.nan))) if where.any() else 0.0
    return np.nan_to_num(values / top) if top > 0 else np.zeros_like(values)


# --- after the step: did the trainer take exactly the update shown? ----------------------------


@dataclass(frozen=True)
class StepCheck:
    step: int                   # the step the walk showed
    trainer_step: int           # the trainer's step count after taking it
    max_diff: dict[str, float]  # max |trainer's weights - the preview's params_after| per parameter
    equal: bool                 # every weight bit for bit the same

    @property
    def taken(self) -> bool:
        return self.trainer_step == self.step


def step_check(trainer: Trainer, preview: StepPreview) -> StepCheck:
    """Compare the trainer's weights with the preview's weights after the update (under the lock)."""
    params = trainer.params
    diffs = {k: float(np.max(np.abs(params[k].astype(np.float64) - preview.params_after[k])))
             for k in PARAM_NAMES}
    equal = all(np.array_equal(params[k], preview.params_after[k]) for k in PARAM_NAMES)
    return StepCheck(preview.step, trainer.step_count, diffs, equal)
