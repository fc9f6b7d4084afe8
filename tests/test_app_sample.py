"""The Sample page under AppTest: controls, the sample text, its distributions, the timeline."""

from __future__ import annotations

import html
import re

import pytest
from streamlit.testing.v1 import AppTest

from tests.inspect_support import charts, plotly_array, z_shape
from ui.session.timeline import DEFAULT_TEMPERATURE, SampleSettings
from ui.views import sample as sd
from ui.views.sample import DISPLAY_TOP, WINDOW


def shown_sample(at: AppTest, index: int = 0) -> tuple[str, str]:
    """(seed text, generated text) of a sample as the page shows it (st.html, escaped)."""
    body = at.html[index].value
    seed = re.search(r'<span class="seed"[^>]*>(.*?)</span>', body, re.S)
    generated = re.search(r'<span class="generated"[^>]*>(.*?)</span>', body, re.S)
    assert generated, body
    return html.unescape(seed.group(1)) if seed else "", html.unescape(generated.group(1))


def draw(at: AppTest) -> str:
    at.button(key="sample_button").click().run()
    assert not at.exception and not at.error
    return shown_sample(at)[1]

PAGE = "pages/sample.py"


@pytest.fixture
def sample_page(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    for _ in range(2):
        app.button(key="step").click().run()
    assert not app.exception
    return app


def vocab_of(at: AppTest) -> set[str]:
    return set(at.session_state["unrolled"].corpus.vocab.chars)


def test_controls_have_their_keys(app: AppTest):
    app.switch_page(PAGE).run()
    assert not app.exception
    for kind, key in (("text_input", "seed_text"), ("slider", "sample_length"), ("slider", "temperature"),
                      ("number_input", "top_k"), ("radio", "sample_mode"), ("number_input", "sample_seed"),
                      ("toggle", "sample_seed_pinned"), ("button", "sample_button"),
                      ("number_input", "timeline_every"), ("button", "timeline_apply")):
        assert getattr(app, kind)(key=key) is not None
    assert "Press **Sample**" in app.info[0].value
    # One default for a draw here and for the timeline's samples (on the Train page too).
    assert app.slider(key="temperature").value == SampleSettings().temperature == DEFAULT_TEMPERATURE
    assert "temperature 0.7" in sd.describe_settings(SampleSettings())


def test_sample_uses_only_the_vocabulary(sample_page: AppTest):
    at = sample_page
    at.text_input(key="seed_text").set_value("The ")
    at.slider(key="sample_length").set_value(120)
    at.slider(key="temperature").set_value(0.8)
    at.button(key="sample_button").click().run()
    assert not at.exception and not at.error
    seed, text = shown_sample(at)
    assert seed == "The "  # shown inline before the continuation, in its own style
    assert len(text) == 120
    assert set(text) <= vocab_of(at)
    specs = charts(at)
    assert z_shape(specs["sample_dist_chart"]) == (DISPLAY_TOP, WINDOW)  # a readable window, not 120
    at.slider(key="sample_position").set_value(100).run()
    assert not at.exception
    assert shown_sample(at)[1] == text  # the sample stays while exploring it
    dist = charts(at)["sample_dist_chart"]
    assert plotly_array(dist["data"][0]["x"]).tolist() == list(range(120 - WINDOW, 120))
    bars = charts(at)["sample_position_chart"]
    assert "Position 100" in bars["layout"]["title"]["text"]
    assert len(plotly_array(bars["data"][0]["y"])) == DISPLAY_TOP


def test_each_press_draws_anew_unless_the_seed_is_pinned(sample_page: AppTest):
    at = sample_page
    at.slider(key="sample_length").set_value(200)
    texts, seeds = [], []
    for _ in range(3):
        texts.append(draw(at))
        seeds.append(at.number_input(key="sample_seed").value)
        assert any(f"random seed {seeds[-1]} " in c.value for c in at.caption)  # shown, to repeat it
    assert len(set(texts)) == 3 and len(set(seeds)) == 3
    assert at.number_input(key="sample_seed").disabled
    at.toggle(key="sample_seed_pinned").set_value(True).run()  # pin the last draw's seed
    assert draw(at) == texts[-1] and draw(at) == texts[-1]
    assert at.number_input(key="sample_seed").value == seeds[-1]
    at.number_input(key="sample_seed").set_value(seeds[0]).run()  # and an earlier one
    assert draw(at) == texts[0]


def test_greedy_is_deterministic_and_top_k_limits(sample_page: AppTest):
    at = sample_page
    at.text_input(key="seed_text").set_value("the")  # else the first character is drawn at random
    at.radio(key="sample_mode").set_value("greedy (most likely)")
    first = draw(at)
    assert draw(at) == first
    at.radio(key="sample_mode").set_value("sampled")
    at.number_input(key="top_k").set_value(1)  # top-1 sampling is greedy, whatever the seed
    assert draw(at) == first


def test_bad_seed_text_shows_an_error(sample_page: AppTest):
    at = sample_page
    at.text_input(key="seed_text").set_value("snowman ☃")
    at.button(key="sample_button").click().run()
    assert not at.exception
    assert "never seen" in at.error[0].value and "☃" in at.error[0].value
    assert "Press **Sample**" in at.info[0].value  # no sample was made


def test_timeline_restarts_with_the_chosen_settings(sample_page: AppTest):
    at = sample_page
    at.text_input(key="seed_text").set_value("The")
    at.slider(key="temperature").set_value(0.5)
    at.number_input(key="timeline_every").set_value(1000)
    at.button(key="timeline_apply").click().run()
    assert not at.exception
    seed, text = shown_sample(at, -1)  # the timeline's one sample, taken at once
    assert seed == "The" and set(text) <= vocab_of(at)
    assert "step 2 · " in at.html[-1].value
    captions = " ".join(c.value for c in at.caption)
    assert "About every 1,000 steps" in captions and "temperature 0.5" in captions
    at.switch_page("pages/train.py").run()  # the Train page's sample says how it is drawn
    header = "**Sample** from the current weights (step 2, temperature 0.5)"
    assert any(header in m.value for m in at.markdown)
    at.switch_page(PAGE).run()
    at.text_input(key="seed_text").set_value("☃")
    at.button(key="timeline_apply").click().run()
    assert "Cannot use these settings" in at.error[0].value
    assert at.session_state["unrolled"].session.sample_settings.seed_text == "The"
