"""Itemized gradients dL(t)/dh(s), checked against finite differences, the trainer's own dh, and
hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.cells import get
from rnn_core.config import TrainConfig
from rnn_core.corpus import corpus_from_text
from rnn_core.model import forward, gradients, init_params
from rnn_core.reach import itemized_dh, itemized_gradients, last_prediction_flow, reach_by_distance
from rnn_core.trainer import Trainer
from tests import cell_references as ref

H, K, T = 4, 5, 6


def tiny(seed: int = 0):
    """A tiny float64 model with nonzero biases, one stream, a nonzero state carried in."""
    rng = np.random.default_rng(seed)
    params = dict(init_params(H, K, rng))
    params = {k: v * 2.0 for k, v in params.items()}  # tanh clearly non-linear
    params["b"] = rng.normal(0, 0.5, H)
    params["c"] = rng.normal(0, 0.5, K)
    inputs = rng.integers(0, K, size=T)
    targets = rng.integers(0, K, size=T)
    h0 = rng.uniform(-0.8, 0.8, size=H)
    return params, inputs, targets, h0


def step(params, h, x):
    """h(t) = tanh(U x(t) + W h(t-1) + b), written out here independently of rnn_core."""
    return np.tanh(params["U"][:, x] + params["W"] @ h + params["b"])


def term_loss(params, h, target):
    """L(t) = -log softmax(V h(t) + c)[target], as log-sum-exp minus the target's logit."""
    o = params["V"] @ h + params["c"]
    m = o.max()
    return m + math.log(np.exp(o - m).sum()) - o[target]


def states(params, inputs, h0):
    """h(0..T-1) (T, H) from h0, by the loop above."""
    hs, h = [], h0
    for x in inputs:
        h = step(params, h, x)
        hs.append(h)
    return np.array(hs)


def loss_of_t_from_h_s(params, inputs, targets, h_s, s, t):
    """L(t) with h(s) given as an input: run the recurrence from h(s) forward to t."""
    h = h_s
    for r in range(s + 1, t + 1):
        h = step(params, h, inputs[r])
    return term_loss(params, h, targets[t])


def test_itemized_vectors_match_finite_differences():
    params, inputs, targets, h0 = tiny()
    hs = states(params, inputs, h0)
    dh = itemized_dh(params, inputs, targets, h0)
    assert dh.shape == (T, T, H) and dh.dtype == np.float64
    eps = 1e-6
    for t in range(T):
        for s in range(t + 1):
            numeric = np.empty(H)
            for i in range(H):
                up, down = hs[s].copy(), hs[s].copy()
                up[i] += eps
                down[i] -= eps
                numeric[i] = (loss_of_t_from_h_s(params, inputs, targets, up, s, t)
                              - loss_of_t_from_h_s(params, inputs, targets, down, s, t)) / (2 * eps)
            np.testing.assert_allclose(dh[t, s], numeric, rtol=1e-6, atol=1e-9, err_msg=f"t={t} s={s}")
    # h(s) after y(t) does not touch L(t): exactly zero above the diagonal
    upper = np.triu(np.ones((T, T), bool), k=1)
    assert not dh[upper].any()
    assert dh[~upper].all()  # and every s <= t gets something (no pass stopped early)


def test_summed_over_predictions_they_are_the_trainers_dh():
    params, inputs, targets, h0 = tiny(seed=1)
    fw = forward(params, inputs[:, None], targets[:, None], h0[None, :])
    _, dh_trainer = gradients(params, fw)  # (T, 1, H)
    dh = itemized_dh(params, inputs, targets, h0)
    np.testing.assert_allclose(dh.sum(axis=0), dh_trainer[:, 0], rtol=0, atol=1e-12)
    # and the itemization is not trivial: the first step gets a share from every prediction
    assert np.linalg.norm(dh[1:, 0].sum(axis=0)) > 1e-3


def test_diagonal_is_the_output_gradient():
    params, inputs, targets, h0 = tiny(seed=2)
    hs = states(params, inputs, h0)
    G = itemized_gradients(params, inputs, targets, h0)
    for t in range(T):
        o = params["V"] @ hs[t] + params["c"]
        y = np.exp(o - o.max()) / np.exp(o - o.max()).sum()
        do = y - np.eye(K)[targets[t]]
        assert G[t, t] == pytest.approx(np.linalg.norm(params["V"].T @ do), rel=1e-12)


def per_step_ratios(G):
    """G[t, s-1] / G[t, s] for every 1 <= s <= t: what one step back multiplies the norm by."""
    return np.array([G[t, s - 1] / G[t, s] for t in range(T) for s in range(1, t + 1)])


def test_small_recurrent_weights_make_the_reach_vanish():
    params, inputs, targets, h0 = tiny(seed=3)
    params["W"] = params["W"] * 1e-3
    G = itemized_gradients(params, inputs, targets, h0)
    assert np.all(np.diag(G) > 1e-2)
    ratios = per_step_ratios(G)
    assert len(ratios) == T * (T - 1) // 2
    assert ratios.max() < 1e-2


