"""Clipping (value, norm, off) with its statistics, and every optimizer against a hand computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnn_core.model import FlatParams, init_params, param_shapes
from rnn_core.optim import CLIP_MODES, OPTIMIZERS, clip_gradients, make_optimizer


def grads() -> dict[str, np.ndarray]:
    return {
        "U": np.array([[3.0, -7.0], [0.0, 0.5]]),
        "W": np.array([[-6.0]]),
        "V": np.array([[0.25, 0.0]]),
        "b": np.array([2.0]),
        "c": np.array([0.0, -4.0]),
    }


def test_clip_by_value_clips_each_entry_and_reports_it():
    g = grads()
    original = {k: a.copy() for k, a in g.items()}
    clipped, stats = clip_gradients(g, "value", 5.0)
    np.testing.assert_array_equal(clipped["U"], [[3.0, -5.0], [0.0, 0.5]])
    np.testing.assert_array_equal(clipped["W"], [[-5.0]])
    np.testing.assert_array_equal(clipped["c"], [0.0, -4.0])
    assert stats.norm_pre["U"] == pytest.approx(math.sqrt(9 + 49 + 0.25))
    assert stats.norm_post["U"] == pytest.approx(math.sqrt(9 + 25 + 0.25))
    assert stats.norm_pre["W"] == 6.0 and stats.norm_post["W"] == 5.0
    assert stats.global_pre == pytest.approx(math.sqrt(9 + 49 + 0.25 + 36 + 0.0625 + 4 + 16))
    assert stats.global_post == pytest.approx(math.sqrt(9 + 25 + 0.25 + 25 + 0.0625 + 4 + 16))
    assert stats.clipped_fraction == pytest.approx(2 / 10)  # -7 and -6, of 10 entries
    for k in g:  # the pre-clip gradients are untouched
        np.testing.assert_array_equal(g[k], original[k])


def test_clip_by_norm_scales_everything_together():
    g = grads()
    original = {k: a.copy() for k, a in g.items()}
    clipped, stats = clip_gradients(g, "norm", 2.0)
    scale = 2.0 / stats.global_pre
    for k in g:
        np.testing.assert_allclose(clipped[k], original[k] * scale)
        np.testing.assert_array_equal(g[k], original[k])
        assert stats.norm_post[k] == pytest.approx(np.linalg.norm(clipped[k]))
    assert stats.global_post == pytest.approx(2.0)
    # entries that are zero stay zero: 7 of the 10 entries change
    changed = sum(int(np.count_nonzero(clipped[k] != original[k])) for k in g)
    assert stats.clipped_fraction == pytest.approx(changed / 10) == pytest.approx(0.7)


def test_clip_by_norm_below_the_threshold_changes_nothing():
    g = grads()
    clipped, stats = clip_gradients(g, "norm", 1000.0)
    for k in g:
        np.testing.assert_array_equal(clipped[k], g[k])
    assert stats.global_post == stats.global_pre and stats.clipped_fraction == 0.0


def test_clip_off_changes_nothing_and_still_measures():
    g = grads()
    clipped, stats = clip_gradients(g, "off", 0.001)
    for k in g:
        np.testing.assert_array_equal(clipped[k], g[k])
    assert stats.norm_pre == stats.norm_post and stats.global_pre == stats.global_post > 0
    assert stats.clipped_fraction == 0.0


def test_unknown_clip_mode():
    assert set(CLIP_MODES) == {"value", "norm", "off"}
    with pytest.raises(ValueError, match="clip mode"):
        clip_gradients(grads(), "sometimes", 1.0)


# --- optimizers: one weight, three steps, written out by hand ---------------------------------

G = (0.5, -1.0, 2.0)  # the gradients of three successive steps
LR = 0.1


def hand_sgd():
    p = 1.0
    for g in G:
        p = p - LR * g
    return p  # 1 - 0.05 + 0.1 - 0.2


def hand_momentum():
    p, v = 1.0, 0.0
    for g in G:
        v = 0.9 * v + g
        p = p - LR * v
    return p


def hand_adagrad():
    p, mem = 1.0, 0.0
    for g in G:
        mem = mem + g * g
        p = p - LR * g / math.sqrt(mem + 1e-8)
    return p


def hand_rmsprop():
    p, ms = 1.0, 0.0
    for g in G:
        ms = 0.99 * ms + 0.01 * g * g
        p = p - LR * g / (math.sqrt(ms) + 1e-8)
    return p


def hand_adam():
    p, m, v = 1.0, 0.0, 0.0
    for t, g in enumerate(G, start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        p = p - LR * m_hat / (math.sqrt(v_hat) + 1e-8)
    return p


HAND = {"sgd": hand_sgd, "momentum": hand_momentum, "adagrad": hand_adagrad, "rmsprop": hand_rmsprop,
        "adam": hand_adam}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_the_hand_computation(name):
    params = {"U": np.array([[1.0, -2.0]]), "W": np.array([[3.0]])}
    opt = make_optimizer(name, params)
    assert opt.name == name and opt.t == 0
    for t, g in enumerate(G, start=1):
        grads = {"U": np.array([[g, 0.0]]), "W": np.array([[-g]])}
        before = {k: a.copy() for k, a in grads.items()}
        opt.step(params, grads, LR)
        assert opt.t == t
        np.testing.assert_array_equal(grads["U"], before["U"])  # gradients are not modified
    assert params["U"][0, 0] == pytest.approx(HAND[name](), rel=1e-12, abs=1e-15)
    assert params["U"][0, 1] == -2.0  # a zero gradient moves nothing, whatever the optimizer
    # the same hand computation with the gradients' sign flipped, from 3.0 instead of 1.0
    assert 3.0 - params["W"][0, 0] == pytest.approx(HAND[name]() - 1.0, rel=1e-12, abs=1e-15)


def test_optimizer_state_is_kept_per_parameter():
    params = {"U": np.zeros((2, 3)), "b": np.zeros(2)}
    expected = {"sgd": set(), "momentum": {"velocity"}, "adagrad": {"mem"}, "rmsprop": {"ms"},
                "adam": {"m", "v"}}
    for name in OPTIMIZERS:
        opt = make_optimizer(name, params)
        assert set(opt.state) == expected[name]
        for slot in opt.state.values():
            assert {k: a.shape for k, a in slot.items()} == {"U": (2, 3), "b": (2,)}


def test_adagrad_state_and_effective_lr():
    params = {"U": np.array([1.0, 1.0])}
    opt = make_optimizer("adagrad", params)
    opt.step(params, {"U": np.array([3.0, 0.0])}, 0.1)
    opt.step(params, {"U": np.array([4.0, 0.0])}, 0.1)
    np.testing.assert_array_equal(opt.state["mem"]["U"], [25.0, 0.0])
    np.testing.assert_allclose(opt.effective_lr("U", 0.1), [0.1 / 5, 0.1 / 1e-4], rtol=1e-7)
    assert make_optimizer("sgd", params).effective_lr("U", 0.1) is None
    assert make_optimizer("momentum", params).effective_lr("U", 0.1) is None


@pytest.mark.parametrize("flat", [True, False])
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_step_writes_its_change_to_delta(name, flat):
    # The trainer keeps each step's change to the weights (Inspect's "last update"): the weights
    # after a step are the weights before it plus delta, bit for bit, and asking for delta
    # changes nothing in the update itself.
    rng = np.random.default_rng(0)
    shapes = param_shapes(5, 4)
    start = init_params(5, 4, rng)
    make = (lambda a: FlatParams(a)) if flat else (lambda a: {k: v.copy() for k, v in a.items()})
    plain, tracked, delta = make(start), make(start), make(start)
    opt_plain, opt_tracked = make_optimizer(name, plain), make_optimizer(name, tracked)
    for _ in range(3):
        g = {k: rng.normal(size=sh) for k, sh in shapes.items()}
        before = {k: a.copy() for k, a in tracked.items()}
        opt_plain.step(plain, g, LR)
        opt_tracked.step(tracked, g, LR, delta=delta)
        for k in shapes:
            np.testing.assert_array_equal(tracked[k], plain[k])
            np.testing.assert_array_equal(tracked[k], before[k] + delta[k])
            assert delta[k].any()


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_round_trip_resumes_exactly_and_bad_state_changes_nothing(name):
    rng = np.random.default_rng(1)
    shapes = param_shapes(5, 4)
    a, b = init_params(5, 4, rng), None
    opt = make_optimizer(name, a)
    for _ in range(3):
        opt.step(a, {k: rng.normal(size=sh) for k, sh in shapes.items()}, LR)
    saved, b = opt.state_dict(), FlatParams(a)
    other = make_optimizer(name, b)
    other.load_state(saved)
    g = {k: rng.normal(size=sh) for k, sh in shapes.items()}
    opt.step(a, g, LR)
    other.step(b, g, LR)
    assert other.t == opt.t == 4
    for k in shapes:
        np.testing.assert_array_equal(a[k], b[k])
    wrong = OPTIMIZERS[(OPTIMIZERS.index(name) + 1) % len(OPTIMIZERS)]
    with pytest.raises(ValueError):
        other.load_state(make_optimizer(wrong, b).state_dict())
    if saved.slots:
        slot = next(iter(saved.slots))
        bad = {s: {k: v[..., :1] if s == slot and k == "W" else v for k, v in d.items()}
               for s, d in saved.slots.items()}
        with pytest.raises(ValueError, match="shapes"):
            other.load_state(type(saved)(name, 9, bad))
    assert other.t == 4  # unchanged by the refused loads


def test_unknown_optimizer():
    with pytest.raises(ValueError, match="optimizer"):
        make_optimizer("lbfgs", {"U": np.zeros(2)})
