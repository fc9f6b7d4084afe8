"""The cells (rnn_core/cells.py): one interface for the RNN, the LSTM and the GRU; the gated cells
against their equations written out again (tests/cell_references.py), batched against single
streams, float32 against float64, and the memory estimate against a measurement."""

from __future__ import annotations

import inspect
import math
import tracemalloc

import numpy as np
import pytest

from rnn_core import gru, lstm, model
from rnn_core.cells import CELL_NAMES, CELLS, Cell, cell_of, get, param_count, step_floats
from rnn_core.config import TrainConfig
from rnn_core.corpus import corpus_from_text
from rnn_core.layout import FlatParams, stacked
from rnn_core.trainer import Trainer
from tests import cell_references as ref
from tests.rnn_support import SMALL_TEXT

H, K, T = 5, 6, 7
GATED = ["lstm", "gru"]


def setup(cell_name: str, B: int, seed: int = 0, dtype=np.float64):
    """Weights large enough that every gate is non-linear, nonzero biases, a nonzero carry."""
    cell = get(cell_name)
    rng = np.random.default_rng(seed)
    params = cell.init_params(H, K, rng, dtype=dtype)
    for a in params.values():
        a[...] = a * 2.0 if a.ndim == 2 else rng.normal(0, 0.5, a.shape)
    inputs = rng.integers(0, K, size=(T, B))
    targets = rng.integers(0, K, size=(T, B))
    carry0 = rng.uniform(-0.9, 0.9, size=(B, cell.carry_size(H))).astype(dtype)
    return cell, params, inputs, targets, carry0


def reference(cell_name: str, params, inputs, targets, carry0, stream: int) -> dict:
    x, y = list(inputs[:, stream]), list(targets[:, stream])
    if cell_name == "lstm":
        return ref.lstm(params, x, y, carry0[stream, :H], carry0[stream, H:])
    return ref.gru(params, x, y, carry0[stream])


# --- the interface -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", CELL_NAMES)
def test_every_cell_has_the_interface(name):
    cell = CELLS[name]
    assert get(name) is cell and name == cell.NAME
    for attr, value in vars(Cell).items():
        if attr.startswith("_"):
            continue
        assert hasattr(cell, attr), (name, attr)
        if callable(value):  # the same parameters in the same order (self aside); the carried
            # state may be named for what it is (the RNN's h0, h, dh)
            want = list(inspect.signature(value).parameters)[1:]
            got = list(inspect.signature(getattr(cell, attr)).parameters)
            assert len(got) == len(want), (name, attr)
            carry = ("carry0", "carry", "dcarry")
            assert all(g == w or w in carry for g, w in zip(got, want, strict=True)), (name, attr)
    for attr in Cell.__annotations__:
        assert hasattr(cell, attr), (name, attr)
    shapes = cell.param_shapes(H, K)
    assert tuple(shapes) == cell.PARAM_NAMES
    params = cell.init_params(H, K, np.random.default_rng(0))
    assert isinstance(params, FlatParams) and params.flat() is not None
    assert {k: a.shape for k, a in params.items()} == shapes
    assert cell.carry_size(H) == len(cell.CARRY) * H and cell.CARRY[0] == "h"
    assert cell_of(params) is cell
    fw = cell.forward(params, np.zeros((3, 2), int), np.ones((3, 2), int), np.zeros((2, cell.carry_size(H))))
    assert fw.carry.shape == (2, cell.carry_size(H))
    assert set(fw.states) == set(cell.CARRY) and set(fw.gates) == set(cell.GATES)
    assert all(a.shape == (4, 2, H) for a in fw.states.values())
    assert all(a.shape == (3, 2, H) for a in fw.gates.values())


def test_the_cells_weights_and_their_order():
    assert model.PARAM_NAMES == ("U", "W", "V", "b", "c")
    assert lstm.PARAM_NAMES == ("U_i", "U_f", "U_g", "U_o", "W_i", "W_f", "W_g", "W_o", "V",
                                "b_i", "b_f", "b_g", "b_o", "c")
    assert gru.PARAM_NAMES == ("U_r", "U_z", "U_n", "W_r", "W_z", "W_n", "V", "b_r", "b_z", "b_n", "c")
    shapes = lstm.param_shapes(H, K)
    assert shapes["U_f"] == (H, K) and shapes["W_o"] == (H, H) and shapes["b_g"] == (H,)
    assert shapes["V"] == (K, H) and shapes["c"] == (K,)
    with pytest.raises(ValueError, match="unknown cell 'transformer'"):
        get("transformer")
    with pytest.raises(ValueError, match="no cell's"):
        cell_of({"U": np.zeros((2, 2)), "W": np.zeros((2, 2))})


