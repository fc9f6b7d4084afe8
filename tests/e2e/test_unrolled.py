"""The Unrolled page in a real browser: ← and → walk the phases (and do nothing while typing in a
field), the page fits a 1920×1080 screen at every phase with the default 25-character chunk, the
walk ends with the very step it showed, and play advances by itself. Saves unrolled.png (mid
backward pass, 1920×1080) and unrolled-1366.png."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from bench.browser import TIMEOUT_MS, wait_for_app, wait_for_render
from rnn_core.config import DEFAULT_PRESET, PRESETS
from tests.e2e.support import assert_no_exception, go_to, screenshot, step_of

T = PRESETS[DEFAULT_PRESET].seq_len  # 25: the chunk the page is laid out for
PHASE_TEXT = ".st-key-unrolled_text strong"


# The walk's controls whose text is cut short (an ellipsis: scrollWidth beyond clientWidth) or that
# end past the main area's right edge.
CUT_CONTROLS = """() => {
  const main = document.querySelector('[data-testid="stMain"] .block-container').getBoundingClientRect();
  const keys = ['unrolled_prev', 'unrolled_next', 'unrolled_play', 'unrolled_phase', 'unrolled_stream'];
  const picks = keys.map(k => `.st-key-${k} button, .st-key-${k} [data-baseweb="select"] > div`);
  return [...document.querySelectorAll(picks.join(', '))]
    .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > main.right + 1)
    .map(el => el.innerText);
}"""


def open_page(new_page: Callable[..., Page], width: int, height: int) -> Page:
    """A new session on the Unrolled page, drawn: the buttons' shortcuts listen once they are."""
    page = new_page("/unrolled", width, height)
    wait_for_render(page, 2 * TIMEOUT_MS)  # the first drawing loads the charts' code
    expect(page.locator(".st-key-unrolled_next button").first).to_be_visible()
    return page


def phase_of(page: Page) -> int:
    m = re.match(r"(\d) · ", page.locator(PHASE_TEXT).first.inner_text())
    assert m, page.locator(PHASE_TEXT).first.inner_text()
    return int(m.group(1))


def expect_phase(page: Page, phase: int) -> None:
    expect(page.locator(PHASE_TEXT).first).to_contain_text(re.compile(rf"^{phase} · "), timeout=TIMEOUT_MS)
    wait_for_app(page)


def t_of(page: Page) -> int:
    text = page.locator(".st-key-unrolled_t input[type=range]").get_attribute("aria-valuetext") or ""
    m = re.match(r"t = (\d+)", text)
    assert m, text
    return int(m.group(1))


def scroll_height(page: Page) -> tuple[int, int]:
    """(scrollHeight, clientHeight) of the main area: more than its height means it scrolls."""
    return tuple(page.evaluate("() => { const m = document.querySelector('[data-testid=\"stMain\"]');"
                               " return [m.scrollHeight, m.clientHeight]; }"))


def train_briefly(page: Page, seconds: float) -> None:
    """Play for about `seconds` (a few dozen steps, so the picture is not a fresh model's), then
    Pause; the sidebar's buttons."""
    page.locator(".st-key-play button").first.click()
    expect(page.locator(".st-key-status")).to_contain_text("Training", timeout=TIMEOUT_MS)
    time.sleep(seconds)
    page.locator(".st-key-pause button").first.click()
    expect(page.locator(".st-key-status")).to_contain_text("Paused", timeout=TIMEOUT_MS)
    wait_for_app(page)


