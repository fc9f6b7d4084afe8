"""The Unrolled page's views (ui/views/unrolled.py, phase_text.py, walk.py, source.py): the numbers
are rnn_core's own, the parts the equations split them into add up to them, the walk moves as
the page says, and the source lines shown are the ones in the files."""

from __future__ import annotations

import inspect
import math
from pathlib import Path

import numpy as np
import pytest

from rnn_core import model, optim
from rnn_core.config import OPTIMIZERS
from rnn_core.corpus import corpus_from_text
from rnn_core.model import PARAM_NAMES
from rnn_core.optim import CLIP_MODES, make_optimizer
from rnn_core.trainer import Trainer
from tests.rnn_support import small_corpus, tiny_config
from ui.text import visible_char
from ui.views import phase_text as words
from ui.views import source
from ui.views.unrolled import (
    BACKWARD,
    CHUNK,
    CLIP,
    FORWARD,
    PHASES,
    SOFTMAX,
    STEP,
    UPDATE,
    frame_view,
    read_preview,
    step_check,
    unrolled_view,
)
from ui.views.walk import DWELL_TICKS, TakenStep, Walk, entry_t

ROOT = Path(__file__).resolve().parents[1]


def trained(steps: int = 5, **changes: object) -> Trainer:
    t = Trainer(small_corpus(), tiny_config(**changes))
    t.run(steps)
    return t


# --- the numbers are rnn_core's -------------------------------------------------------------------


@pytest.mark.parametrize("stream", [0, 2])
def test_the_view_is_rnn_cores_forward_and_backward_on_the_trainers_next_chunk(stream):
    trainer = trained(batch=3)
    view = unrolled_view(read_preview(trainer), stream)
    # The chunk itself, from the trainer's segments (the next step reads p ... p+T of each).
    T, p = trainer.config.seq_len, trainer.p
    chars = trainer.corpus.vocab.chars
    assert view.p == p and view.step == trainer.step_count + 1
    assert view.inputs == [visible_char(chars[i]) for i in trainer.segments[stream, p : p + T]]
    assert view.targets == [visible_char(chars[i]) for i in trainer.segments[stream, p + 1 : p + T + 1]]
    # rnn_core's forward pass and gradients, run here on the trainer's weights and carried state.
    inputs = np.ascontiguousarray(trainer.segments[:, p : p + T].T)
    targets = np.ascontiguousarray(trainer.segments[:, p + 1 : p + T + 1].T)
    fw = model.forward(trainer.params, inputs, targets, trainer.h)
    _, dh = model.gradients(trainer.params, fw)
    np.testing.assert_array_equal(view.h0, fw.hs[0, stream])
    np.testing.assert_array_equal(view.hs, fw.hs[1:, stream])
    np.testing.assert_array_equal(view.losses, fw.losses[:, stream])
    np.testing.assert_array_equal(view.p_target, fw.ps[np.arange(T), stream, targets[:, stream]])
    np.testing.assert_array_equal(view.dh, dh[:, stream])
    assert view.loss == pytest.approx(float(fw.losses[:, stream].sum()), rel=1e-12)
    assert view.mean_loss == fw.loss
    # The step the walk ends with is the trainer's next step.
    record = trainer.step()
    assert record.loss == view.mean_loss and record.clip.global_pre == view.global_pre
    for row in view.params:
        assert row.delta_max == pytest.approx(float(np.abs(trainer.last_update()[row.name]).max()), rel=1e-12)
        assert row.norm_pre == record.clip.norm_pre[row.name]


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-12), ("float32", 2e-5)])
def test_the_parts_of_each_equation_add_up_to_rnn_cores_numbers(dtype, tol):
    trainer = trained(batch=3, dtype=dtype, optimizer="adam", lr=0.01)
    view = unrolled_view(read_preview(trainer), 1)
    # h(t) = tanh(U x(t) + W h(t-1) + b)
    np.testing.assert_allclose(np.tanh(view.ux + view.wh + view.b), view.hs, atol=tol)
    # ŷ(t)[target] = exp(o[target] - ln Σ exp o), L(t) = -ln of it
    np.testing.assert_allclose(np.exp(view.o_target - view.log_sum_exp), view.p_target, rtol=tol * 10)
    np.testing.assert_allclose(-np.log(view.p_target), view.losses, rtol=tol * 10)
    # dL/dh(t) = V^T (ŷ(t) - onehot(target(t))) + W^T dL/dz(t+1); nothing after T-1
    np.testing.assert_allclose(view.from_output + view.from_next, view.dh, atol=tol)
    assert not view.from_next[-1].any()
    # the top candidates are the softmax's largest, and the true one is marked where it is among them
    assert (np.diff(view.top_p, axis=1) <= 0).all()
    assert (view.top_p[:, 0] >= view.p_target).all()
    assert (view.top_is_target.any(axis=1) == (view.target_rank <= view.top_p.shape[1])).all()


