"""Presentation mode in a real browser at 1920×1080: large type (measured with getComputedStyle),
the sidebar's secondary controls gone, the Train page's loss chart, gradient-norm chart and current
sample on the screen without scrolling after ~20 s of training, and the Unrolled page fitting at
every phase with a 25-character chunk. The mode comes from the URL (?presentation=true) and goes
with the toggle, leaving no style behind. Saves presentation-train.png and presentation-unrolled.png
(mid backward pass)."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from bench.browser import TIMEOUT_MS, wait_for_app, wait_for_render
from tests.e2e.support import assert_no_exception, for_readme, screenshot
from tests.e2e.test_unrolled import T, expect_phase, scroll_height, train_briefly

W, H = 1920, 1080
MIN_BODY_PX = 22
# Running text in the main area: paragraphs of markdown and captions, not the labels of buttons,
# widgets, expanders and metrics (the Unrolled page's row of controls is the speaker's, at normal size).
BODY_FONTS = """() => [...document.querySelectorAll(
    '[data-testid="stMain"] [data-testid="stMarkdownContainer"] p')]
  .filter(p => !p.closest('button, label, summary, [data-testid="stSlider"], [data-testid="stMetricLabel"]'))
  .filter(p => p.getBoundingClientRect().height > 0)
  .map(p => [parseFloat(getComputedStyle(p).fontSize), p.innerText.slice(0, 40)])"""
BOXES = """(keys) => keys.map(k => { const r = document.querySelector('.st-key-' + k).getBoundingClientRect();
  return [k, Math.round(r.top), Math.round(r.bottom)]; })"""


def body_fonts(page: Page) -> list[tuple[float, str]]:
    return [tuple(f) for f in page.evaluate(BODY_FONTS)]


def toggle(page: Page, key: str):
    return page.locator(f".st-key-{key} input[type=checkbox]")


def test_the_train_page_fits_one_screen_in_large_type(new_page: Callable[..., Page],
                                                      record_property: Callable):
    page = new_page("/?presentation=true", W, H)
    wait_for_render(page, 2 * TIMEOUT_MS)
    expect(toggle(page, "presentation")).to_be_checked()
    sidebar = page.get_by_test_id("stSidebar")
    for hidden in (".st-key-refresh_s", ".st-key-server_status"):
        assert sidebar.locator(hidden).count() == 0, hidden
    assert sidebar.get_by_text("Save / load model").count() == 0
    for kept in ("play", "pause", "step", "reset", "status"):
        expect(sidebar.locator(f".st-key-{kept}")).to_be_visible()

    page.locator(".st-key-play button").first.click()
    expect(page.locator(".st-key-status")).to_contain_text("Training", timeout=TIMEOUT_MS)
    time.sleep(for_readme(8, 20))  # for_readme: what a talk shows first, a model some way into training
    page.locator(".st-key-pause button").first.click()
    expect(page.locator(".st-key-status")).to_contain_text("Paused", timeout=TIMEOUT_MS)
    wait_for_app(page)
    expect(page.locator(".st-key-periodic_sample [data-testid='stCode']")).to_be_visible(timeout=TIMEOUT_MS)
    expect(page.locator(".st-key-explain_loss")).to_contain_text("ln(")
    wait_for_render(page)
    page.mouse.move(0, 0)

    fonts = body_fonts(page)
    boxes = page.evaluate(BOXES, ["loss_chart", "grad_norm_chart", "periodic_sample"])
    scroll = scroll_height(page)
    record_property("body_font_px", sorted({f for f, _ in fonts}))
    record_property("boxes_top_bottom", boxes)
    record_property("main_scroll_height", scroll)
    screenshot(page, "presentation-train.png")
    assert fonts and not [f for f in fonts if f[0] < MIN_BODY_PX], fonts
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= MIN_BODY_PX
    assert page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollTop") == 0
    # Streamlit scrolls its main area, not the document: the three end within the screen with
    # the main area at the top (below them are Rewind and Settings, for the speaker).
    assert all(top >= 0 and bottom <= H for _, top, bottom in boxes), boxes
    assert_no_exception(page)


LEGEND = """(key) => {
  const chart = document.querySelector('.st-key-' + key).getBoundingClientRect();
  const labels = [...document.querySelectorAll('.st-key-' + key + ' svg .role-legend-label text')];
  return {right: chart.right, labels: labels.map(t => { const r = t.getBoundingClientRect();
    return [t.textContent, Math.round(r.top), r.right]; })};
}"""


@pytest.mark.parametrize(("width", "height", "cell", "rows"), [
    (1920, 1080, "rnn", 1), (1366, 768, "rnn", 2), (1366, 768, "lstm", None)])
def test_the_live_charts_legends_fit_their_charts(new_page: Callable[..., Page], width: int, height: int,
                                                   cell: str, rows: int | None):
    """Vega does not wrap a legend: one too wide for its chart is cut off at the chart's edge. In
    presentation mode the legends take as many columns as fit (ui/figures/train.py): one row on half
    a 1920-pixel screen, two on half a 1366-pixel one, more for the LSTM's 14 weights."""
    page = new_page(f"/?presentation=true&cell={cell}", width, height)
    page.locator(".st-key-step button").first.click()
    expect(page.locator(".st-key-status")).to_contain_text("step 1", timeout=TIMEOUT_MS)
    wait_for_render(page)
    for key in ("loss_chart", "grad_norm_chart"):
        legend = page.evaluate(LEGEND, key)
        labels = legend["labels"]
        assert len(labels) >= 4, (key, labels)
        assert all(text and not text.endswith("…") for text, _, _ in labels), (key, labels)  # not cut short
        assert all(right <= legend["right"] for _, _, right in labels), (key, legend)  # within the chart
        if rows is not None:
            tops = sorted(top for _, top, _ in labels)  # a row's labels' tops differ by a pixel or so
            assert 1 + sum(b - a > 8 for a, b in itertools.pairwise(tops)) == rows, (key, labels)
    screenshot(page, f"presentation-legends-{width}-{cell}.png")
    assert_no_exception(page)


