"""Inspect and Sample pages in a real browser: train for about 20 s, then every chart has the right
dimensions and sampling writes only characters of the corpus. Saves inspect.png and sample.png
(the README's), and each Inspect tab and the Sample page at 1920 × 1080 and 1366 × 768
(views-*.png), to be looked at: do they read from the back of a room?"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page

from bench.browser import wait_for_app, wait_for_render
from rnn_core.config import DEFAULT_PRESET, PRESETS
from rnn_core.corpus import DEFAULT_CORPUS, load_builtin
from tests.e2e.support import assert_no_exception, for_readme, screenshot

CFG = PRESETS[DEFAULT_PRESET]
H, T = CFG.hidden, CFG.seq_len


@pytest.fixture(scope="module")
def vocab() -> str:
    return load_builtin(DEFAULT_CORPUS).vocab.chars


def train_briefly(page: Page, min_steps: int, seconds: float) -> None:
    """Play for about `seconds` and at least `min_steps` steps (the sidebar status), then Pause so
    the charts hold still. Time-based: on a busy 2-core machine steps/s vary tenfold."""
    start = time.monotonic()
    page.locator(".st-key-play button").first.click()
    page.wait_for_function(
        """(n) => { const m = document.querySelector('.st-key-status')?.innerText.match(/step ([\\d,]+)/);
                    return m && parseInt(m[1].replace(/,/g, '')) >= n; }""", arg=min_steps)
    page.wait_for_timeout(max(0.0, seconds - (time.monotonic() - start)) * 1000)
    page.locator(".st-key-pause button").first.click()
    page.locator(".st-key-status").filter(has_text="Paused").wait_for()
    wait_for_app(page)


def plot(page: Page, key: str) -> dict:
    """Dimensions of the chart keyed `key` as plotly.js holds them after decoding (_fullData)."""
    page.locator(f".st-key-{key} .js-plotly-plot").wait_for()
    page.wait_for_function("(k) => document.querySelector(`.st-key-${k} .js-plotly-plot`)?._fullData?.length",
                           arg=key)
    return page.evaluate(
        """(k) => { const t = document.querySelector(`.st-key-${k} .js-plotly-plot`)._fullData[0];
                    const z = t.z; return {type: t.type, y: t.y ? Array.from(t.y) : null,
                    rows: z ? z.length : null, cols: z ? z[0].length : null}; }""", key)


def wait_shape(page: Page, key: str, rows: int, cols: int) -> None:
    """Until the chart keyed `key` has rows × cols (a rerun replaces it shortly after an input)."""
    page.wait_for_function(
        """([k, r, c]) => {
            const z = document.querySelector(`.st-key-${k} .js-plotly-plot`)?._fullData?.[0]?.z;
            return z && z.length === r && z[0].length === c; }""", arg=[key, rows, cols])


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("tab", name=name).click()
    wait_for_app(page)
    assert_no_exception(page)


SIZES = ((1920, 1080), (1366, 768))


def screens(page: Page, name: str, restore: tuple[int, int], at: str | None = None) -> None:
    """The visible part of the page (what a room sees) at each of SIZES, as views-NAME-WIDTH.png;
    scrolled to the element `at` (a selector) when given."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(800)  # plotly redraws at the new width
        wait_for_render(page)
        if at:
            page.locator(at).first.evaluate("el => el.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(300)
        screenshot(page, f"views-{name}-{width}.png")
    page.set_viewport_size({"width": restore[0], "height": restore[1]})
    page.wait_for_timeout(500)


def test_inspect_charts_have_the_chunk_dimensions(new_page, vocab: str):
    page = new_page("/inspect", height=1500)
    train_briefly(page, 20, seconds=for_readme(8, 20))
    assert_no_exception(page)

    hidden = plot(page, "hidden_state_chart")
    assert (hidden["type"], hidden["rows"], hidden["cols"]) == ("heatmap", H, T)  # units × seq_len
    strip = plot(page, "unit_text_chart")
    assert (strip["rows"], strip["cols"]) == (1, T)
    title = page.locator(".st-key-unit_text_chart .gtitle").first.text_content() or ""
    assert re.search(r"unit h\d+, which follows \w", title), title  # a unit worth a look, named
    screenshot(page, "inspect.png")
    screens(page, "hidden", (1400, 1500))

    open_tab(page, "Softmax")
    top = plot(page, "softmax_topk_chart")
    assert (top["rows"], top["cols"]) == (5, T)
    assert len(plot(page, "loss_terms_chart")["y"]) == T
    assert plot(page, "surprise_text_chart")["cols"] == T
    screens(page, "softmax", (1400, 1500))

    open_tab(page, "Gradient flow")
    last = plot(page, "last_prediction_chart")["y"]
    assert len(last) == T and last[0] < last[-1]  # the last prediction's gradient fades going back
    assert len(plot(page, "reach_chart")["y"]) == T
    assert len(plot(page, "grad_flow_chart")["y"]) == T
    history = plot(page, "grad_flow_history_chart")
    assert history["rows"] >= 1 and history["cols"] == T
    screens(page, "grad-flow", (1400, 1500))

    open_tab(page, "Weights")
    for key in ("weights_chart", "update_chart", "step_size_chart"):  # U: H × K
        w = plot(page, key)
        assert (w["rows"], w["cols"]) == (H, len(vocab)), key
    screens(page, "weights", (1400, 1500))

    open_tab(page, "Your own text")
    box = page.locator(".st-key-own_text textarea")
    box.fill("The cat sat.")
    box.press("Control+Enter")
    wait_shape(page, "own_hidden_state_chart", H, len("The cat sat.") - 1)
    wait_shape(page, "own_softmax_topk_chart", 5, len("The cat sat.") - 1)
    screens(page, "own-text", (1400, 1500))
    box.fill("snow ☃")
    box.press("Control+Enter")
    page.locator('[data-testid="stAlert"]').filter(has_text="not in the training text").wait_for()
    assert_no_exception(page)

    open_tab(page, "Gradient check")
    page.locator(".st-key-gradcheck_button button").click()
    wait_for_app(page)
    errors = plot(page, "gradcheck_chart")["y"]
    assert len(errors) == 5 and max(errors) < 1e-5
    screens(page, "gradcheck", (1400, 1500))
    assert_no_exception(page)


def test_sampling_writes_only_corpus_characters(new_page, vocab: str):
    page = new_page("/sample", height=1700)
    train_briefly(page, 20, seconds=for_readme(8, 20))  # for_readme: word-like samples
    seed = page.locator(".st-key-seed_text input")
    seed.fill("The ")
    seed.press("Enter")
    wait_for_app(page)
    thumb = page.locator(".st-key-sample_length input[type=range]")
    thumb.focus()
    for _ in range(12):  # 200 -> 80 in steps of 10
        thumb.press("ArrowLeft")
    page.locator(".st-key-sample_length [data-testid='stSliderThumbValue']").filter(has_text="80").wait_for()
    page.wait_for_timeout(600)  # the slider sends its value after a short debounce, then reruns
    wait_for_app(page)
    texts = [""]
    for _ in range(2):  # each press a new draw (the seed is not pinned)
        page.locator(".st-key-sample_button button").click()
        # Typed out in growing prefixes: wait for the whole of the new text (not the last draw's).
        page.wait_for_function("prev => { const t = document.querySelector('.st-key-sample_output "
                               ".generated')?.textContent; return t && t.length >= 80 && t !== prev; }",
                               arg=texts[-1])
        wait_for_app(page)
        assert_no_exception(page)
        texts.append(page.locator(".st-key-sample_output .generated").evaluate("el => el.textContent"))
    assert texts[1] != texts[2]
    text = texts[-1]
    assert len(text) == 80
    assert set(text) <= set(vocab), set(text) - set(vocab)
    assert page.locator(".st-key-sample_output .seed").inner_text() == "The "  # inline, before it
    drawn_with = int(page.locator(".st-key-sample_seed input").input_value())
    assert f"random seed {drawn_with}" in page.locator(".st-key-sample_output").inner_text()
    dist = plot(page, "sample_dist_chart")
    assert (dist["rows"], dist["cols"]) == (10, 40)  # top 10 × a window of 40 generated characters
    page.locator(".st-key-sample_timeline .timeline-sample").first.wait_for()
    screenshot(page, "sample.png")
    screens(page, "sample", (1400, 1700))
    screens(page, "sample-distribution", (1400, 1700), at=".st-key-sample_position")
    screens(page, "sample-timeline", (1400, 1700), at="#timeline")