def test_the_drawn_units_are_the_most_active_on_the_chunk():
    trainer = trained(hidden=40)
    view = unrolled_view(read_preview(trainer), 0, units=16)
    activity = np.abs(view.hs).mean(axis=0)
    assert len(view.units) == 16
    assert activity[view.units].min() >= np.delete(activity, view.units).max()
    assert list(activity[view.units]) == sorted(activity[view.units], reverse=True)
    assert len(unrolled_view(read_preview(trained(hidden=8)), 0, units=16).units) == 8


@pytest.mark.parametrize("mode, clip", [("value", 0.05), ("norm", 0.5), ("off", 1.0)])
def test_clipping_counts_the_entries_it_changed(mode, clip):
    trainer = trained(clip_mode=mode, clip=clip)
    read = read_preview(trainer)
    view = unrolled_view(read)
    g = read.preview.grads
    for row in view.params:
        if mode == "value":
            assert row.cut == np.count_nonzero(np.abs(g[row.name]) > clip)
        elif mode == "norm":
            assert view.global_pre > clip  # the case under test: it clips
            assert row.cut == np.count_nonzero(g[row.name])
        else:
            assert row.cut == 0
    assert sum(r.cut for r in view.params) > 0 or mode == "off"


def test_the_step_check_compares_the_trainers_weights_with_the_ones_shown():
    trainer = trained()
    read = read_preview(trainer)
    trainer.step()
    check = step_check(trainer, read.preview)
    assert check.taken and check.equal and set(check.max_diff.values()) == {0.0}
    trainer.step()  # one more: no longer the weights shown
    check = step_check(trainer, read.preview)
    assert not check.taken and not check.equal and max(check.max_diff.values()) > 0


# --- frames: what is computed at each phase and time step ---------------------------------------


@pytest.fixture
def view():
    return unrolled_view(read_preview(trained(batch=2)), 1)


def test_the_forward_pass_fills_the_columns_in_up_to_t(view):
    chunk = frame_view(view, CHUNK, 4)
    assert not np.isnan(chunk.cells[:, 0]).any() and np.isnan(chunk.cells[:, 1:]).all()  # only h(-1)
    assert chunk.top_chars is None and chunk.bars is None
    fwd = frame_view(view, FORWARD, 3)
    np.testing.assert_array_equal(fwd.cells[:, 1:5], view.hs[:4, view.units].T)
    assert np.isnan(fwd.cells[:, 5:]).all()
    assert (fwd.u[:4] == 1).all() and np.isnan(fwd.u[4:]).all() and np.isnan(fwd.v).all()
    assert not fwd.cells_are_grads and fwd.top_chars is None
    np.testing.assert_allclose(fwd.bars[:4], np.linalg.norm(view.hs[:4], axis=1))


def test_softmax_and_after_show_the_candidates_and_the_loss_terms(view):
    soft = frame_view(view, SOFTMAX, 2)
    assert soft.top_chars == view.top_chars and soft.bars_kind == "loss"
    np.testing.assert_array_equal(soft.bars, view.losses)
    for phase in (CLIP, UPDATE, STEP):
        frame = frame_view(view, phase, 2)
        assert frame.bars_kind == "gradient" and not np.isnan(frame.cells).any()


def test_the_backward_pass_flows_from_the_end_back_to_t(view):
    T = view.T
    back = frame_view(view, BACKWARD, 6)
    assert back.cells_are_grads and back.backward
    np.testing.assert_array_equal(back.cells[:, 7:], view.dh[6:, view.units].T)
    assert np.isnan(back.cells[:, :7]).all()
    np.testing.assert_array_equal(back.bars[6:], view.dh_norms[6:])
    assert np.isnan(back.bars[:6]).all()
    assert np.nanmax(back.v) == 1.0 and np.nanmin(back.v) >= 0
    assert np.isnan(back.v[:6]).all() and np.isnan(back.w[:6]).all()
    # The W arrow into column s carries W^T dz(s) back to h(s-1), computed once dL/dh(s) is: at
    # t = 6 the arrows from 6 on, widest where most flows.
    carried = np.linalg.norm(view.from_next, axis=1)[5 : T - 1]  # W^T dz(s) for s = 6 ... T-1
    assert np.argmax(back.w[6:]) == np.argmax(carried)
    assert back.cells_range == pytest.approx(np.abs(view.dh[:, view.units]).max())
    # At t = 0 no arrow reaches h(-1): the carried state gets no gradient.
    assert np.isnan(frame_view(view, BACKWARD, 0).w[0])


