"""The app's helpers: session state (state.py), the training worker (worker.py), pure figure
builders (charts.py), data shaping (metrics.py) and widget groups (controls.py). Pages import from
here; rnn_core never imports from here."""