def test_large_orthogonal_recurrent_weights_keep_the_reach():
    params, inputs, targets, _ = tiny(seed=4)
    Q, _ = np.linalg.qr(np.random.default_rng(5).standard_normal((H, H)))
    params["W"] = 3.0 * Q
    params["U"] = params["U"] * 1e-3  # small inputs: tanh stays near its linear part
    params["b"] = params["b"] * 1e-3
    G = itemized_gradients(params, inputs, targets, np.zeros(H))
    ratios = per_step_ratios(G)
    # ||W^T ((1 - h^2) * d)|| <= 3 ||d||, and near 3 while 1 - h^2 is near 1: the reach grows
    assert ratios.min() > 2.9 and ratios.max() <= 3.0 + 1e-12
    assert G[T - 1, 0] > 100 * G[T - 1, T - 1]


def test_float32_params_are_computed_in_float64():
    params, inputs, targets, h0 = tiny(seed=6)
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    G32 = itemized_gradients(p32, inputs, targets, h0.astype(np.float32))
    dh32 = itemized_dh(p32, inputs, targets, h0.astype(np.float32))
    assert G32.dtype == np.float64 and dh32.dtype == np.float64
    # close to the float64 model's (the weights differ by float32 rounding) ...
    G64 = itemized_gradients(params, inputs, targets, h0)
    np.testing.assert_allclose(G32, G64, rtol=1e-5, atol=1e-12)
    # ... and exactly the float64 computation on the float32 weights, not float32 arithmetic
    up = {k: v.astype(np.float64) for k, v in p32.items()}
    np.testing.assert_array_equal(G32, itemized_gradients(up, inputs, targets, h0.astype(np.float32)))


def test_reach_by_distance_on_a_hand_made_matrix():
    G = np.array([
        [1.0, 99.0, 99.0],    # above the diagonal: never read
        [10.0, 100.0, 99.0],
        [7.0, 1000.0, 10.0],
    ])
    distances, means = reach_by_distance(G)
    np.testing.assert_array_equal(distances, [0, 1, 2])
    # d=0: 1, 100, 10;  d=1: 10, 1000;  d=2: 7
    np.testing.assert_allclose(means, [111 / 3, 505.0, 7.0], rtol=1e-15)
    _, geo = reach_by_distance(G, geometric=True)
    np.testing.assert_allclose(geo, [10.0, 100.0, 7.0], rtol=1e-14)
    G[2, 1] = 0.0  # a zero norm: the geometric mean is 0, the arithmetic one still defined
    assert reach_by_distance(G, geometric=True)[1][1] == 0.0
    assert reach_by_distance(G)[1][1] == 5.0
    with pytest.raises(ValueError, match="square"):
        reach_by_distance(np.ones((2, 3)))


def test_last_prediction_flow_is_the_last_row_and_fades():
    params, inputs, targets, h0 = tiny(seed=7)
    G = itemized_gradients(params, inputs, targets, h0)
    flow = last_prediction_flow(G)
    np.testing.assert_array_equal(flow, G[T - 1])
    flow[0] = -1.0  # a copy, not a view into G
    assert G[T - 1, 0] != -1.0
    small = {**params, "W": params["W"] * 0.1}
    fading = last_prediction_flow(itemized_gradients(small, inputs, targets, h0))
    assert np.all(np.diff(fading) > 0)  # larger nearer the prediction, fading going back


def test_one_stream_shapes_are_checked_and_h0_is_left_alone():
    params, inputs, targets, h0 = tiny()
    saved = h0.copy()
    itemized_gradients(params, inputs, targets, h0)
    np.testing.assert_array_equal(h0, saved)
    with pytest.raises(ValueError, match="h0"):
        itemized_gradients(params, inputs, targets, np.zeros(H + 1))
    with pytest.raises(ValueError, match="inputs"):
        itemized_gradients(params, inputs[:, None], targets[:, None], h0)
    with pytest.raises(ValueError, match="inputs"):
        itemized_gradients(params, inputs, targets[:-1], h0)


def test_on_the_trainers_last_chunk_with_the_weights_it_was_computed_with():
    """Trainer.chunk_params() are the weights of the last chunk's passes: with them, the itemized
    gradients of a stream add up to its traced dL/dh(t); the weights after the update do not."""
    trainer = Trainer(corpus_from_text("the cat sat on the mat. " * 20, seq_len=8),
                      TrainConfig(hidden=6, seq_len=8, batch=2, lr=0.5, val_fraction=0.0, seed=1))
    assert trainer.chunk_params() is None
    trainer.run(3)
    params = trainer.chunk_params()
    trace = trainer.chunk_trace(1)
    dh = itemized_dh(params, trace.inputs, trace.targets, trace.h_prev)
    np.testing.assert_allclose(np.linalg.norm(dh.sum(axis=0), axis=1), trace.dh_norms, rtol=1e-10)
    after = itemized_dh(trainer.params, trace.inputs, trace.targets, trace.h_prev)
    assert not np.allclose(np.linalg.norm(after.sum(axis=0), axis=1), trace.dh_norms, rtol=1e-6)
    params["W"][0, 0] += 1.0  # a copy: the trainer's weights are untouched
    assert trainer.chunk_params()["W"][0, 0] != params["W"][0, 0]