# --- the words: equations with the step's numbers -------------------------------------------------


def test_every_phase_has_its_equation_with_the_numbers_at_t(view):
    t = 4
    texts = {p: words.phase_text(view, p, t) for p in range(STEP)}
    for p, text in texts.items():
        assert text.title.startswith(f"{p} · {PHASES[p]}") and text.lead and text.rule and text.numbers
    fwd = texts[FORWARD].numbers
    i = int(view.units[np.argmax(np.abs(view.hs[t, view.units]))])
    assert f"h_{{{i}}}({t})" in fwd and words.num(view.hs[t, i]) in fwd and words.num(view.ux[t, i]) in fwd
    soft = texts[SOFTMAX].numbers
    assert words.num(view.losses[t]) in soft and words.num(view.p_target[t]) in soft
    assert words.num(view.loss) in soft
    back = texts[BACKWARD].numbers
    j = int(view.units[np.argmax(np.abs(view.dh[t, view.units]))])
    assert words.num(view.dh[t, j]) in back and words.num(view.from_output[t, j]) in back
    assert words.num(float(view.dh_norms[t])) in back
    assert words.num(view.global_pre) in texts[CLIP].numbers
    big = max(view.params, key=lambda r: r.delta_max)
    assert words.num(big.after, 5) in texts[UPDATE].numbers
    assert "onehot" in texts[CHUNK].rule and str(view.input_ids[t]) in texts[CHUNK].numbers


def test_the_step_taken_says_whether_the_weights_are_the_ones_shown(view):
    trainer = trained()
    read = read_preview(trainer)
    trainer.step()
    taken = words.phase_text(view, STEP, 0, step_check(trainer, read.preview))
    assert "taken" in taken.note and "U: 0" in taken.numbers
    trainer.step()
    stale = words.phase_text(view, STEP, 0, step_check(trainer, read.preview))
    assert "not taken as shown" in stale.note


def test_characters_of_any_text_stay_literal_in_the_equations():
    text = "{}$%#&_^~\\" * 6  # a chunk of 10 holds each of LaTeX's special characters
    trainer = Trainer(corpus_from_text(text, name="odd", seq_len=10), tiny_config())
    view = unrolled_view(read_preview(trainer))
    assert set(view.inputs) == set(text)
    for t in range(view.T):
        numbers = words.phase_text(view, CHUNK, t).numbers + words.phase_text(view, SOFTMAX, t).numbers
        assert "$" not in numbers.replace(r"\$", "")
        assert "%" not in numbers.replace(r"\%", "")
        assert "#" not in numbers.replace(r"\#", "")
        assert "~" not in numbers.replace(r"\textasciitilde{}", "")


def test_numbers_read_as_latex():
    assert words.num(12.3456) == "12.35" and words.num(-0.5) == "-0.5000" and words.num(0.0) == "0"
    assert words.num(0.000123456) == r"1.235 \times 10^{-4}" and words.num(2.5e6) == r"2.500 \times 10^{6}"
    assert words.num(math.nan) == r"\text{NaN}" and words.num(-math.inf) == r"\text{-inf}"
    assert words.signed(-0.25) == "- 0.2500" and words.signed(0.25) == "+ 0.2500"
    assert words.count(12800) == "12{,}800"


def test_every_optimizer_has_its_update_rule_with_its_own_constants():
    params = {"W": np.zeros((2, 2))}
    for name in OPTIMIZERS:
        rule = words.update_rule(type(make_optimizer(name, params)))
        assert r"P \leftarrow P" in rule
    assert "0.999" in words.update_rule(optim.Adam) and "0.9" in words.update_rule(optim.Momentum)

    class Lion(optim.Optimizer):
        name = "lion"

    with pytest.raises(KeyError, match="lion"):
        words.update_rule(Lion)


def test_the_tables_hold_every_parameter_and_every_unit(view):
    clip = words.param_table(view, CLIP)
    assert list(clip["parameter"].str[0]) == list(PARAM_NAMES)
    assert list(clip["‖g‖ before"]) == [r.norm_pre for r in view.params]
    update = words.param_table(view, UPDATE)
    assert list(update["‖ΔP‖"]) == [r.delta_norm for r in view.params]
    assert words.param_table(view, FORWARD) is None
    units = words.units_table(view, 3)
    assert len(units) == view.H and (units["drawn"] == "✓").sum() == len(view.units)
    np.testing.assert_array_equal(units["h(t)"], view.hs[3])
    np.testing.assert_array_equal(units["h(t-1)"], view.hs[2])
    np.testing.assert_array_equal(words.units_table(view, 0)["h(t-1)"], view.h0)


