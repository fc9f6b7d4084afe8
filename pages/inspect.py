"""Inspect: inside the network on the last training chunk (hidden states, softmax per step,
gradient flow, weights), on the user's own text, and a gradient check. Live while training, still
while paused (hover and zoom). Only the open tab runs, so a tick draws one view's charts."""

from collections.abc import Callable
from functools import partial

import streamlit as st

from ui.figures import inspect as charts
from ui.state import app_state
from ui.text import escape_markdown, visible_char, visible_text
from ui.views import chunk, grad_flow, gradcheck, hidden, own_text, softmax, weights
from ui.views.chunk import ChunkSnapshot, ChunkTrace, Vocab
from ui.widgets.sidebar import live_interval

state = app_state()
session = state.session
NOT_YET = ("No training step yet: press **Play** or **Step** in the sidebar. These views show the "
           "last chunk of text the network trained on.")

st.header("Inspect")
st.caption("The last training chunk as the network saw it. Live while training; press **Pause** "
           "to hover and zoom.")
stream = 0
if state.session.read(lambda t: t.streams) > 1:
    stream = st.columns([1, 3])[0].number_input(
        "Stream", min_value=0, value=0, step=1, key="inspect_stream",
        help="Training reads several streams of the text at once; which one to show.")
tabs = st.tabs(["Hidden state", "Softmax", "Gradient flow", "Weights", "Your own text",
                "Gradient check"], key="inspect_tab", on_change="rerun")


def render_hidden(trace: ChunkTrace, order: str, unit: int, prefix: str) -> None:
    st.plotly_chart(charts.hidden_state_figure(hidden.hidden_view(trace, order)),
                    key=f"{prefix}hidden_state_chart")
    grid, unit = hidden.unit_grid(trace, unit)
    st.plotly_chart(charts.unit_text_figure(grid, unit), key=f"{prefix}unit_text_chart")


def render_softmax(trace: ChunkTrace, vocab: Vocab, k: int, prefix: str) -> softmax.SoftmaxView:
    view = softmax.softmax_view(trace, vocab, k)
    st.plotly_chart(charts.softmax_topk_figure(view), key=f"{prefix}softmax_topk_chart")
    st.plotly_chart(charts.loss_terms_figure(view), key=f"{prefix}loss_terms_chart")
    st.plotly_chart(charts.surprise_text_figure(softmax.surprise_grid(trace), view.vocab_size),
                    key=f"{prefix}surprise_text_chart")
    return view


def unit_controls(prefix: str) -> tuple[str, int]:
    c1, c2 = st.columns(2)
    order = c1.selectbox("Order units by", hidden.UNIT_ORDERS, key=f"{prefix}unit_sort")
    unit = c2.number_input("Colour the text by unit", min_value=0, value=0, step=1, key=f"{prefix}unit_pick")
    return order, int(unit)


def live_chunk_view(render: Callable[[ChunkSnapshot], None]) -> None:
    """A live fragment that shows which chunk it is (the chosen stream's last training chunk) and
    then `render`s it; before the first step, it says what to do instead."""
    @st.fragment(run_every=live_interval(state))
    def chunk_view() -> None:
        snap = session.read(lambda t: chunk.read_chunk(t, stream))
        if snap is None:
            st.info(NOT_YET)
            return
        t = snap.trace
        st.caption(f"Step {t.step:,} · stream {t.stream} of {snap.streams} · {len(t.inputs)} input "
                   "characters:")
        st.code(visible_text("".join(t.input_chars)), language=None, wrap_lines=True)  # never markdown
        render(snap)

    chunk_view()


def render_hidden_chunk(snap: ChunkSnapshot, order: str, unit: int) -> None:
    render_hidden(snap.trace, order, unit, "")


def render_softmax_chunk(snap: ChunkSnapshot, k: int) -> None:
    view = render_softmax(snap.trace, snap.vocab, k, "")
    total = f"Σ of the {len(view.losses)} loss terms = **{view.loss:.3f} nats**, "
    if snap.streams == 1:
        st.markdown(total + "the chunk loss the Train page shows for this step.")
    else:
        st.markdown(total + f"stream {snap.trace.stream}'s chunk loss. The Train page shows the "
                    f"mean over the {snap.streams} streams: **{view.mean_loss:.3f} nats**.")
    st.dataframe(softmax.softmax_table(view), key="softmax_table", hide_index=True)


def render_grad_flow_chunk(snap: ChunkSnapshot) -> None:
    labels = [visible_char(c) for c in snap.trace.input_chars]
    st.plotly_chart(charts.grad_flow_figure(snap.trace.dh_norms, labels), key="grad_flow_chart")
    ratio = grad_flow.vanishing_ratio(snap.trace.dh_norms)
    st.caption(f"‖dL/dh(0)‖ / ‖dL/dh(T-1)‖ = {ratio:.3g}: below 1 the gradient from the loss "
               "fades on its way back through time (vanishing gradients), above 1 it grows.")
    st.plotly_chart(charts.grad_flow_history_figure(session.grad_flow_history()),
                    key="grad_flow_history_chart")


with tabs[0]:
    if tabs[0].open:
        order, unit = unit_controls("")
        live_chunk_view(partial(render_hidden_chunk, order=order, unit=unit))

with tabs[1]:
    if tabs[1].open:
        k = st.slider("Candidates per step", 1, 10, softmax.TOP_K, key="softmax_top_k")
        live_chunk_view(partial(render_softmax_chunk, k=k))

with tabs[2]:
    if tabs[2].open:
        live_chunk_view(render_grad_flow_chunk)

with tabs[3]:
    if tabs[3].open:
        name = st.radio("Parameter", weights.PARAM_NAMES, horizontal=True, key="weight_param",
                        captions=["input→hidden", "hidden→hidden", "hidden→output", "hidden bias",
                                  "output bias"])

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
        order, unit = unit_controls("own_")
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
            render_hidden(trace, order, unit, "own_")
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
