"""History: a bounded table of metrics that thins itself evenly."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_core.history import History


def filled(n: int, cap: int) -> History:
    h = History(("step", "loss"), cap)
    for i in range(n):
        h.append({"step": i, "loss": 1.0 / (i + 1)})
    return h


def test_keeps_every_row_until_full():
    h = filled(10, cap=8)
    assert len(h) == 10 and h.stride == 1
    assert list(h.column("step")) == list(range(10))
    np.testing.assert_array_equal(h.column("loss"), 1.0 / (np.arange(10) + 1))


@pytest.mark.parametrize("n", [16, 17, 100, 1000, 12_345])
def test_bounded_and_evenly_spaced_however_many_appends(n):
    cap = 8
    h = filled(n, cap)
    steps = h.column("step")
    assert cap <= len(h) <= 2 * cap
    assert steps[0] == 0
    assert len(set(np.diff(steps))) == 1 and np.diff(steps)[0] == h.stride
    assert n - 1 - steps[-1] < h.stride  # the newest kept row is within one stride of the newest
    np.testing.assert_array_equal(h.column("loss"), 1.0 / (steps + 1))  # rows stay whole


def test_memory_does_not_grow():
    h = History(("a", "b", "c"), cap=50)
    size = h.nbytes
    for i in range(5000):
        h.append({"a": i, "b": i, "c": i})
    assert h.nbytes == size == 100 * 3 * 8


def test_missing_values_are_nan_and_columns_are_copies():
    h = History(("step", "val_bpc"), cap=4)
    h.append({"step": 1})
    h.append({"step": 2, "val_bpc": 1.5, "ignored": 3.0})
    d = h.as_dict()
    assert set(d) == {"step", "val_bpc"}
    assert np.isnan(d["val_bpc"][0]) and d["val_bpc"][1] == 1.5
    d["step"][:] = 99
    assert list(h.column("step")) == [1, 2]


@pytest.mark.parametrize("n", [1, 5, 16, 17, 18, 33, 100])
@pytest.mark.parametrize("back", [0, 1, 3, 16])
def test_truncate_is_as_if_the_later_appends_never_happened(n, back):
    back = min(back, n)
    h = filled(n, cap=8)
    h.truncate(n - back)
    ref = filled(n - back, cap=8)
    assert h.appends == ref.appends == n - back
    # rows thinned away are not brought back: the kept rows are the reference's of the same stride
    kept = ref.column("step")
    kept = kept[kept % h.stride == 0] if h.stride > ref.stride else kept
    np.testing.assert_array_equal(h.column("step"), kept)
    # and the thinning stays aligned afterwards
    for i in range(n - back, n + 40):
        h.append({"step": i, "loss": 1.0 / (i + 1)})
    np.testing.assert_array_equal(h.column("step"), filled(n + 40, cap=8).column("step"))


def test_truncate_refuses_to_go_forward():
    h = filled(5, cap=8)
    with pytest.raises(ValueError):
        h.truncate(6)
    h.truncate(0)
    assert len(h) == 0 and h.appends == 0


@pytest.mark.parametrize("cap", [0, -3])
def test_cap_must_be_positive(cap):
    with pytest.raises(ValueError, match="cap"):
        History(("step",), cap)


def test_values_in_column_order_are_rows_by_name():
    by_name, in_order = filled(37, cap=8), History(("step", "loss"), 8)
    for i in range(37):
        in_order.append_values([i, 1.0 / (i + 1)])
    assert by_name.as_dict().keys() == in_order.as_dict().keys()
    for name in ("step", "loss"):
        np.testing.assert_array_equal(by_name.column(name), in_order.column(name))