def test_the_unrolled_page_fits_at_every_phase_in_large_type(new_page: Callable[..., Page],
                                                             record_property: Callable):
    page = new_page("/unrolled?presentation=true", W, H)
    wait_for_render(page, 2 * TIMEOUT_MS)
    train_briefly(page, 3.0)
    expect_phase(page, 0)
    heights = {}
    for phase in range(7):
        if phase:
            page.keyboard.press("ArrowRight")
            expect_phase(page, phase)
        wait_for_render(page)
        heights[phase] = scroll_height(page)
        if phase == 3:  # mid backward pass: t = 12, the gradient has flowed back half the chunk
            slider = page.locator(".st-key-unrolled_t input[type=range]")
            slider.focus()
            for _ in range(T - 1 - 12):
                page.keyboard.press("ArrowLeft")
            expect(slider).to_have_attribute("aria-valuetext", re.compile(r"^t = 12 "), timeout=TIMEOUT_MS)
            wait_for_app(page)
            wait_for_render(page)
            page.mouse.move(0, 0)
            heights["3, t=12"] = scroll_height(page)
            fonts = body_fonts(page)
            record_property("body_font_px", sorted({f for f, _ in fonts}))
            screenshot(page, "presentation-unrolled.png")
            assert fonts and not [f for f in fonts if f[0] < MIN_BODY_PX], fonts
            page.evaluate("document.activeElement.blur()")  # the keys go to the page again
    record_property("scroll_height_1920x1080", heights)  # (scrollHeight, clientHeight) by phase
    assert all(scroll <= client for scroll, client in heights.values()), heights
    assert_no_exception(page)


def test_the_toggle_turns_the_mode_on_and_off_and_the_url_follows(new_page: Callable[..., Page]):
    page = new_page("/", W, H)
    body = "parseFloat(getComputedStyle(document.body).fontSize)"
    normal = page.evaluate(body)
    assert normal < MIN_BODY_PX
    expect(page.locator(".st-key-refresh_s")).to_be_visible()
    page.locator(".st-key-presentation label").click()
    expect(toggle(page, "presentation")).to_be_checked()
    expect(page.locator(".st-key-refresh_s")).to_have_count(0, timeout=TIMEOUT_MS)
    wait_for_app(page)
    assert page.evaluate(body) >= MIN_BODY_PX
    assert re.search(r"[?&]presentation=true\b", page.url), page.url
    page.locator(".st-key-presentation label").click()
    expect(page.locator(".st-key-refresh_s")).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_app(page)
    assert page.evaluate(body) == normal  # no style left behind
    assert "presentation" not in page.url
    assert_no_exception(page)
