"""The Sample page under AppTest: controls, the sample text, its distributions, the timeline."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.inspect_support import charts, plotly_array, z_shape
from ui.views.sample import DISPLAY_TOP

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
                      ("button", "sample_button"), ("number_input", "timeline_every"),
                      ("button", "timeline_apply")):
        assert getattr(app, kind)(key=key) is not None
    assert "Press **Sample**" in app.info[0].value


def test_sample_uses_only_the_vocabulary(sample_page: AppTest):
    at = sample_page
    at.text_input(key="seed_text").set_value("The ")
    at.slider(key="sample_length").set_value(120)
    at.slider(key="temperature").set_value(0.8)
    at.button(key="sample_button").click().run()
    assert not at.exception and not at.error
    text = at.code[0].value
    assert len(text) == 120
    assert set(text) <= vocab_of(at)
    assert "seed text: 'The '" in [t.value for t in at.text]  # plain text, never markdown
    specs = charts(at)
    assert z_shape(specs["sample_dist_chart"]) == (DISPLAY_TOP, 120)
    at.slider(key="sample_position").set_value(17).run()
    assert not at.exception
    assert at.code[0].value == text  # the sample stays while exploring it
    bars = charts(at)["sample_position_chart"]
    assert "Position 17" in bars["layout"]["title"]["text"]
    assert len(plotly_array(bars["data"][0]["y"])) == DISPLAY_TOP


def test_greedy_is_deterministic_and_top_k_limits(sample_page: AppTest):
    at = sample_page
    at.radio(key="sample_mode").set_value("greedy (most likely)")
    at.button(key="sample_button").click().run()
    first = at.code[0].value
    at.button(key="sample_button").click().run()
    assert at.code[0].value == first
    at.radio(key="sample_mode").set_value("sampled")
    at.number_input(key="top_k").set_value(1)  # top-1 sampling is greedy
    at.button(key="sample_button").click().run()
    assert at.code[0].value == first


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
    at.number_input(key="timeline_every").set_value(50)
    at.button(key="timeline_apply").click().run()
    assert not at.exception
    table = at.dataframe[-1].value
    assert table["step"].tolist() == [2]
    assert set(table["sample"].iloc[0].replace("⏎", "\n").replace("⇥", "\t")) <= vocab_of(at)
    captions = " ".join(c.value for c in at.caption)
    assert "About every 50 steps" in captions and "temperature 0.5" in captions
    at.text_input(key="seed_text").set_value("☃")
    at.button(key="timeline_apply").click().run()
    assert "Cannot use these settings" in at.error[0].value
    assert at.session_state["unrolled"].session.sample_settings.seed_text == "The"
