"""Inspect: inside the network on the last training chunk (hidden states, softmax per step,
gradient flow, weights), on the user's own text, and a gradient check. Live while training, still
while paused (hover and zoom). Only the open tab runs, so a tick draws one view's charts."""

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import streamlit as st

from ui.figures import inspect as charts
from ui.state import app_state
from ui.text import escape_markdown, visible_text
from ui.views import cell_state, chunk, grad_flow, gradcheck, hidden, own_text, softmax, weights
from ui.views.chunk import ChunkSnapshot, ChunkTrace, Trainer, Vocab
from ui.widgets.sidebar import live_interval

R = TypeVar("R")
state = app_state()
session = state.session
NOT_YET = ("No training step yet: press **Play** or **Step** in the sidebar. These views show the "
           "last chunk of text the network trained on.")

st.header("Inspect")
st.caption("The last training chunk as the network saw it. Live while training; press **Pause** "
           "to hover and zoom.")
streams = session.read(lambda t: t.streams)
stream = 0
if streams > 1:
    about, pick = st.columns([5, 1], vertical_alignment="bottom")
    about.caption(f"Training reads the text at **{streams} places at once** (streams), each with its own "
                  "hidden state, and averages their gradients into one update. These views show one "
                  "stream's chunk: pick which on the right.")
    stream = pick.number_input(f"Stream (0–{streams - 1})", min_value=0, max_value=streams - 1, value=0,
                               step=1, key="inspect_stream",
                               help=f"Which of the {streams} streams to show (stream 0 is the start of "
                                    "the text's first segment).")
tabs = st.tabs(["Hidden state", "Softmax", "Gradient flow", "Weights", "Your own text",
                "Gradient check"], key="inspect_tab", on_change="rerun")


def unit_controls(prefix: str) -> tuple[str, str, int]:
    c1, c2, c3 = st.columns([2, 3, 1])
    order = c1.selectbox("Order units by", hidden.UNIT_ORDERS, key=f"{prefix}unit_sort",
                         help="Similar units together: units whose activations rise and fall "
                              "together over the chunk sit next to each other, so groups show.")
    choice = c2.selectbox("Colour the text by", hidden.CHOICES, key=f"{prefix}unit_color")
    unit = c3.number_input("Unit", min_value=0, value=0, step=1, key=f"{prefix}unit_pick",
                           disabled=choice != hidden.CHOICES[-1], help="A hidden unit's number, h0 on.")
    return order, choice, int(unit)


def render_hidden(trace: ChunkTrace, seen: hidden.HiddenInput | None, controls: tuple[str, str, int],
                  prefix: str) -> None:
    """The text coloured by a unit, the units worth a look, and the units × steps heatmap. `seen`:
    the step's streams to find notable units over (None: this trace alone)."""
    order, choice, picked = controls
    hs, chars = (trace.hs, trace.input_chars) if seen is None else (seen.hs, seen.chars)
    notables = hidden.notable_units(hs, chars)
    unit, notable, note = hidden.chosen_unit(notables, choice, picked)
    grid, unit = hidden.unit_grid(trace, unit)
    about = f"which follows {notable.feature} (r = {notable.r:+.2f})" if notable else ""
    st.plotly_chart(charts.unit_text_figure(grid, unit, about), key=f"{prefix}unit_text_chart")
    if note:
        st.caption(note)
    st.markdown(hidden.describe_notables(notables, len(chars), 1 if seen is None else seen.streams_used))
    view = hidden.hidden_view(trace, order)
    st.plotly_chart(charts.hidden_state_figure(view, marks=hidden.unit_marks(notables)),
                    key=f"{prefix}hidden_state_chart")
    maps = cell_state.cell_maps(trace, view.units)
    if maps:  # a gated cell: its memory and gates, two heatmaps a row
        st.markdown(cell_state.describe_cell(trace.cell))
        for i in range(0, len(maps), 2):
            for col, m in zip(st.columns(2), maps[i : i + 2], strict=False):
                col.plotly_chart(charts.cell_map_figure(m), key=f"{prefix}cell_{m.name}_chart")