# --- the source lines -----------------------------------------------------------------------------


def test_every_phase_shows_lines_that_stand_in_rnn_core_as_shown():
    classes = {type(make_optimizer(name, {"W": np.zeros((2, 2))})) for name in OPTIMIZERS}
    seen = 0
    for phase in range(len(PHASES)):
        for mode in CLIP_MODES:
            for cls in classes:
                for ex in words.phase_source(phase, mode, cls):
                    lines = (ROOT / ex.path).read_text(encoding="utf-8").splitlines()[ex.first - 1 : ex.last]
                    assert [ln.strip() for ln in lines] == [ln.strip() for ln in ex.code.splitlines()]
                    assert ex.path.startswith("rnn_core/") and ex.last - ex.first < 20
                    seen += 1
    assert seen > 50
    assert "# W h(t-1)" in words.phase_source(FORWARD, "norm", optim.SGD)[0].code


def test_a_marker_that_is_gone_fails_loudly():
    with pytest.raises(LookupError, match="renamed"):
        source.excerpt(model.forward, "for t in range(T):", "# a comment nobody wrote")
    with pytest.raises(LookupError):
        source.excerpt(model.forward, "no such line")
    one = source.excerpt(model.forward, "# W h(t-1)")
    assert one.first == one.last and one.code.startswith("hs[t].dot(WT")
    assert source.listing([one]).startswith("# rnn_core/model.py, forward(), lines ")
    assert inspect.getsourcefile(model.forward).endswith(one.path)


# --- the walk -------------------------------------------------------------------------------------


def test_next_and_back_enter_the_time_phases_where_they_start_or_end():
    T = 10
    assert entry_t(FORWARD, 5, T, forward=True) == 0 and entry_t(FORWARD, 5, T, forward=False) == T - 1
    assert entry_t(BACKWARD, 5, T, forward=True) == T - 1 and entry_t(BACKWARD, 5, T, forward=False) == 0
    assert entry_t(CLIP, 5, T, forward=True) == 5 and entry_t(CLIP, 50, T, forward=True) == T - 1
    walk = Walk(key=(1, 1))
    walk.go(FORWARD, T)
    assert (walk.phase, walk.t) == (FORWARD, 0)
    with pytest.raises(ValueError):
        walk.go(STEP, T)


def test_play_walks_every_time_step_and_asks_for_the_step_at_the_end():
    T = 4
    walk = Walk(key=(1, 1), playing=True)
    visited = [(walk.phase, walk.t)]
    while not walk.tick(T):
        visited.append((walk.phase, walk.t))
        assert len(visited) < 100
    assert walk.phase == UPDATE
    moves = list(dict.fromkeys(visited))  # the dwell beats repeat a position
    assert moves == [(CHUNK, 0), *((FORWARD, t) for t in range(T)), *((SOFTMAX, t) for t in range(T)),
                     *((BACKWARD, t) for t in reversed(range(T))), (CLIP, 0), (UPDATE, 0)]
    assert visited.count((CLIP, 0)) == DWELL_TICKS


def test_the_walk_starts_over_when_the_trainer_changes_but_not_after_its_own_step():
    walk = Walk()
    walk.follow((7, 1), 10)
    assert walk.key == (7, 1) and not walk.started_over
    walk.follow((7, 2), 10)  # at the chunk: nothing to say
    assert walk.key == (7, 2) and not walk.started_over
    walk.go(BACKWARD, 10)
    walk.follow((7, 2), 10)
    assert walk.phase == BACKWARD
    walk.follow((7, 3), 10)  # someone pressed Step: start over
    assert (walk.phase, walk.t, walk.key, walk.started_over) == (CHUNK, 0, (7, 3), True)
    walk.took(TakenStep(view=None, check=None, message=None))  # type: ignore[arg-type]
    walk.follow((7, 4), 10)  # the step it took: it stays to show it
    assert walk.phase == STEP and walk.taken is not None and walk.redraw
    walk.next_walk(SOFTMAX, 10)
    walk.follow((7, 4), 10)
    assert (walk.phase, walk.t, walk.key, walk.taken) == (SOFTMAX, 0, (7, 4), None)


def test_the_walk_keeps_one_view_per_step_and_stream(view):
    walk = Walk()
    key = (1, 2, None, "t", 3)
    assert walk.view(key, 0) is None
    walk.keep(key, 0, view)
    assert walk.view(key, 0) is view
    assert walk.view(key, 1) is None and walk.view((1, 3, None, "t", 3), 0) is None