def test_a_gates_weights_read_as_one_matrix_without_a_copy():
    params = lstm.init_params(H, K, np.random.default_rng(0))
    W = stacked(params, lstm.W_NAMES)
    assert W.shape == (4 * H, H) and np.shares_memory(W, params.flat())
    np.testing.assert_array_equal(W[H : 2 * H], params["W_f"])
    W[2 * H, 0] = 7.0  # a view: writing it writes W_g
    assert params["W_g"][0, 0] == 7.0
    plain = dict(params)  # not one buffer: a stacked copy, the same numbers
    np.testing.assert_array_equal(stacked(plain, lstm.W_NAMES), W)
    with pytest.raises(ValueError, match="one after another"):
        stacked(plain, lstm.W_NAMES, view=True)
    with pytest.raises(ValueError, match="one after another"):
        stacked(params, ("W_f", "W_i"), view=True)  # out of order


@pytest.mark.parametrize("name", GATED)
def test_init_follows_the_fan_in_and_the_forget_gate_starts_open(name):
    cell = get(name)
    params = cell.init_params(40, 30, np.random.default_rng(0))
    for k, a in params.items():
        if k[0] == "U":
            assert 0.9 / math.sqrt(30) < np.abs(a).max() <= 1 / math.sqrt(30), k
        elif k[0] in "WV":
            assert 0.9 / math.sqrt(40) < np.abs(a).max() <= 1 / math.sqrt(40), k
        else:
            assert np.all(a == (1.0 if k == "b_f" else 0.0)), k
    again = cell.init_params(40, 30, np.random.default_rng(0))
    assert all(np.array_equal(params[k], again[k]) for k in params)
    randn = cell.init_params(40, 30, np.random.default_rng(0), "randn", np.float32)
    assert all(a.dtype == np.float32 for a in randn.values())
    assert np.std(randn[f"W_{cell.GATES[0]}"]) == pytest.approx(0.01, rel=0.1)
    with pytest.raises(ValueError, match="init"):
        cell.init_params(4, 3, np.random.default_rng(0), "xavier")


# --- against the equations ---------------------------------------------------------------------


