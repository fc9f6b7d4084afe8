"""Widgets and the flows behind them. Each `*_controls`/`*_panel` function draws widgets with
stable keys and returns plain values; the flows turn values into changes of the session (through
ui.state, the one accessor of st.session_state). `sidebar` (Play, Pause, Step, Reset, the status
and server lines, the refresh interval), `train_settings` (the hyperparameters, live or on Reset,
and presets), `corpus_flow` (choosing a text: propose, then confirm), `model_file` (save and
load a checkpoint), `compare` (the Compare page's choices, and its runs' controls and downloads),
`lessons` (one-click setups and what to watch), `attempt` (a button action that may be refused),
`link` (the link to this setup) and `display` (presentation mode and the explanations: two sidebar
toggles, and the mode's style)."""
