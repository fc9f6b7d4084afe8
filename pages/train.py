"""Train page: the hyperparameters, and the live view of training (loss, gradients, throughput,
the periodic sample), with what went wrong and the way back. Data shaping is in ui/views/
(train.py, recovery.py), figures in ui/figures/train.py."""

import streamlit as st

from ui.figures.style import chart_style
from ui.figures.train import clipped_spec, grad_norm_spec, loss_spec
from ui.state import app_state
from ui.text import format_count
from ui.views.explain import clipping_text, explain_numbers, inside_text, loss_text, sample_text
from ui.views.grad_flow import read_reach
from ui.views.recovery import overfitting_message, view_overfitting, worse_than_guessing
from ui.views.sample import sample_how
from ui.views.train import (
    clip_threshold,
    clipped_frame,
    clipped_title,
    compute_rate,
    events_frame,
    grad_norm_frame,
    loss_frame,
    metrics_csv,
    read_train_view,
)
from ui.widgets.rewind import restore_best_button, rewind_panel
from ui.widgets.sidebar import live_interval
from ui.widgets.train_settings import apply_settings, hyperparameter_controls, pending_changes, reset_now
from ui.widgets.zoom import current_zoom, step_navigator

state = app_state()
present = state.presentation  # large type, and everything that matters on one 1920×1080 screen
style = chart_style(present)
SAMPLE_HEIGHT = 230  # px, presentation mode's sample box: with the charts above, it ends within 1080
title, top_left, top_right = st.columns([1, 2, 1], vertical_alignment="center")
title.header("Train")
bits = top_left.toggle(
    "Bits per character", key="loss_bits",
    help="Off: the loss as min-char-rnn prints it, nats summed over the T characters of a chunk. "
         "On: bits per character (divided by T·ln 2), comparable across sequence lengths.")
if not present:
    top_right.download_button(
    "Download metrics (CSV)", key="metrics_csv", icon=":material/download:",
        data=lambda: metrics_csv(state.session.read(read_train_view)),  # built only when clicked
        file_name="unrolled-metrics.csv", mime="text/csv", on_click="ignore",
        help="Every kept step (thinned evenly over long runs) with the validation loss.")


def explanation(key: str, text: str) -> None:
    """An explanation under a chart (constant words, the model's numbers), in a keyed container."""
    st.container(key=key).caption(text)


@st.fragment(run_every=live_interval(state))
def live_view() -> None:
    view = state.session.read(read_train_view)
    events = state.session.event_items()
    rate = state.session.throughput()
    numbers = explain_numbers(view, state.session.read(read_reach)) if state.explain else None
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Steps/s", f"{rate[0]:.0f}" if rate else "–",
              help="Wall-clock rate over the last seconds of training (the step itself is in the "
                   "sidebar's status line).")
    c2.metric("Chars/s", format_count(rate[1]) if rate else "–",
              help=f"{view.streams} streams × {view.seq_len} characters per step.")
    c3.metric("Smoothed, bits/char", f"{view.smooth_bpc:.2f}",
              help="The smooth loss, min-char-rnn's moving average: 0.999 × itself + 0.001 × the "
                   f"chunk's loss, from a uniform guess's {view.uniform_bpc:.2f}: it trails the chunk "
                   "losses by about a thousand steps.")
    c4.metric("Validation, bits/char", f"{view.last_val_bpc:.2f}" if view.last_val_bpc else "–",
              help="On the held-out tail of the text, measured every few hundred steps.")
    compute = compute_rate(view)
    # Always drawn, so the charts below keep their place: Streamlit remounts an element whose
    # position changes, as when one above it comes or goes.
    with st.container(key="compute_rate"):
        if not present:  # before the first step too, so that the charts do not jump down a line
            st.caption(f"Compute alone: {compute:.0f} steps/s of training time, "
                       f"{format_count(view.chars_seen)} characters read in {view.train_time:.0f} s."
                       if compute else "Compute alone: – steps/s of training time (press Play).")

    with st.container(key="training_trouble"):
        worse = worse_than_guessing(view)
        if worse:
            st.warning(worse, icon=":material/trending_up:")
        overfit = view_overfitting(view)
        if overfit:
            best_kept = view.best[0] if view.best else None
            st.warning(overfitting_message(overfit, best_kept), icon=":material/school:")
            if best_kept is not None:
                restore_best_button(state, best_kept)

    zoom = current_zoom(state, view)
    marks = events_frame(events, zoom)
    unit = "bits per character" if bits else "loss per chunk (nats)"
    left, right = st.columns(2)
    with left:
        st.markdown("**Loss** per chunk, smoothed, validation, a uniform guess's" if present else
                    "**Loss** of each chunk, smoothed, on held-out text (validation), and a uniform guess's")
        with st.container(key="loss_chart"):  # the key names the chart for tests and CSS (.st-key-...)
            st.vega_lite_chart(spec=loss_spec(loss_frame(view, bits=bits, zoom=zoom), marks, unit, zoom,
                                              style=style),
                               key="loss_chart", width="stretch")
        if numbers:
            explanation("explain_loss", loss_text(numbers, short=present, bits=bits))
    with right:
        st.markdown("**Gradient norm** before and after clipping" if present else
                    "**Gradient norm** before and after clipping: all parameters together (thick), "
                    "each one (thin, dashed after)")
        with st.container(key="grad_norm_chart"):
            spec = grad_norm_spec(grad_norm_frame(view, zoom), marks, clip_threshold(view), zoom,
                                  parameters=view.param_names, style=style)
            st.vega_lite_chart(spec=spec, key="grad_norm_chart", width="stretch")
        if numbers:
            explanation("explain_clipping", clipping_text(numbers, short=present))
    if not present:  # the zoom strip: set it up before the talk, presentation mode keeps the zoom
        step_navigator(state, view)
        st.caption(f"Steps {zoom[0]:,} to {zoom[1]:,} shown: double-click the strip above to see the "
                   "whole run." if zoom else "Drag across the strip above to zoom every chart in on those "
                   "steps.")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{clipped_title(view)}**")
        with st.container(key="clipped_chart"):
            st.vega_lite_chart(spec=clipped_spec(clipped_frame(view, zoom), marks, zoom, style=style),
                               key="clipped_chart", width="stretch")
        if numbers:
            explanation("explain_inside", inside_text(numbers, short=present))
    with right:
        latest = state.session.timeline_items()[-1:]
        drawn = sample_how(state.session.sample_settings, short=True)
        st.markdown("**Sample** from the current weights"
                    + (f" (step {latest[0].step:,}, {drawn})" if latest else f" ({drawn})"))
        if numbers:
            explanation("explain_sample", sample_text(numbers, short=present))
        with st.container(key="periodic_sample"):
            if latest:  # presentation mode: a fixed box, so a long sample cannot push it off the screen
                st.code(latest[0].text, language=None, wrap_lines=True,
                        height=SAMPLE_HEIGHT if present else "content")
            else:
                st.caption("Press Play: a new sample appears every couple of seconds.")


live_view()

with st.expander("Rewind", icon=":material/history:"):
    rewind_panel(state)

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