@pytest.mark.parametrize("B", [1, 3])
@pytest.mark.parametrize("name", GATED)
def test_batched_forward_and_backward_are_the_equations(name, B):
    cell, params, inputs, targets, carry0 = setup(name, B, seed=B)
    saved = carry0.copy()
    fw = cell.forward(params, inputs, targets, carry0)
    grads, dh = cell.gradients(params, fw)
    np.testing.assert_array_equal(carry0, saved)  # the carried state is not modified
    refs = [reference(name, params, inputs, targets, carry0, s) for s in range(B)]
    for s, r in enumerate(refs):
        np.testing.assert_allclose(fw.hs[1:, s], r["h"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(fw.ps[:, s], r["y"], rtol=0, atol=1e-12)
        assert fw.losses[:, s].sum() == pytest.approx(r["loss"], rel=1e-12)
        for g in cell.GATES:
            np.testing.assert_allclose(fw.gates[g][:, s], r["gates"][g], rtol=0, atol=1e-12)
        if name == "lstm":
            np.testing.assert_allclose(fw.states["s"][1:, s], r["s"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(dh[:, s], r["dh"], rtol=0, atol=1e-10)  # each stream's own
    assert fw.loss == pytest.approx(np.mean([r["loss"] for r in refs]), rel=1e-13)
    for k in cell.PARAM_NAMES:  # the gradient of the mean over streams
        mean = np.mean([r["grads"][k] for r in refs], axis=0)
        assert np.abs(mean).max() > 1e-3, k  # every gradient is really exercised
        np.testing.assert_allclose(grads[k], mean, rtol=0, atol=1e-10, err_msg=k)
    last = refs[-1]
    expected_carry = np.concatenate((last["h"][-1], last["s"][-1])) if name == "lstm" else last["h"][-1]
    np.testing.assert_allclose(fw.carry[-1], expected_carry, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", GATED)
def test_backward_into_a_given_buffer_overwrites_every_entry(name):
    cell, params, inputs, targets, carry0 = setup(name, 2)
    fw = cell.forward(params, inputs, targets, carry0)
    fresh, dh = cell.gradients(params, fw)
    out = FlatParams.empty(cell.param_shapes(H, K), np.float64)
    out.flat()[...] = np.nan
    grads, dh_out = cell.gradients(params, fw, out)
    assert grads is out
    np.testing.assert_array_equal(out.flat(), fresh.flat())
    np.testing.assert_array_equal(dh_out, dh)
    for k in cell.PARAM_NAMES:  # the weights are left alone
        np.testing.assert_array_equal(params[k], setup(name, 2)[1][k])


@pytest.mark.parametrize("name", CELL_NAMES)
def test_streams_are_independent_and_combined_by_the_mean(name):
    B = 4
    cell, params, inputs, targets, carry0 = setup(name, B, seed=1)
    fw = cell.forward(params, inputs, targets, carry0)
    grads, dh = cell.gradients(params, fw)
    singles = []
    for s in range(B):
        fw_s = cell.forward(params, inputs[:, s : s + 1], targets[:, s : s + 1], carry0[s : s + 1])
        g_s, dh_s = cell.gradients(params, fw_s)
        singles.append((fw_s.loss, g_s))
        np.testing.assert_allclose(fw.carry[s], fw_s.carry[0], rtol=1e-13)
        np.testing.assert_allclose(dh[:, s], dh_s[:, 0], rtol=1e-11, atol=1e-14)
    assert fw.loss == pytest.approx(np.mean([loss for loss, _ in singles]), rel=1e-13)
    for k in cell.PARAM_NAMES:
        mean = np.mean([g[k] for _, g in singles], axis=0)
        np.testing.assert_allclose(grads[k], mean, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("name", CELL_NAMES)
def test_float32_stays_float32_and_agrees_with_float64(name):
    cell, params, inputs, targets, carry0 = setup(name, 2, seed=3)
    p32 = FlatParams(params, np.float32)
    fw32 = cell.forward(p32, inputs, targets, carry0.astype(np.float32))
    g32, dh32 = cell.gradients(p32, fw32)
    assert fw32.hs.dtype == np.float32 and dh32.dtype == np.float32 and fw32.carry.dtype == np.float32
    assert all(g.dtype == np.float32 for g in g32.values())
    assert all(a.dtype == np.float32 for a in [*fw32.gates.values(), *fw32.states.values()])
    fw64 = cell.forward(params, inputs, targets, carry0)
    g64, _ = cell.gradients(params, fw64)
    assert fw32.loss == pytest.approx(fw64.loss, rel=1e-5)
    for k in cell.PARAM_NAMES:
        np.testing.assert_allclose(g32[k], g64[k], rtol=1e-3, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("name", CELL_NAMES)
def test_the_sampling_step_is_the_forward_recurrence(name):
    cell, params, inputs, targets, carry0 = setup(name, 1, seed=4)
    fw = cell.forward(params, inputs, targets, carry0)
    carry = carry0[0]
    for t, x in enumerate(inputs[:, 0]):
        carry = cell.step(params, int(x), carry)
        np.testing.assert_allclose(carry[:H], fw.hs[t + 1, 0], rtol=0, atol=1e-14)
    np.testing.assert_allclose(carry, fw.carry[0], rtol=0, atol=1e-14)


def test_a_stuck_open_lstm_cell_keeps_what_it_holds_and_passes_the_gradient_back():
    # The LSTM's remedy: with the forget gate open and the input gate shut, s(t) = s(t-1), and
    # the gradient along s reaches back undiminished (the RNN's fades through W and tanh).
    cell, params, inputs, targets, carry0 = setup("lstm", 1, seed=5)
    params["b_f"][...] = 30.0   # f = 1
    params["b_i"][...] = -30.0  # i = 0
    fw = cell.forward(params, inputs, targets, carry0)
    np.testing.assert_allclose(fw.states["s"], np.broadcast_to(carry0[:, H:], (T + 1, 1, H)), atol=1e-12)
    ds = np.zeros((1, 2 * H))
    ds[0, H:] = 1.0  # a gradient at s(T-1) alone
    for t in range(T - 1, 0, -1):
        ds = cell.step_back(params, fw, t, ds)
    np.testing.assert_allclose(ds[0, H:], 1.0, rtol=1e-10)


# --- memory -----------------------------------------------------------------------------------


def test_param_count():
    assert param_count("rnn", 100, 65) == 100 * 65 + 100 * 100 + 65 * 100 + 100 + 65
    assert param_count("lstm", 128, 100) == 4 * (128 * 100 + 128 * 128 + 128) + 100 * 128 + 100
    assert param_count("gru", 128, 100) == 3 * (128 * 100 + 128 * 128 + 128) + 100 * 128 + 100
    for name in CELL_NAMES:
        params = get(name).init_params(7, 4, np.random.default_rng(0))
        assert param_count(name, 7, 4) == params.flat().size


@pytest.mark.parametrize("name", CELL_NAMES)
@pytest.mark.parametrize("T, B, H", [(25, 8, 32), (10, 1, 64), (25, 1, 128)])
def test_the_step_memory_estimate_is_above_the_measured_peak(name, T, B, H):
    corpus = corpus_from_text(SMALL_TEXT * 20)
    # Adam on clipping gradients: the most temporaries a step makes.
    trainer = Trainer(corpus, TrainConfig(cell=name, hidden=H, seq_len=T, batch=B, optimizer="adam",
                                          clip=1e-3, val_every=0))
    trainer.run(2)  # the optimizer's work arrays exist by now
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        record = trainer.step()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert record.clip.clipped_fraction > 0
    estimate = step_floats(name, T, B, H, len(corpus.vocab)) * 8
    assert peak <= estimate <= 4 * peak, (peak, estimate)
