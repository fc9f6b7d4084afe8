from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_support import new_app, stop_session, v2_navigation
from tests.rnn_support import small_corpus, tiny_config
from ui.session.worker import TrainingSession


@pytest.fixture
def app() -> Iterator[AppTest]:
    """The whole app (entry script + pages) under AppTest, run once; its worker stopped after."""
    with v2_navigation():
        at = new_app()
        at.run()
        yield at
        stop_session(at)


@pytest.fixture
def session() -> Iterator[TrainingSession]:
    """A TrainingSession on tests.rnn_support's small corpus and tiny settings, closed after."""
    s = TrainingSession(small_corpus(), tiny_config())
    yield s
    s.close()
