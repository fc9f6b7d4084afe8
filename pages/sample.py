"""Sample: generate text from a copy of the current weights while training goes on, see the
distribution behind every generated character, and a timeline of samples with fixed settings."""

import time

import streamlit as st

from ui.figures import sample as charts
from ui.state import app_state, set_widget_values, widget_value
from ui.text import escape_markdown
from ui.views import sample as sd
from ui.widgets.sidebar import live_interval

state = app_state()
session = state.session

st.header("Sample")
st.caption("Text from the current weights, one character at a time; training goes on meanwhile.")


def new_seed_unless_pinned() -> None:
    """Sample's on_click: a fresh random seed for this draw, unless the seed is pinned. It goes
    into the seed box, so the draw can be repeated by pinning it."""
    if not widget_value("sample_seed_pinned"):
        set_widget_values(sample_seed=sd.fresh_seed())


c1, c2, c3 = st.columns([3, 2, 2])
seed_text = c1.text_input("Seed text", value="", key="seed_text", max_chars=500,
                          help="Fed through the network first to warm up its hidden state. Empty: a "
                               "random first character.")
length = c2.slider("Length", 10, sd.MAX_LENGTH, 200, step=10, key="sample_length")
temperature = c3.slider("Temperature", 0.05, 2.0, sd.DEFAULT_TEMPERATURE, step=0.05, key="temperature",
                        help="Below 1: safer, more repetitive; above 1: more adventurous; 1: the "
                             "model's own probabilities, as min-char-rnn samples.")
c4, c5, c6, c7 = st.columns([3, 2, 2, 2], vertical_alignment="bottom")
mode = c4.radio("Pick each character", ["sampled", "greedy (most likely)"], horizontal=True,
                key="sample_mode")
top_k = c5.number_input("Top-k (0: all)", min_value=0, max_value=1000, value=0, step=1, key="top_k",
                        help="Draw only from the k most likely characters.")
pinned = c7.toggle("Pin the seed", value=False, key="sample_seed_pinned",
                   help="Pinned: every press draws the same text from the same weights. Not pinned: "
                        "each press draws anew with a fresh random seed, shown on the left.")
rng_seed = c6.number_input("Random seed", min_value=0, max_value=sd.MAX_SEED, value=0, step=1,
                           key="sample_seed", disabled=not pinned,
                           help="The seed of the last draw. Pin it to repeat that draw, or pin and "
                                "type one.")
request = sd.SampleRequest(seed_text=seed_text, length=int(length), temperature=float(temperature),
                           top_k=int(top_k), greedy=mode != "sampled", rng_seed=int(rng_seed))

clicked = st.button("Sample", key="sample_button", type="primary", icon=":material/edit_note:",
                    on_click=new_seed_unless_pinned)
if clicked:
    try:
        state.last_sample = sd.generate(session, request)
    except ValueError as exc:
        clicked = False
        st.error(escape_markdown(f"Cannot sample: {exc}"), icon=":material/error:")

result = state.last_sample
with st.container(key="sample_output"):
    if result is None:
        st.info("Press **Sample** to generate text from the current weights.")
    else:
        how = sd.describe_draw(result.request)
        st.caption(f"{len(result.text):,} characters from the weights of step {result.step:,} · {how} · "
                   f"generated in {result.seconds * 1000:.0f} ms")
        seed = result.request.seed_text
        if clicked:  # the text as it is produced, then left in place
            shown = st.empty()
            for prefix in sd.reveal_prefixes(result.text):
                shown.html(sd.sample_html(seed, prefix))  # escaped: user text is never markup
                time.sleep(0.02)
        else:
            st.html(sd.sample_html(seed, result.text))

if result is not None and result.text:
    st.subheader("Where each character came from")
    position = st.slider("Position", 0, len(result.text) - 1, 0, key="sample_position",
                         help="A generated character: the heatmap centres on it, and below is the "
                              "distribution it was drawn from.")
    start, stop = sd.distribution_window(len(result.text), position)
    st.plotly_chart(charts.sample_distribution_figure(result, start, stop, position),
                    key="sample_dist_chart")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(charts.position_figure(result, position), key="sample_position_chart")
    with right:
        st.dataframe(sd.position_table(result, position), key="sample_position_table", hide_index=True)

st.subheader("Timeline", anchor="timeline")
st.caption("A sample from the same seed text and settings every so often while training, oldest first, "
           "so you can read how the text improved.")
with st.expander("Timeline settings"):
    every = st.number_input("Every N steps", min_value=10, max_value=100_000, value=100, step=10,
                            key="timeline_every")
    st.caption(f"Uses the settings above: seed text, length (at most {sd.TIMELINE_MAX_LENGTH}), "
               "temperature, top-k, greedy or sampled, and the random seed.")
    if st.button("Restart the timeline with the settings above", key="timeline_apply"):
        try:
            session.set_sample_settings(request.timeline_settings(int(every)))
        except ValueError as exc:
            st.error(escape_markdown(f"Cannot use these settings: {exc}"), icon=":material/error:")


@st.fragment(run_every=live_interval(state))
def timeline_live() -> None:
    settings = session.sample_settings
    items = session.timeline_items()
    shown = sd.timeline_shown(items)
    count = f" · showing {len(shown)} of {len(items)}, evenly spaced" if len(shown) < len(items) else ""
    st.caption(sd.describe_settings(settings) + count)
    if not items:
        st.info("No samples yet: they are taken while training runs.")
        return
    with st.container(key="sample_timeline", height=560, autoscroll=True):
        st.html(sd.timeline_html(shown, settings.seed_text))  # escaped: user text is never markup


timeline_live()
