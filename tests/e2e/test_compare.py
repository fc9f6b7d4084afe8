"""The Compare page in a real browser: pick what the runs differ in ("cell"), Play in the sidebar
for about 20 s, and see the three runs side by side: a curve each on every chart, a sample each,
the sidebar counting the characters they have all read; Pause stops them all; no exception.
Saves compare.png (1920×1080) and compare-1366.png (1366×768)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from bench.browser import TIMEOUT_MS, wait_for_app, wait_for_render
from rnn_core.config import DEFAULT_PRESET, PRESETS
from tests.e2e.support import assert_no_exception, for_readme, screenshot
from tests.load.browser_sessions import press
from ui.session.compare import VAL_EVERY

RUNS = ("RNN", "LSTM", "GRU")
PLAY_S = 20
CHARTS = ("compare_val_chars", "compare_val_time", "compare_reach", "compare_grads")
STEP_CHARS = PRESETS[DEFAULT_PRESET].batch * PRESETS[DEFAULT_PRESET].seq_len


def chars_each(page: Page) -> int:
    """From the sidebar's status on the Compare page: '… · 1.23 M of 2.00 M characters each'."""
    text = page.locator(".st-key-status").inner_text()
    m = re.search(r"([\d.,]+)( M)? of ", text)
    assert m, text
    n = float(m.group(1).replace(",", ""))
    return int(n * 1e6) if m.group(2) else int(n)


def lines(page: Page, chart: str) -> int:
    """Line marks drawn in a Vega-Lite chart's SVG (one path per line)."""
    return page.locator(f".st-key-{chart} .mark-line path").count()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1366, 768)])
def test_three_cells_train_side_by_side(new_page: Callable[..., Page], width: int, height: int):
    page = new_page("/compare", width, height)
    wait_for_render(page, 2 * TIMEOUT_MS)
    # What the runs differ in: another choice first, so that picking "cell" is a real change.
    page.locator(".st-key-compare_vary button", has_text="optimizer").click()
    expect(page.locator(".st-key-compare_run_0")).to_contain_text("Adagrad", timeout=TIMEOUT_MS)
    page.locator(".st-key-compare_vary button", has_text="cell").click()
    expect(page.locator(".st-key-compare_run_0")).to_contain_text("RNN", timeout=TIMEOUT_MS)
    wait_for_app(page)
    for i, run in enumerate(RUNS):
        expect(page.locator(f".st-key-compare_run_{i} strong").first).to_have_text(run)

    # Tagged before Play, a chart keeps its tag only if training updates it in place (an element
    # coming or going above the charts, as the hint "Press Play" once did, remounts them).
    for chart in CHARTS:
        page.locator(f".st-key-{chart} svg.marks").evaluate("el => { el.dataset.probe = 'kept' }")
    press(page, "play")
    expect(page.locator(".st-key-status")).to_contain_text("Comparing", timeout=TIMEOUT_MS)
    time.sleep(for_readme(PLAY_S / 4, PLAY_S))  # then on until validated (below)
    # ... and on until every run has been validated after its start (a slow, loaded machine may
    # need longer than PLAY_S for VAL_EVERY steps of each run), so each has a curve to draw.
    deadline = time.monotonic() + 180
    while chars_each(page) < VAL_EVERY * STEP_CHARS:
        assert time.monotonic() < deadline, page.locator(".st-key-status").inner_text()
        time.sleep(1)
    press(page, "pause")
    expect(page.locator(".st-key-status")).to_contain_text("Paused", timeout=TIMEOUT_MS)
    wait_for_app(page)
    wait_for_render(page)
    seen = chars_each(page)
    assert seen > 0
    time.sleep(1.5)
    assert chars_each(page) == seen  # Pause stopped every run

    for chart in CHARTS:
        tag = page.locator(f".st-key-{chart} svg.marks").evaluate("el => el.dataset.probe")
        assert tag == "kept", f"{chart} was remounted"
    # A curve per run on each chart (the gradient norms: before and after clipping each).
    for chart, per_run in (("compare_val_chars", 1), ("compare_val_time", 1), ("compare_reach", 1),
                           ("compare_grads", 2)):
        expect(page.locator(f".st-key-{chart} .mark-line path")).to_have_count(3 * per_run,
                                                                              timeout=TIMEOUT_MS)
    legend = page.locator(".st-key-compare_val_chars").inner_text()
    assert all(run in legend for run in RUNS), legend
    for i in range(3):  # a sample each, and each run's model to download
        assert len(page.locator(f".st-key-compare_sample_{i} code").inner_text().strip()) > 50
        expect(page.locator(f".st-key-compare_run_{i}")).to_contain_text("bits/char")
        expect(page.locator(f".st-key-compare_download_{i} button").first).to_be_visible()
    assert_no_exception(page)
    page.locator(".st-key-compare_reach").scroll_into_view_if_needed()
    page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
    if width == 1920:  # (literal names: tests/test_screenshots.py finds the README's here)
        screenshot(page, "compare.png")
    else:
        screenshot(page, "compare-1366.png")
