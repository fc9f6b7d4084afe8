"""The Unrolled page's figure (ui/figures/unrolled.py): built from a frame alone, with the frame's
cells, characters, bars and arrows where the page says they are."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.config import TrainConfig
from rnn_core.corpus import corpus_from_text
from rnn_core.trainer import Trainer
from ui.figures.unrolled import ACTIVE, BACK, FAINT, HIGHLIGHT, MAX_ARROW_STEPS, unrolled_figure
from ui.views.unrolled import (
    BACKWARD,
    CHUNK,
    FORWARD,
    PHASES,
    SOFTMAX,
    UPDATE,
    frame_view,
    read_preview,
    unrolled_view,
)

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met on a mat by a log. " * 4


def view_of(seq_len: int = 10, hidden: int = 20):
    trainer = Trainer(corpus_from_text(TEXT, name="t", seq_len=seq_len),
                      TrainConfig(hidden=hidden, seq_len=seq_len, val_fraction=0.0, seed=1, batch=2))
    trainer.run(3)
    return unrolled_view(read_preview(trainer), 1)


@pytest.fixture(scope="module")
def view():
    return view_of()


def arrows(fig) -> list[tuple[str, float, tuple[float, float], tuple[float, float]]]:
    """(colour, width, tail, head) of every arrow: the line traces' segments, head at the marker."""
    found = []
    for tr in fig.data:
        if tr.type == "scatter" and tr.mode == "lines+markers":
            assert tr.marker.symbol == "arrow" and tr.marker.angleref == "previous"
            for i in range(0, len(tr.x), 3):
                assert tr.x[i + 2] is None and tr.marker.size[i] == 0 < tr.marker.size[i + 1]
                found.append((tr.line.color, tr.line.width, (tr.x[i], tr.y[i]), (tr.x[i + 1], tr.y[i + 1])))
    return found


def fig_bars_title(fig) -> str | None:
    return next((a.text for a in fig.layout.annotations if a.yref == "y domain"), None)


def heatmaps(fig) -> list:
    return [tr for tr in fig.data if tr.type == "heatmap"]


def test_the_hidden_cells_are_data0_in_narrow_columns_with_gaps(view):
    frame = frame_view(view, FORWARD, 4)
    fig = unrolled_figure(frame)
    cells = fig.data[0]
    n, cols = frame.cells.shape
    z = np.asarray(cells.z, dtype=float)
    assert cells.type == "heatmap" and z.shape == (n, 2 * cols - 1)
    np.testing.assert_array_equal(z[:, ::2], frame.cells[::-1])  # the most active unit on top
    assert np.isnan(z[:, 1::2]).all()                              # the gaps between time steps
    assert len(cells.x) == 2 * cols and cells.x[0] == pytest.approx(-1.32)  # edges, from h(-1)
    assert (cells.zmin, cells.zmax) == (-1.0, 1.0)


def test_the_rows_are_labelled_as_in_the_article(view):
    fig = unrolled_figure(frame_view(view, SOFTMAX, 0))
    labels = list(fig.layout.yaxis2.ticktext)
    assert labels == ["x(t)", "h(t)", "ŷ(t) top 3", "next"]
    assert list(fig.layout.xaxis2.tickvals) == list(range(-1, view.T))
    texts = {tuple(tr.text[0]) for tr in heatmaps(fig) if tr.text is not None and len(tr.text) == 1}
    assert tuple(view.inputs) in texts and tuple(view.targets) in texts
    top = next(tr for tr in heatmaps(fig) if tr.text is not None and len(tr.text) == 3)
    assert [row[0] for row in top.text] == view.top_chars[0][::-1]  # rank 3 at the bottom
    outlined = next(tr for tr in fig.data if tr.type == "scatter" and tr.mode == "markers")
    assert len(outlined.x) == int(view.top_is_target.sum())
    assert "∂L/∂h(t)" in list(unrolled_figure(frame_view(view, BACKWARD, 3)).layout.yaxis2.ticktext)


def test_the_candidates_appear_with_the_softmax(view):
    before = unrolled_figure(frame_view(view, FORWARD, 9))
    assert not any(tr.type == "scatter" and tr.mode == "markers" for tr in before.data)
    assert len(heatmaps(before)) == 3  # hidden, inputs, next characters (not yet coloured)
    assert len(heatmaps(unrolled_figure(frame_view(view, SOFTMAX, 0)))) == 4


def test_the_bars_are_the_frames_quantity_per_time_step(view):
    frame = frame_view(view, BACKWARD, 5)
    fig = unrolled_figure(frame)
    bar = next(tr for tr in fig.data if tr.type == "bar")
    np.testing.assert_array_equal(np.asarray(bar.y, dtype=float), frame.bars)
    assert bar.marker.color == BACK
    chunk = unrolled_figure(frame_view(view, CHUNK, 0))  # nothing computed per time step yet
    assert chunk.layout.yaxis.visible is False and fig_bars_title(chunk) is None
    assert fig_bars_title(unrolled_figure(frame)).startswith("‖∂L/∂h(t)‖")


def test_arrows_join_every_time_step_and_point_back_in_the_backward_pass(view):
    T = view.T
    fwd = arrows(unrolled_figure(frame_view(view, FORWARD, 2)))
    assert len(fwd) == 3 * T
    dark = [a for a in fwd if a[0] == ACTIVE]
    assert len(dark) == 2 * 3  # U and W into t = 0, 1, 2
    assert all(tail[1] < head[1] or tail[0] < head[0] for _, _, tail, head in fwd)  # up or to the right
    back = arrows(unrolled_figure(frame_view(view, BACKWARD, 0)))
    purple = [a for a in back if a[0] == BACK]
    assert len(purple) == 2 * T - 1  # every V, every W but the one into h(-1)
    assert all(tail[1] > head[1] or tail[0] > head[0] for _, _, tail, head in purple)  # down or left
    assert len({width for _, width, _, _ in purple}) > 2  # as wide as what they carry
    assert max(width for _, width, _, _ in purple) == 6.0
    assert sum(a[0] == FAINT for a in back) == T + 1  # U, and W into h(-1)


def test_long_chunks_draw_no_arrows_and_stay_labelled():
    view = view_of(seq_len=MAX_ARROW_STEPS + 5, hidden=6)
    fig = unrolled_figure(frame_view(view, UPDATE, 3))
    assert arrows(fig) == []
    assert len(fig.layout.xaxis2.tickvals) <= 51


def test_the_chosen_time_step_is_outlined_and_the_figure_is_pure(view):
    frame = frame_view(view, BACKWARD, 7)
    cells = frame.cells.copy()
    fig = unrolled_figure(frame)
    box = next(s for s in fig.layout.shapes if s.line.color == HIGHLIGHT)
    assert (box.x0, box.x1) == (6.5, 7.5)
    assert unrolled_figure(frame).to_json() == fig.to_json()
    np.testing.assert_array_equal(frame.cells, cells)


@pytest.mark.parametrize("phase", range(len(PHASES)))
def test_every_phase_draws(view, phase):
    fig = unrolled_figure(frame_view(view, phase, 3))
    assert fig.layout.height == 560 and fig.data[0].type == "heatmap"
