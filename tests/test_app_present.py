"""Presentation mode and the explanations under AppTest: the toggle hides the sidebar's secondary
controls and keeps the speaker's, comes from the URL, restyles the charts; the explanations appear
beside the Train charts, go with their toggle, are the short ones in presentation mode, and quote
the running model's numbers. (Type sizes and fitting the screen are measured in a real browser:
tests/e2e/test_presentation.py.)"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import app_state_of, keyed_block, new_app, stop_session, v2_navigation
from tests.inspect_support import charts
from tests.test_app_train import chart_specs
from ui.figures.style import NORMAL, PRESENTATION
from ui.views.explain import clipping_text, explain_numbers, inside_text, loss_text, percent, sample_text
from ui.views.grad_flow import read_reach
from ui.views.train import read_train_view

SECONDARY = ("refresh_s", "server_status")  # keyed widgets/containers presentation mode hides
KEPT = ("play", "pause", "step", "reset", "presentation", "explain")
EXPLANATIONS = {"explain_loss": loss_text, "explain_clipping": clipping_text,
                "explain_inside": inside_text, "explain_sample": sample_text}


def present(at: AppTest, on: bool = True) -> AppTest:
    at.toggle(key="presentation").set_value(on).run()
    assert not at.exception
    return at


def caption_in(at: AppTest, key: str) -> str | None:
    block = keyed_block(at, key)
    return None if block is None else block.get("caption")[0].value


def sidebar_keys(at: AppTest) -> set[str]:
    keys = set()

    def walk(node) -> None:
        proto_id = getattr(getattr(node, "proto", None), "id", "") or ""
        keys.add(proto_id.rsplit("-", 1)[-1])
        for child in getattr(node, "children", {}).values():
            walk(child)
    walk(at.sidebar)
    return keys


def expander_labels(at: AppTest) -> list[str]:
    return [e.label for e in at.sidebar.expander]


def test_the_toggle_hides_the_secondary_controls_and_keeps_the_speakers(app: AppTest):
    assert app.toggle(key="presentation").value is False
    assert set(SECONDARY) <= sidebar_keys(app)
    assert {"Save / load model", "Server"} <= set(expander_labels(app))
    present(app)
    assert app_state_of(app).presentation is True
    keys = sidebar_keys(app)
    assert not set(SECONDARY) & keys, keys
    assert not {"Save / load model", "Server"} & set(expander_labels(app))
    assert set(KEPT) <= keys
    assert any("step 0" in m.value for m in app.sidebar.markdown)  # the status line
    app.button(key="step").click().run()  # the controls still work
    assert app_state_of(app).session.trainer.step_count == 1
    present(app, False)
    assert set(SECONDARY) <= sidebar_keys(app)
    assert app_state_of(app).refresh_s == 1.0  # the refresh interval kept while hidden


def test_presentation_mode_comes_from_the_url():
    with v2_navigation():
        at = new_app()
        at.query_params["presentation"] = "true"
        at.run()
        try:
            assert not at.exception
            assert at.toggle(key="presentation").value is True
            assert "refresh_s" not in sidebar_keys(at)
        finally:
            stop_session(at)


def test_presentation_mode_styles_the_charts(app: AppTest):
    app.button(key="step").click().run()
    normal = chart_specs(app)
    assert normal["loss_chart"]["config"] == NORMAL.vega_config
    present(app)
    big = chart_specs(app)
    for key in ("loss_chart", "grad_norm_chart", "clipped_chart"):
        assert big[key]["config"] == PRESENTATION.vega_config, key
    assert big["loss_chart"]["height"] == PRESENTATION.live_height > normal["loss_chart"]["height"]
    widths = [layer["mark"].get("strokeWidth") for layer in big["grad_norm_chart"]["layer"]]
    assert max(w for w in widths if w) == pytest.approx(3 * PRESENTATION.line)
    app.switch_page("pages/unrolled.py").run()
    assert not app.exception
    inputs = charts(app)["unrolled_chart"]["data"][1]  # the x(t) row of characters
    assert inputs["textfont"]["size"] == PRESENTATION.char_text > NORMAL.char_text


@pytest.fixture
def trained(app: AppTest) -> Iterator[AppTest]:
    """The app on Train after a few steps (Step: synchronous, then paused)."""
    for _ in range(3):
        app.button(key="step").click().run()
    assert not app.exception
    yield app


def test_the_explanations_quote_the_running_model(trained: AppTest):
    session = app_state_of(trained).session
    for short in (False, True):
        present(trained, short)
        numbers = explain_numbers(session.read(read_train_view), session.read(read_reach))
        trainer = session.trainer
        for key, text in EXPLANATIONS.items():
            assert caption_in(trained, key) == text(numbers, short=short), key
        K, T = len(trainer.corpus.vocab), trainer.config.seq_len
        loss = caption_in(trained, "explain_loss")
        assert f"ln({K}) × {T} = {math.log(K) * T:,.1f} nats" in loss
        assert f"{trainer.smooth_loss:,.1f}" in loss and f"{trainer.last_record.loss:,.1f}" in loss
        clip = caption_in(trained, "explain_clipping")
        assert f"{trainer.config.clip:g}" in clip and percent(numbers.clipped_share) in clip
        assert percent(numbers.saturated) in caption_in(trained, "explain_inside")
    assert "ln(103) × 25 = 115.9 nats" in caption_in(trained, "explain_loss")  # the example
    trained.toggle(key="loss_bits").set_value(True).run()  # the chart in bits/char: so is its text
    numbers = explain_numbers(session.read(read_train_view), session.read(read_reach))
    assert caption_in(trained, "explain_loss") == loss_text(numbers, short=True, bits=True)
    assert "log2(103) = 6.69 bits/char" in caption_in(trained, "explain_loss")


def test_the_explanations_go_with_their_toggle(trained: AppTest):
    assert all(caption_in(trained, key) for key in EXPLANATIONS)
    trained.toggle(key="explain").set_value(False).run()
    assert not trained.exception
    assert all(keyed_block(trained, key) is None for key in EXPLANATIONS)
    assert keyed_block(trained, "loss_chart") is not None  # the charts stay
    trained.toggle(key="explain").set_value(True).run()
    assert all(caption_in(trained, key) for key in EXPLANATIONS)
