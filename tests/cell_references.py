"""The LSTM and the GRU written out again from their equations, independently of rnn_core: one
stream, column vectors, a one-hot x(t) multiplied by U, a dict per time step, the backward pass as
one loop over time (min-char-rnn's style, bench/minchar.py). The tests compare rnn_core's batched
cells against these.

    LSTM                                             GRU
    i = σ(U_i x + W_i h(t-1) + b_i)                  r = σ(U_r x + W_r h(t-1) + b_r)
    f = σ(U_f x + W_f h(t-1) + b_f)                  z = σ(U_z x + W_z h(t-1) + b_z)
    g = tanh(U_g x + W_g h(t-1) + b_g)               n = tanh(U_n x + b_n + r * (W_n h(t-1)))
    o = σ(U_o x + W_o h(t-1) + b_o)                  h = z * h(t-1) + (1 - z) * n
    s = f * s(t-1) + i * g
    h = o * tanh(s)
    y = softmax(V h + c), L = sum_t -log y(t)[target(t)]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

Arrays = Mapping[str, np.ndarray]


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def col(a: np.ndarray) -> np.ndarray:
    return np.array(a, dtype=np.float64).reshape(-1, 1)


def one_hot(k: int, K: int) -> np.ndarray:
    x = np.zeros((K, 1))
    x[k] = 1.0
    return x


def columns(P: Arrays) -> dict[str, np.ndarray]:
    """float64 copies, biases as columns (H, 1) / (K, 1)."""
    return {k: col(a) if a.ndim == 1 else np.array(a, dtype=np.float64) for k, a in P.items()}


def lstm_step(P: Arrays, x: np.ndarray, h: np.ndarray, s: np.ndarray) -> dict[str, np.ndarray]:
    """One step from the equations; P with column biases, x one-hot (K, 1), h, s (H, 1)."""
    i = sigmoid(P["U_i"] @ x + P["W_i"] @ h + P["b_i"])
    f = sigmoid(P["U_f"] @ x + P["W_f"] @ h + P["b_f"])
    g = np.tanh(P["U_g"] @ x + P["W_g"] @ h + P["b_g"])
    o = sigmoid(P["U_o"] @ x + P["W_o"] @ h + P["b_o"])
    s_new = f * s + i * g
    return {"i": i, "f": f, "g": g, "o": o, "s": s_new, "h": o * np.tanh(s_new)}


def gru_step(P: Arrays, x: np.ndarray, h: np.ndarray) -> dict[str, np.ndarray]:
    r = sigmoid(P["U_r"] @ x + P["W_r"] @ h + P["b_r"])
    z = sigmoid(P["U_z"] @ x + P["W_z"] @ h + P["b_z"])
    n = np.tanh(P["U_n"] @ x + P["b_n"] + r * (P["W_n"] @ h))
    return {"r": r, "z": z, "n": n, "h": z * h + (1 - z) * n}


def output(P: Arrays, h: np.ndarray, target: int) -> tuple[np.ndarray, float]:
    o = P["V"] @ h + P["c"]
    e = np.exp(o - o.max())
    p = e / e.sum()
    return p, float(-np.log(p[target, 0]))


def lstm(params: Arrays, inputs, targets, h0, s0) -> dict:
    """One stream's loss, gradients (keyed like params, shapes as params), and per step h, s,
    gates, y and dL/dh(t)."""
    P = columns(params)
    K, H = P["V"].shape
    hs, ss, cache, ps = {-1: col(h0)}, {-1: col(s0)}, {}, {}
    loss = 0.0
    for t, x in enumerate(inputs):
        cache[t] = lstm_step(P, one_hot(x, K), hs[t - 1], ss[t - 1])
        hs[t], ss[t] = cache[t]["h"], cache[t]["s"]
        ps[t], term = output(P, hs[t], targets[t])
        loss += term
    d = {k: np.zeros_like(a) for k, a in P.items()}
    dh_next, ds_next = np.zeros((H, 1)), np.zeros((H, 1))
    dhs = {}
    for t in reversed(range(len(inputs))):
        i, f, g, o = (cache[t][k] for k in "ifgo")
        x = one_hot(inputs[t], K)
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0
        d["V"] += dy @ hs[t].T
        d["c"] += dy
        dh = P["V"].T @ dy + dh_next
        dhs[t] = dh
        tanh_s = np.tanh(ss[t])
        ds = dh * o * (1 - tanh_s**2) + ds_next
        dz = {"i": ds * g * i * (1 - i), "f": ds * ss[t - 1] * f * (1 - f),
              "g": ds * i * (1 - g**2), "o": dh * tanh_s * o * (1 - o)}
        dh_next = np.zeros((H, 1))
        for G, dzG in dz.items():
            d[f"U_{G}"] += dzG @ x.T
            d[f"W_{G}"] += dzG @ hs[t - 1].T
            d[f"b_{G}"] += dzG
            dh_next += P[f"W_{G}"].T @ dzG
        ds_next = ds * f
    return _result(params, loss, d, hs, ps, dhs, cache, {"s": ss})


def gru(params: Arrays, inputs, targets, h0) -> dict:
    P = columns(params)
    K, H = P["V"].shape
    hs, cache, ps = {-1: col(h0)}, {}, {}
    loss = 0.0
    for t, x in enumerate(inputs):
        cache[t] = gru_step(P, one_hot(x, K), hs[t - 1])
        hs[t] = cache[t]["h"]
        ps[t], term = output(P, hs[t], targets[t])
        loss += term
    d = {k: np.zeros_like(a) for k, a in P.items()}
    dh_next = np.zeros((H, 1))
    dhs = {}
    for t in reversed(range(len(inputs))):
        r, z, n = (cache[t][k] for k in "rzn")
        x = one_hot(inputs[t], K)
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0
        d["V"] += dy @ hs[t].T
        d["c"] += dy
        dh = P["V"].T @ dy + dh_next
        dhs[t] = dh
        dn = dh * (1 - z)                    # through h = z h(t-1) + (1 - z) n
        dz_pre = dh * (hs[t - 1] - n) * z * (1 - z)
        da = dn * (1 - n**2)                 # n's pre-activation
        Wnh = P["W_n"] @ hs[t - 1]
        dr_pre = da * Wnh * r * (1 - r)
        for G, dzG in (("r", dr_pre), ("z", dz_pre), ("n", da)):
            d[f"U_{G}"] += dzG @ x.T
            d[f"b_{G}"] += dzG
        d["W_r"] += dr_pre @ hs[t - 1].T
        d["W_z"] += dz_pre @ hs[t - 1].T
        d["W_n"] += (da * r) @ hs[t - 1].T
        dh_next = (dh * z + P["W_r"].T @ dr_pre + P["W_z"].T @ dz_pre
                   + P["W_n"].T @ (da * r))
    return _result(params, loss, d, hs, ps, dhs, cache, {})


def _result(params, loss, d, hs, ps, dhs, cache, states) -> dict:
    T = len(ps)
    grads = {k: d[k].reshape(params[k].shape) for k in params}
    rows = {name: np.hstack([a[t] for t in range(T)]).T for name, a in (("h", hs), ("y", ps), ("dh", dhs))}
    gates = {k: np.hstack([cache[t][k] for t in range(T)]).T for k in cache[0] if k not in ("h", "s")}
    rows.update({name: np.hstack([a[t] for t in range(T)]).T for name, a in states.items()})
    return {"loss": loss, "grads": grads, "gates": gates, **rows}
