"""The app in a real browser (Debian's Chromium) against a real `streamlit run app.py`.

Serial on purpose: the server, the workers and the browser share 2 cores. Timings measured here
(click latency) are printed with -s and asserted loosely; the figures in the report come from
tests/e2e/measure.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page, expect

from bench.browser import TIMEOUT_MS, running_server, status_text, wait_for_app, wait_for_render
from tests.e2e.support import (
    assert_no_exception,
    for_readme,
    go_to,
    nav_labels,
    screenshot,
    step_of,
    wait_for_step,
)
from tests.load.browser_sessions import server_load

PAGE_LIST = ["Data", "Train", "Inspect", "Unrolled", "Sample", "Compare"]
ALPHA = "abc abcd abd bad cab dab. " * 40  # tiny vocabulary: a, b, c, d, space, full stop


def click_and_time(page: Page, button: str, status_word: str) -> float:
    """Seconds from a sidebar button click to the status line saying `status_word`."""
    t0 = time.perf_counter()
    page.locator(f".st-key-{button.lower()} button").first.click()  # its name also has its key
    expect(page.locator(".st-key-status")).to_contain_text(status_word, timeout=10_000)
    return time.perf_counter() - t0


def upload(page: Page, name: str, raw: bytes) -> None:
    """Drop a file on the corpus uploader (as a payload: any name, no file on disk needed)."""
    page.locator(".st-key-corpus_upload input[type=file]").set_input_files(
        {"name": name, "mimeType": "text/plain", "buffer": raw})


def sidebar_corpus(page: Page) -> str:
    return page.locator('[data-testid="stSidebar"]').get_by_text("Corpus:").inner_text()


@pytest.mark.parametrize("path", ["/", "/data"])
def test_first_load_after_server_start_shows_the_page_list(browser: Browser, path: str):
    """Streamlit's legacy pages/-folder mode is on in a fresh server until st.navigation runs:
    the first visitor must still get the frame and our page list, even on a deep link."""
    with running_server() as url:
        ctx = browser.new_context()
        try:
            page = ctx.new_page()
            page.goto(url + path)
            wait_for_app(page)
            assert nav_labels(page) == PAGE_LIST
            title = "Train" if path == "/" else "Data"
            expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
            assert "Paused" in status_text(page)
            assert_no_exception(page)
        finally:
            ctx.close()


def test_play_advances_the_step_and_the_loss_chart_in_place(new_page: Callable[..., Page],
                                                            record_property: Callable):
    page = new_page(height=1900)
    assert nav_labels(page) == PAGE_LIST
    # Vega draws an SVG; during a rerun Streamlit may briefly keep stale elements around, so pick
    # the loss chart by its legend. Tagged before Play, the tag survives only in-place updates from
    # the first step on (an element appearing above the chart, as the line "Compute alone" once
    # did a second into training, makes Streamlit remount it).
    chart = page.locator(".st-key-loss_chart svg.marks").filter(has_text="uniform guess").first
    chart.wait_for()
    chart.evaluate("el => { el.dataset.probe = 'kept' }")
    first = chart.inner_html()
    latency_play = click_and_time(page, "Play", "Training")
    step = wait_for_step(page, 50)
    time.sleep(2.5)  # two refreshes at the default 1 s
    assert chart.evaluate("el => el.dataset.probe") == "kept", "the loss chart was remounted"
    assert chart.inner_html() != first, "the loss chart did not change"
    assert step_of(page) > step
    expect(page.locator(".st-key-periodic_sample code")).not_to_be_empty(timeout=10_000)
    wait_for_step(page, int(for_readme(100, 1500)), timeout=60)  # for_readme: a telling screenshot
    wait_for_render(page)
    screenshot(page, "train.png")
    latency_pause = click_and_time(page, "Pause", "Paused")
    frozen = step_of(page)
    time.sleep(1.5)
    assert step_of(page) == frozen
    record_property("click_latency_s", {"play": round(latency_play, 2), "pause": round(latency_pause, 2)})
    # Loose: a shared 2-core box. The target (0.5 s) is measured by tests/e2e/measure.py.
    assert latency_play < 3 and latency_pause < 3, (latency_play, latency_pause)
    assert_no_exception(page)


def test_training_continues_while_switching_pages(new_page: Callable[..., Page]):
    page = new_page()
    click_and_time(page, "Play", "Training")
    step = wait_for_step(page, 1)
    for title in ("Data", "Sample", "Train"):
        go_to(page, title)
        assert "Training" in status_text(page)
        step = wait_for_step(page, step + 1)  # the status keeps advancing on every page
    click_and_time(page, "Pause", "Paused")


def test_rejected_upload_shows_the_message_and_keeps_everything(new_page: Callable[..., Page]):
    page = new_page("/data", height=1600)
    page.locator(".st-key-step button").first.click()
    expect(page.locator(".st-key-status")).to_contain_text("step 1")
    upload(page, "<b>photo</b>.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(300))
    alert = page.locator('[data-testid="stAlertContentError"]')
    expect(alert).to_contain_text("NUL bytes")
    assert "python-docs" in sidebar_corpus(page) and "step 1" in status_text(page)
    assert page.locator(".st-key-pending_corpus").count() == 0
    assert page.locator("b", has_text="photo").count() == 0  # the name is never rendered as HTML
    assert_no_exception(page)


def test_two_sessions_stay_apart_and_a_closed_one_stops(new_page: Callable[..., Page]):
    a = new_page("/data")
    a.locator(".st-key-step button").first.click()
    expect(a.locator(".st-key-status")).to_contain_text("step 1")
    upload(a, "alpha soup.txt", ALPHA.encode())  # a real upload through the file input
    expect(a.locator(".st-key-pending_corpus")).to_contain_text("alpha soup.txt")
    assert "python-docs" in sidebar_corpus(a) and "step 1" in status_text(a)  # not before confirming
    a.get_by_role("button", name="Use this text").click()
    expect(a.locator('[data-testid="stSidebar"]')).to_contain_text("alpha soup.txt")
    expect(a.locator(".st-key-status")).to_contain_text("step 0")
    expect(a.get_by_test_id("stMainBlockContainer").get_by_text("6 symbols")).to_be_visible()
    b = new_page("/data", height=1600)
    assert "python-docs" in sidebar_corpus(b)
    # The character frequencies. A new context loads plotly.js afresh: on the shared 2 cores that
    # took over expect's default 5 s (at the base commit too), so wait as long as for a page.
    expect(b.locator(".js-plotly-plot").first).to_be_visible(timeout=TIMEOUT_MS)
    wait_for_render(b)
    screenshot(b, "data.png")
    click_and_time(a, "Play", "Training")
    click_and_time(b, "Play", "Training")
    wait_for_step(a, 20)
    wait_for_step(b, 20)
    go_to(a, "Train")
    sample = a.locator(".st-key-periodic_sample code")
    expect(sample).not_to_be_empty(timeout=10_000)
    assert set(sample.inner_text()) <= set(ALPHA) | {"\n"}  # a's samples use only a's characters
    assert "python-docs" in sidebar_corpus(b) and "alpha soup.txt" in sidebar_corpus(a)
    expect(b.locator(".st-key-server_status")).to_contain_text("worker threads")
    before = server_load(b).workers  # worker threads alive in the server
    assert before >= 2
    a.context.close()  # the tab closes: its session's worker must stop
    expect(b.locator(".st-key-server_status")).to_contain_text(f"worker threads: {before - 1}",
                                                                 timeout=15_000)
    assert "Training" in status_text(b)  # the other session is untouched
    click_and_time(b, "Pause", "Paused")
    assert_no_exception(b)