def test_arrow_keys_walk_the_phases_but_not_while_typing(new_page: Callable[..., Page]):
    page = new_page("/", 1920, 1080)
    go_to(page, "Unrolled")
    wait_for_render(page, 2 * TIMEOUT_MS)
    expect_phase(page, 0)
    page.keyboard.press("ArrowRight")
    expect_phase(page, 1)
    page.keyboard.press("ArrowRight")
    expect_phase(page, 2)
    page.keyboard.press("ArrowLeft")
    expect_phase(page, 1)
    assert t_of(page) == T - 1  # back into the forward pass: as it ended
    # Typing in a field: the stream picker's search box, then the time-step slider.
    field = page.locator(".st-key-unrolled_stream input")
    field.click()
    page.keyboard.type("3")
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):
        page.keyboard.press(key)
    page.keyboard.press("Escape")
    page.locator(".st-key-unrolled_t input[type=range]").focus()
    page.keyboard.press("ArrowLeft")
    expect(page.locator(".st-key-unrolled_t input[type=range]")).to_have_attribute(
        "aria-valuetext", re.compile(rf"^t = {T - 2} "), timeout=TIMEOUT_MS)
    wait_for_app(page)
    time.sleep(1.0)  # a shortcut that fired would have started a run by now
    wait_for_app(page)
    assert phase_of(page) == 1 and t_of(page) == T - 2
    # Each button says its key in its tooltip.
    for key, words in (("unrolled_prev", "key ←"), ("unrolled_next", "key →"), ("unrolled_play", "key P")):
        page.locator(f".st-key-{key} button").first.hover()
        expect(page.get_by_test_id("stTooltipContent")).to_contain_text(words, timeout=TIMEOUT_MS)
        page.mouse.move(0, 0)
    assert_no_exception(page)


def test_the_page_fits_1920x1080_and_the_walk_ends_with_the_step_it_showed(new_page: Callable[..., Page],
                                                                           record_property: Callable):
    page = open_page(new_page, 1920, 1080)
    train_briefly(page, 3.0)
    step = step_of(page)
    expect_phase(page, 0)
    heights = {}
    for phase in range(7):
        if phase:
            page.keyboard.press("ArrowRight")
            expect_phase(page, phase)
        wait_for_render(page)
        heights[phase] = scroll_height(page)
        if phase == 3:  # mid-backward: t = 12, the gradient flowed back half the chunk
            slider = page.locator(".st-key-unrolled_t input[type=range]")
            slider.focus()
            for _ in range(T - 1 - 12):
                page.keyboard.press("ArrowLeft")
            expect(slider).to_have_attribute("aria-valuetext", re.compile(r"^t = 12 "), timeout=TIMEOUT_MS)
            wait_for_app(page)
            wait_for_render(page)
            page.mouse.move(0, 0)
            heights["3, t=12"] = scroll_height(page)
            screenshot(page, "unrolled.png")
            page.evaluate("document.activeElement.blur()")  # the keys go to the page again
    record_property("scroll_height_1920x1080", heights)  # (scrollHeight, clientHeight) by phase
    assert all(scroll <= client for scroll, client in heights.values()), heights
    expect(page.locator(".st-key-status")).to_contain_text(f"step {step + 1:,} ", timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Step {step + 1:,} taken")
    assert_no_exception(page)


def test_play_advances_by_itself_and_stops(new_page: Callable[..., Page]):
    page = open_page(new_page, 1920, 1080)
    expect_phase(page, 0)
    page.keyboard.press("p")
    expect(page.locator(".st-key-unrolled_stop")).to_contain_text("Stop", timeout=TIMEOUT_MS)
    expect_phase(page, 1)  # after the chunk's dwell, the forward pass
    expect(page.locator(".st-key-unrolled_t input[type=range]")).to_have_attribute(
        "aria-valuetext", re.compile(r"^t = [3-9] "), timeout=TIMEOUT_MS)  # t advances on its own
    page.keyboard.press("p")
    expect(page.locator(".st-key-unrolled_play")).to_contain_text("Play the iteration", timeout=TIMEOUT_MS)
    wait_for_app(page)
    time.sleep(1.5)  # a beat already under way when P was pressed may still arrive
    wait_for_app(page)
    where = (phase_of(page), t_of(page))
    time.sleep(2)
    assert (phase_of(page), t_of(page)) == where  # stopped
    assert_no_exception(page)


def test_the_page_at_1366x768(new_page: Callable[..., Page], record_property: Callable):
    page = open_page(new_page, 1366, 768)
    for phase in range(1, 4):
        page.keyboard.press("ArrowRight")
        expect_phase(page, phase)
    wait_for_render(page)
    scroll, client = scroll_height(page)
    record_property("scroll_height_1366x768", (scroll, client))  # it scrolls there: see the README
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")  # not sideways
    # Every control whole and on the screen: in fixed columns "Play the iteration" read "Pla…", the
    # stream box "str" and phases 4-6 ran off the row's edge.
    cut = page.evaluate(CUT_CONTROLS)
    assert cut == [], cut
    screenshot(page, "unrolled-1366.png")
    assert_no_exception(page)
