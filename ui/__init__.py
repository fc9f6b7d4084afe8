"""The app's side of Unrolled, by concern, each layer importing only the ones before it:

- `text`: characters as visible labels, markdown made inert (no Streamlit);
- `session/`: one training thread per browser session, what all sessions share, and the recorders
  kept while training (no Streamlit);
- `views/`: what the pages show, computed from a trainer or a session (no Streamlit);
- `figures/`: pure figure builders, views in, chart specs out (no Streamlit);
- `state`: the one accessor of st.session_state (one AppState per browser session);
- `widgets/`: widgets with stable keys and the flows behind them.

Pages import from here only (never rnn_core); rnn_core never imports from here.
tests/test_architecture.py holds these rules.
"""