def render_softmax(trace: ChunkTrace, vocab: Vocab, k: int, prefix: str) -> softmax.SoftmaxView:
    view = softmax.softmax_view(trace, vocab, k)
    st.plotly_chart(charts.softmax_topk_figure(view), key=f"{prefix}softmax_topk_chart")
    st.plotly_chart(charts.loss_terms_figure(view), key=f"{prefix}loss_terms_chart")
    st.plotly_chart(charts.surprise_text_figure(softmax.surprise_grid(trace), view.vocab_size),
                    key=f"{prefix}surprise_text_chart")
    return view


def live_chunk_view(read: Callable[[Trainer, int], R | None], render: Callable[[R], None]) -> None:
    """A live fragment that reads the chosen stream's last training chunk under the lock (`read`)
    and `render`s it outside; before the first step, it says what to do instead."""
    @st.fragment(run_every=live_interval(state))
    def chunk_view() -> None:
        got = session.read(lambda t: read(t, stream))
        if got is None:
            st.info(NOT_YET)
            return
        render(got)

    chunk_view()


def chunk_caption(snap: ChunkSnapshot, text: bool = True) -> None:
    """Which chunk this is, and (`text`) its input characters."""
    t = snap.trace
    st.caption(f"Step {t.step:,} · stream {t.stream} of {snap.streams} · {len(t.inputs)} input "
               "characters" + (":" if text else ""))
    if text:
        st.code(visible_text("".join(t.input_chars)), language=None, wrap_lines=True)  # never markdown


def render_hidden_chunk(seen: hidden.HiddenInput, controls: tuple[str, str, int]) -> None:
    chunk_caption(seen.snap, text=False)  # the coloured text shows it
    render_hidden(seen.snap.trace, seen, controls, "")


def render_softmax_chunk(snap: ChunkSnapshot, k: int) -> None:
    chunk_caption(snap)
    view = render_softmax(snap.trace, snap.vocab, k, "")
    total = f"Σ of the {len(view.losses)} loss terms = **{view.loss:.3f} nats**, "
    if snap.streams == 1:
        st.markdown(total + "the chunk loss the Train page shows for this step.")
    else:
        st.markdown(total + f"stream {snap.trace.stream}'s chunk loss. The Train page shows the "
                    f"mean over the {snap.streams} streams: **{view.mean_loss:.3f} nats**.")
    st.dataframe(softmax.softmax_table(view), key="softmax_table", hide_index=True)


GRAD_FLOW_INTRO = (
    "Each prediction's error flows back through the hidden states before it: **∂L(t)/∂h(s)** is how "
    "much the loss of prediction t would change if the earlier state h(s) changed. Where it has "
    "faded, the network learns little from that far back. Log scales: a straight fall is the same "
    "factor at every step.")
WHOLE_GRADIENT = (
    "Training uses the whole chunk loss L = Σ L(t), whose gradient at h(t) is the sum of the parts "
    "of every prediction at t or later. It does not fade going back, and often grows: each step "
    "adds its own prediction's fresh part, and the older parts fade underneath it. The fading shows "
    "only prediction by prediction, as above.")


def render_grad_flow_chunk(inp: grad_flow.ReachInput) -> None:
    chunk_caption(inp.snap, text=False)  # the charts' axes show it
    view = grad_flow.reach_view(inp)
    left, right = st.columns(2)
    left.plotly_chart(charts.last_prediction_figure(view), key="last_prediction_chart")
    right.plotly_chart(charts.reach_figure(view), key="reach_chart")
    st.markdown(grad_flow.describe_fading(view))
    st.markdown(grad_flow.why_it_fades(inp.snap.trace.cell))
    with st.expander("Every prediction × every step: the whole T × T matrix"):
        st.plotly_chart(charts.itemized_figure(view), key="itemized_chart")
    st.markdown("##### The whole chunk's gradient, ‖∂L/∂h(t)‖")
    st.caption(WHOLE_GRADIENT)
    st.plotly_chart(charts.grad_flow_figure(view.dh_norms, view.labels), key="grad_flow_chart")
    ratio = grad_flow.vanishing_ratio(view.dh_norms)
    st.caption(f"‖∂L/∂h(0)‖ / ‖∂L/∂h(T−1)‖ = {ratio:.3g}. Below, the same over training (stream 0, "
               "every 10 steps): a darker left side is a gradient that reaches the start of the chunk "
               "weaker.")
    st.plotly_chart(charts.grad_flow_history_figure(session.grad_flow_history()),
                    key="grad_flow_history_chart")


