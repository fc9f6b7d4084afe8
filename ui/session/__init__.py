"""Training sessions, without Streamlit: `worker` (one browser session's model and the daemon
thread that trains it), `server` (what all sessions share: training slots, turns, the census,
the garbage collector), `limits` (the model size one session may use), `compare` (a comparison's
runs and the scheduler that interleaves them), `lock` (the session lock that notices page reads),
the recorders the worker keeps while training (`timeline`: periodic samples; `grad_flow`: the
gradient-flow log; `throughput`: the wall-clock rate) and `divergence` (a divergence worded for
the user)."""
