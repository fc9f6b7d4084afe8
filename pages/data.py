"""Data page: pick a built-in text or upload one; see its size, vocabulary, frequencies, preview.

A new corpus means a new model, so a choice is only a proposal until the user confirms it. User
text is shown with st.code / st.text (never as markdown or HTML); file names are escaped.
"""

import streamlit as st

from ui.figures.corpus import char_frequency_figure
from ui.state import app_state
from ui.text import escape_markdown, format_count
from ui.views.corpus import char_counts, corpus_summary
from ui.widgets.corpus_flow import (
    UPLOAD_LIMIT_MB,
    cancel_corpus,
    choice_box,
    clear_upload,
    confirm_corpus,
    display_name,
    propose_upload,
)

state = app_state()
st.header("Data")
st.caption("The text the network learns from, one character at a time. Pick a built-in text or "
           "bring your own.")

left, right = st.columns([2, 3], gap="large")
with left:
    choice_box(state)
with right:
    upload = st.file_uploader(
        f"Or upload a plain-text file (.txt, UTF-8, at most {UPLOAD_LIMIT_MB} MB): drag it here",
        type=["txt"], key="corpus_upload", max_upload_size=UPLOAD_LIMIT_MB,
        help="The file stays in this server's memory for your session only; it is never saved.",
    )
    if upload is None:
        clear_upload(state)
    else:
        propose_upload(state, upload.file_id, upload.name, upload.getvalue())
    if state.upload_error:
        st.error(state.upload_error, icon=":material/block:")
        st.caption("The text in use, the model and its training history are unchanged.")

pending = state.pending_corpus
if pending is not None:
    summary = corpus_summary(pending, preview_chars=400)
    with st.container(border=True, key="pending_corpus"):
        st.markdown(f"**Switch to “{escape_markdown(display_name(pending), 80)}”?** "
                    f"{format_count(summary.chars)} characters, {summary.vocab} distinct. "
                    f"This starts a new model: the current one (step "
                    f"{state.session.read(lambda t: t.step_count):,}) and its charts are discarded.")
        st.code(summary.preview + ("…" if summary.truncated else ""), language=None,
                wrap_lines=True, height=120)
        c1, c2, _ = st.columns([1, 1, 2])
        c1.button("Use this text", key="confirm_corpus", type="primary", icon=":material/check:",
                  on_click=confirm_corpus, args=(state,), width="stretch")
        c2.button("Keep the current text", key="cancel_corpus", icon=":material/close:",
                  on_click=cancel_corpus, args=(state,), width="stretch")

summary = corpus_summary(state.corpus)
st.subheader(f"In use: {escape_markdown(display_name(state.corpus), 80)}")
if summary.description:
    st.caption(summary.description)
m1, m2, m3, m4 = st.columns(4)
m1.metric("Characters", format_count(summary.chars))
m2.metric("Vocabulary", f"{summary.vocab} symbols",
          help="Distinct characters: the size K of the network's input and output.")
m3.metric("Words", format_count(summary.words))
m4.metric("Lines", format_count(summary.lines))

st.plotly_chart(char_frequency_figure(char_counts(state.corpus.text)), key="char_frequency_chart",
                config={"displayModeBar": False})
st.markdown("**Preview**" + (f" (the first {len(summary.preview):,} characters)"
                             if summary.truncated else ""))
st.code(summary.preview, language=None, wrap_lines=True, height=300)