with tabs[0]:
    if tabs[0].open:
        controls = unit_controls("")
        live_chunk_view(hidden.read_hidden, partial(render_hidden_chunk, controls=controls))

with tabs[1]:
    if tabs[1].open:
        k = st.slider("Candidates per step", 1, 10, softmax.TOP_K, key="softmax_top_k")
        live_chunk_view(chunk.read_chunk, partial(render_softmax_chunk, k=k))

with tabs[2]:
    if tabs[2].open:
        st.markdown(GRAD_FLOW_INTRO)
        live_chunk_view(grad_flow.read_reach, render_grad_flow_chunk)

with tabs[3]:
    if tabs[3].open:
        names = session.read(weights.read_param_names)
        name = st.radio("Parameter", names, horizontal=True, key="weight_param",
                        captions=[weights.weight_caption(k) for k in names])

        @st.fragment(run_every=live_interval(state))
        def weights_live() -> None:
            view = session.read(lambda t: weights.read_weights(t, name))
            summary = session.read(weights.read_weight_summary)
            st.dataframe(summary, key="weights_table", hide_index=True)
            cut = f" (first {weights.MAX_MATRIX} rows and columns)" if view.truncated else ""
            st.caption(f"Step {view.step:,} · {name} {' × '.join(map(str, view.full_shape))}{cut} · "
                       f"{view.optimizer}, lr {view.lr:g}")
            panels = [(view.weights, "weights", f"{name}: weights", "weights_chart"),
                      (view.update, "update", f"{name}: last update Δ{name}", "update_chart")]
            if view.effective_lr is not None:
                panels.append((view.effective_lr, "step size", f"{name}: effective step size per "
                               f"weight ({view.optimizer})", "step_size_chart"))
            for matrix, kind, title, key in panels:
                st.plotly_chart(charts.weight_figure(matrix, view.row_labels, view.col_labels, title, kind),
                                key=key)
            if view.effective_lr is None:
                st.info(f"{view.optimizer} takes the same step size for every weight: lr = {view.lr:g}.")

        weights_live()

with tabs[4]:
    if tabs[4].open:
        example = own_text.default_own_text(state.corpus.vocab, state.corpus.text)
        text = st.text_area("Your own text", value=example, key="own_text",
                            max_chars=own_text.MAX_OWN_TEXT + 1,
                            help="Read from a zero hidden state with the current weights.")
        controls = unit_controls("own_")
        k = st.slider("Candidates per step", 1, 10, softmax.TOP_K, key="own_top_k")

        @st.fragment(run_every=live_interval(state))
        def own_text_live() -> None:
            params, vocab, step = session.read(weights.read_params)
            try:
                trace = own_text.own_text_trace(params, vocab, text, step)
            except ValueError as exc:
                st.error(escape_markdown(str(exc)), icon=":material/error:")
                return
            st.caption(f"Weights of step {step:,}")
            render_hidden(trace, None, controls, "own_")
            view = render_softmax(trace, vocab, k, "own_")
            st.markdown(f"Σ of the {len(view.losses)} loss terms = **{view.loss:.3f} nats** "
                        f"({view.bpc:.2f} bits per character).")

        own_text_live()

with tabs[5]:
    if tabs[5].open:
        st.markdown("Backprop's gradients against centred finite differences, on the current weights "
                    "and stream 0's last chunk, for a few random entries of each parameter.")
        if st.button("Run the gradient check", key="gradcheck_button", icon=":material/rule:"):
            inputs = session.read(gradcheck.read_gradcheck_input)
            if inputs is None:
                st.info(NOT_YET)
            else:
                state.gradcheck = gradcheck.run_gradcheck(*inputs)
        result = state.gradcheck
        if result is not None:
            st.caption(f"Step {result.step:,} · {result.entries} entries per parameter · "
                       f"{result.steps_checked} time steps · {result.seconds:.2f} s")
            st.dataframe(gradcheck.gradcheck_table(result), key="gradcheck_table", hide_index=True,
                         column_config={"relative error": st.column_config.NumberColumn(format="%.2e")})
            st.plotly_chart(charts.gradcheck_figure(result), key="gradcheck_chart")