# --- the gated cells: the same itemization through each cell's own step back ------------------


def gated(name: str, seed: int = 0):
    """A tiny float64 LSTM or GRU, one stream, a nonzero state carried in (h, and the LSTM's s)."""
    cell = get(name)
    rng = np.random.default_rng(seed)
    params = dict(cell.init_params(H, K, rng))
    for k, a in params.items():
        params[k] = a * 2.0 if a.ndim == 2 else rng.normal(0, 0.5, a.shape)
    inputs = rng.integers(0, K, size=T)
    targets = rng.integers(0, K, size=T)
    carry0 = rng.uniform(-0.8, 0.8, size=cell.carry_size(H))
    return params, inputs, targets, carry0


def gated_loss_of_t_from_state(name, params, inputs, targets, h_s, s_s, s, t):
    """L(t) by the equations (tests/cell_references.py), with h(s) (and s(s)) given as inputs."""
    P = ref.columns(params)
    h, c = ref.col(h_s), None if s_s is None else ref.col(s_s)
    for r in range(s + 1, t + 1):
        x = ref.one_hot(inputs[r], K)
        if name == "lstm":
            step = ref.lstm_step(P, x, h, c)
            h, c = step["h"], step["s"]
        else:
            h = ref.gru_step(P, x, h)["h"]
    return ref.output(P, h, targets[t])[1]


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_gated_itemized_vectors_match_finite_differences(name):
    params, inputs, targets, carry0 = gated(name)
    r = (ref.lstm(params, inputs, targets, carry0[:H], carry0[H:]) if name == "lstm"
         else ref.gru(params, inputs, targets, carry0))
    hs, ss = r["h"], r.get("s")
    dh = itemized_dh(params, inputs, targets, carry0)
    assert dh.shape == (T, T, H) and dh.dtype == np.float64
    eps = 1e-6
    for t in range(T):
        for s in range(t + 1):
            numeric = np.empty(H)
            for i in range(H):  # nudge h(s) alone; s(s), for the LSTM, stays as it was
                up, down = hs[s].copy(), hs[s].copy()
                up[i] += eps
                down[i] -= eps
                s_s = None if ss is None else ss[s]
                numeric[i] = (gated_loss_of_t_from_state(name, params, inputs, targets, up, s_s, s, t)
                              - gated_loss_of_t_from_state(name, params, inputs, targets, down, s_s, s, t)
                              ) / (2 * eps)
            np.testing.assert_allclose(dh[t, s], numeric, rtol=1e-6, atol=1e-9, err_msg=f"t={t} s={s}")
    upper = np.triu(np.ones((T, T), bool), k=1)
    assert not dh[upper].any() and dh[~upper].all()


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_gated_itemized_vectors_sum_to_the_trainers_dh(name):
    params, inputs, targets, carry0 = gated(name, seed=1)
    cell = get(name)
    fw = cell.forward(params, inputs[:, None], targets[:, None], carry0[None, :])
    _, dh_trainer = cell.gradients(params, fw)  # (T, 1, H)
    dh = itemized_dh(params, inputs, targets, carry0)
    np.testing.assert_allclose(dh.sum(axis=0), dh_trainer[:, 0], rtol=0, atol=1e-12)
    assert np.linalg.norm(dh[1:, 0].sum(axis=0)) > 1e-3
    G = itemized_gradients(params, inputs, targets, carry0)
    np.testing.assert_allclose(G, np.linalg.norm(dh, axis=2), rtol=1e-14)
    with pytest.raises(ValueError, match=f"h0 must be \\({cell.carry_size(H)},\\)"):
        itemized_gradients(params, inputs, targets, carry0[:3])


def test_an_lstm_with_its_forget_gate_open_keeps_the_reach_the_rnn_loses():
    # The article's point, made visible: with the same small recurrent weights, the RNN's gradient
    # fades step by step, while the LSTM's flows back along s(t) through an open forget gate.
    params, inputs, targets, _ = tiny(seed=8)
    params["W"] = params["W"] * 0.1
    rnn_flow = last_prediction_flow(itemized_gradients(params, inputs, targets, np.zeros(H)))
    lstm_params, _, _, _ = gated("lstm", seed=8)
    for G in "ifgo":
        lstm_params[f"W_{G}"] = lstm_params[f"W_{G}"] * 0.1
    lstm_params["b_f"][...] = 6.0  # f = 0.998
    lstm_flow = last_prediction_flow(itemized_gradients(lstm_params, inputs, targets, np.zeros(2 * H)))
    assert rnn_flow[0] / rnn_flow[-1] < 1e-3 and np.all(np.diff(rnn_flow) > 0)  # ~10x a step
    assert lstm_flow[0] / lstm_flow[-1] > 100 * rnn_flow[0] / rnn_flow[-1]
    assert lstm_flow[0] / lstm_flow[-2] > 0.1  # once in s, hardly fading at all
