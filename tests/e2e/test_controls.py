"""Keyboard control and links, in a real browser against a real server: Space, → and N drive
training and do nothing while typing in a text field or a number box; each button's tooltip names
its key; a link built on one page opens the same setup in a new session, and stepping both as often
gives the same weights (the downloaded models, compared array by array); a bad link opens with
valid values and a note."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from bench.browser import TIMEOUT_MS, wait_for_app, wait_for_render, wait_for_status
from rnn_core.checkpoint import from_bytes
from tests.e2e.support import assert_no_exception, go_to, step_of
from ui.views.setup import corpus_label

SIDEBAR = '[data-testid="stSidebar"]'


def press_key(page: Page, key: str) -> None:
    """A key pressed with the focus on the page itself (no field), then the run it starts."""
    page.keyboard.press(key)
    wait_for_app(page)


def expect_step(page: Page, step: int) -> None:
    expect(page.locator(".st-key-status")).to_contain_text(f"step {step:,} ", timeout=TIMEOUT_MS)
    wait_for_app(page)


def unfocus(page: Page) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")


def nothing_happens(page: Page, step: int) -> None:
    """The status still says Paused at `step` after a while in which a fired key would have run."""
    time.sleep(1.5)
    wait_for_app(page)
    assert "Paused" in page.locator(".st-key-status").inner_text()
    assert step_of(page) == step


def pause_listens(page: Page) -> None:
    """Until Pause is drawn enabled (a disabled button's shortcut does not listen, and the status
    line says "Training" before the rest of the page's run has drawn) and the run is over."""
    expect(page.locator('.st-key-pause[data-stale="false"] button').first).to_be_enabled(timeout=TIMEOUT_MS)
    wait_for_app(page)


def tooltip(page: Page, key: str, attempts: int = 10) -> str:
    """The tooltip of the sidebar button `key`. Hovered again until it shows: while training, a
    refresh can redraw the button under the pointer, and the tooltip opens only on a new hover."""
    tip = page.get_by_test_id("stTooltipContent")
    for _ in range(attempts):
        page.locator(f'.st-key-{key}[data-stale="false"] button').first.hover()
        try:
            tip.first.wait_for(timeout=3_000)
            text = tip.first.inner_text()
        except PlaywrightError:  # not shown, or gone with the redraw: hover again
            text = ""
        page.mouse.move(900, 900)
        if text:
            return text
    raise AssertionError(f"no tooltip on {key} after {attempts} hovers")


def set_number(page: Page, key: str, value: str) -> None:
    box = page.locator(f".st-key-{key} input")
    box.fill(value)
    box.press("Enter")
    expect(box).to_have_value(value)
    wait_for_app(page)


def the_link(page: Page) -> str:
    panel = page.locator(SIDEBAR).get_by_text("Link to this setup")
    if not page.locator(".st-key-setup_link").is_visible():
        panel.click()
    return page.locator(".st-key-setup_link code").inner_text().strip()


def copy_link(page: Page, attempts: int = 10) -> None:
    """Click the link box's own copy button. It shows only while the pointer is over the code, and
    a rerun can redraw the box under the pointer: hover again until the click lands."""
    for _ in range(attempts):
        page.locator(".st-key-setup_link pre").first.hover()
        try:
            copy = page.locator('.st-key-setup_link button[aria-label="Copy to clipboard"]').first
            copy.click(timeout=3_000)
            return
        except PlaywrightError:
            page.mouse.move(900, 900)
    raise AssertionError(f"the link's copy button did not take a click after {attempts} hovers")


def path_of(link: str) -> str:
    """The link's page and query (new_page opens it on the test server)."""
    parts = urlsplit(link)
    return parts.path + ("?" + parts.query if parts.query else "")


def model_weights(page: Page) -> dict[str, np.ndarray]:
    """The session's model, downloaded from the sidebar's Save / load model."""
    if not page.locator(".st-key-model_download").is_visible():
        page.locator(SIDEBAR).get_by_text("Save / load model").click()
    with page.expect_download() as download:
        page.locator(".st-key-model_download button").first.click()
    return from_bytes(Path(download.value.path()).read_bytes()).params


def test_space_right_and_n_drive_training_but_not_while_typing(new_page: Callable[..., Page]):
    page = new_page("/", 1920, 1080)
    # Each button names its key, in its label and in its tooltip.
    for key, words in (("play", "key Space"), ("step", "key →"), ("reset", "key N")):
        button = page.locator(f'.st-key-{key}[data-stale="false"] button').first  # not a rerun's old copy
        expect(button.locator('[aria-label^="Shortcut"]')).to_have_count(1)
        assert words in tooltip(page, key)
    press_key(page, "Space")
    wait_for_status(page, "Training")
    # Pause's tooltip too, now it is enabled
    assert "key Space" in tooltip(page, "pause")
    page.mouse.move(900, 900)
    pause_listens(page)
    press_key(page, "Space")
    wait_for_status(page, "Paused")
    step = step_of(page)
    assert step > 0
    press_key(page, "ArrowRight")
    expect_step(page, step + 1)
    press_key(page, "n")
    expect_step(page, 0)

    # Typing in the learning-rate box: no key reaches the buttons.
    box = page.locator(".st-key-lr input")
    box.click()
    for key in ("Space", "ArrowRight", "n", "ArrowLeft"):
        box.press(key)
    nothing_happens(page, 0)
    unfocus(page)
    # Typing a seed text on the Sample page, spaces and arrows included.
    go_to(page, "Sample")
    seed = page.locator(".st-key-seed_text input")
    seed.click()
    page.keyboard.type("now and then ")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowLeft")
    expect(seed).to_have_value("now and then ")
    nothing_happens(page, 0)
    unfocus(page)
    press_key(page, "ArrowRight")  # out of the field, the key works again
    expect_step(page, 1)
    assert_no_exception(page)


def test_on_the_unrolled_page_the_arrows_walk_the_phases_not_the_trainer(new_page: Callable[..., Page]):
    page = new_page("/unrolled", 1920, 1080)
    wait_for_render(page, 2 * TIMEOUT_MS)  # the buttons' shortcuts listen once they are drawn
    expect(page.locator(".st-key-unrolled_next button").first).to_be_visible()
    phase = page.locator(".st-key-unrolled_text strong").first
    expect(phase).to_contain_text(re.compile(r"^0 · "))
    press_key(page, "ArrowRight")
    expect(phase).to_contain_text(re.compile(r"^1 · "), timeout=TIMEOUT_MS)
    nothing_happens(page, 0)  # → walked one phase; it took no training step
    page.locator(".st-key-step button").first.hover()
    expect(page.get_by_test_id("stTooltipContent")).to_contain_text("walks through the step")
    page.mouse.move(900, 900)
    press_key(page, "Space")  # Space is still Play
    wait_for_status(page, "Training")
    pause_listens(page)
    press_key(page, "Space")
    wait_for_status(page, "Paused")
    assert_no_exception(page)


def test_a_link_opens_the_same_setup_and_steps_to_the_same_weights(new_page: Callable[..., Page]):
    a = new_page("/data", 1600, 1000)
    wait_for_render(a)
    a.locator(".st-key-corpus_choice input").click()
    a.locator('[role="option"]').filter(has_text=corpus_label("zen")).click()
    a.locator(".st-key-confirm_corpus button").click()
    wait_for_app(a)
    expect(a.locator(SIDEBAR)).to_contain_text("Corpus: zen")
    assert parse_qs(urlsplit(a.url).query) == {"corpus_choice": [corpus_label("zen")]}  # bound
    go_to(a, "Train")
    set_number(a, "seed", "7")
    set_number(a, "hidden", "48")
    set_number(a, "batch", "3")
    # The address bar has what differs from the preset, as the widgets bound to it wrote it.
    query = parse_qs(urlsplit(a.url).query)
    assert {k: query[k] for k in ("seed", "hidden", "batch")} == {"seed": ["7"], "hidden": ["48"],
                                                                  "batch": ["3"]}
    unfocus(a)
    for waiting in ("seed: 0 → 7", "hidden units H: 128 → 48", "batch streams B: 32 → 3"):
        expect(a.locator(".st-key-pending_settings")).to_contain_text(waiting)  # the server has them
    press_key(a, "n")  # Reset: the new model takes these settings
    expect(a.locator(".st-key-pending_settings")).to_have_count(0)
    for n in range(1, 6):
        press_key(a, "ArrowRight")
        expect_step(a, n)
    link = the_link(a)
    assert link.startswith("http://127.0.0.1:")
    # Copied by the code box's own button (Streamlit's, no outside script).
    parts = urlsplit(a.url)
    a.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=f"{parts.scheme}://{parts.netloc}")
    copy_link(a)
    assert a.evaluate("navigator.clipboard.readText()") == link
    assert parse_qs(urlsplit(link).query) == {"corpus_choice": [corpus_label("zen")], "seed": ["7"],
                                              "hidden": ["48"], "batch": ["3"]}

    b = new_page(path_of(link), 1600, 1000)
    wait_for_render(b)
    expect(b.locator(SIDEBAR)).to_contain_text("Corpus: zen")
    for key, value in (("seed", "7"), ("hidden", "48"), ("batch", "3")):
        expect(b.locator(f".st-key-{key} input")).to_have_value(value, timeout=TIMEOUT_MS)
    expect_step(b, 0)
    for n in range(1, 6):
        press_key(b, "ArrowRight")
        expect_step(b, n)
    wa, wb = model_weights(a), model_weights(b)
    assert set(wa) == set(wb) == {"U", "W", "V", "b", "c"}
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
    assert wa["W"].shape == (48, 48)
    # A link from another page opens that page.
    go_to(a, "Sample")
    c = new_page(path_of(the_link(a)))
    expect(c.get_by_test_id("stMain").get_by_role("heading", name="Sample", exact=True)).to_be_visible()
    expect(c.locator(SIDEBAR)).to_contain_text("Corpus: zen")
    for page in (a, b, c):
        assert_no_exception(page)


def test_a_bad_link_opens_with_valid_values_and_a_note(new_page: Callable[..., Page]):
    page = new_page("/?lr=abc&hidden=99999&corpus_choice=/etc/passwd&seed=5&x=<b>y</b>")
    note = page.locator('[data-testid="stMain"] [data-testid="stAlertContentWarning"]')
    expect(note).to_contain_text("cannot be used", timeout=TIMEOUT_MS)
    for word in ("lr", "hidden", "text", "“x”"):
        expect(note).to_contain_text(word)
    expect(page.locator(SIDEBAR)).to_contain_text("Corpus: python-docs")
    expect(page.locator(".st-key-seed input")).to_have_value("5")
    expect(page.locator(".st-key-hidden input")).to_have_value("128")
    assert parse_qs(urlsplit(page.url).query) == {"seed": ["5"]}  # the address: what was used
    assert_no_exception(page)
