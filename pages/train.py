"""Train page: the hyperparameters, and the live view of training (loss, gradients, throughput,
the periodic sample). Data shaping is in ui/views/train.py, figures in ui/figures/train.py."""

import streamlit as st

from ui.figures.train import clipped_spec, grad_norm_spec, loss_spec
from ui.state import app_state
from ui.text import format_count
from ui.views.train import (
    clipped_frame,
    compute_rate,
    grad_norm_frame,
    loss_frame,
    metrics_csv,
    read_train_view,
)
from ui.widgets.sidebar import live_interval
from ui.widgets.train_settings import apply_settings, hyperparameter_controls, pending_changes, reset_now

state = app_state()
st.header("Train")

top_left, top_right = st.columns([3, 1])
bits = top_left.toggle(
    "Bits per character", key="loss_bits",
    help="Off: the loss as min-char-rnn prints it, nats summed over the T characters of a chunk. "
         "On: bits per character (divided by T·ln 2), comparable across sequence lengths.")
top_right.download_button(
    "Download metrics (CSV)", key="metrics_csv", icon=":material/download:",
    data=lambda: metrics_csv(state.session.read(read_train_view)),  # built only when clicked
    file_name="unrolled-metrics.csv", mime="text/csv", on_click="ignore",
    help="Every kept step (thinned evenly over long runs) with the validation loss.")


@st.fragment(run_every=live_interval(state))
def live_view() -> None:
    view = state.session.read(read_train_view)
    rate = state.session.throughput()
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Step", format_count(view.step))
    c2.metric("Steps/s", f"{rate[0]:.0f}" if rate else "–",
              help="Wall-clock rate over the last seconds of training.")
    c3.metric("Chars/s", format_count(rate[1]) if rate else "–",
              help=f"{view.streams} streams × {view.seq_len} characters per step.")
    smooth = view.history["smooth_bpc"]
    c4.metric("Smooth loss, bits/char", f"{smooth[-1]:.2f}" if smooth.size else "–",
              help="min-char-rnn's moving average, 0.999 × itself + 0.001 × the chunk's loss, "
                   f"from a uniform guess's {view.uniform_bpc:.2f}: it trails the chunk losses by "
                   "about a thousand steps.")
    c5.metric("Validation, bits/char", f"{view.last_val_bpc:.2f}" if view.last_val_bpc else "–",
              help="On the held-out tail of the text, measured every few hundred steps.")
    compute = compute_rate(view)
    if compute:
        st.caption(f"Compute alone: {compute:.0f} steps/s of training time, "
                   f"{format_count(view.chars_seen)} characters read in {view.train_time:.0f} s.")

    unit = "bits per character" if bits else "loss per chunk (nats)"
    with st.container(key="loss_chart"):  # the key names the chart for tests and CSS (.st-key-...)
        st.vega_lite_chart(loss_frame(view, bits=bits), loss_spec(unit), key="loss_chart", width="stretch")
    g1, g2 = st.columns([3, 2])
    with g1:
        st.markdown("**Gradient norms** per parameter, before and after clipping")
        with st.container(key="grad_norm_chart"):
            st.vega_lite_chart(grad_norm_frame(view), grad_norm_spec(), key="grad_norm_chart",
                               width="stretch")
    with g2:
        st.markdown("**Fraction of gradient entries clipped**")
        with st.container(key="clipped_chart"):
            st.vega_lite_chart(clipped_frame(view), clipped_spec(), key="clipped_chart", width="stretch")
        latest = state.session.timeline_items()[-1:]
        st.markdown("**Sample** from the current weights"
                    + (f" (step {latest[0].step:,})" if latest else ""))
        with st.container(key="periodic_sample"):
            if latest:
                st.code(latest[0].text, language=None, wrap_lines=True)
            else:
                st.caption("Press Play: a new sample appears every couple of seconds.")


live_view()

with st.expander("Settings", expanded=True, icon=":material/tune:"):
    error = apply_settings(state, hyperparameter_controls(state))
    if error:
        st.error(error, icon=":material/error:")
    waiting = pending_changes(state)
    if waiting:
        with st.container(key="pending_settings"):
            st.info("Applies on Reset: " + "; ".join(waiting), icon=":material/restart_alt:")
            st.button("Reset with these settings", key="apply_reset", icon=":material/restart_alt:",
                      on_click=reset_now, args=(state,))
