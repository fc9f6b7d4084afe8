"""Helpers for the real-browser tests: steps, navigation, screenshots.

The server and page helpers the benchmark shares (starting `streamlit run app.py`, waiting for a
page to settle, timing a click) are in bench/browser.py.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from bench.browser import status_text, wait_for_app

ROOT = Path(__file__).resolve().parents[2]
# Ignored by git, so a test run leaves the checkout as it was. The README's copies are in
# assets/screenshots/, refreshed from here by `python -m tests.e2e.screenshots`.
SCREENSHOTS = ROOT / "test-results" / "screenshots"


# `python -m tests.e2e.screenshots` sets this: the tests then train as long as the README's pictures
# need (a model some way into training); in CI they train only as long as their checks need.
FOR_README = os.environ.get("UNROLLED_README_SCREENSHOTS") == "1"


def for_readme(checks: float, pictures: float) -> float:
    """How long (steps, seconds) to train: enough for the checks, or for telling pictures."""
    return pictures if FOR_README else checks


def screenshot(page: Page, name: str) -> None:
    """Save the page as SCREENSHOTS / name."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def nav_labels(page: Page) -> list[str]:
    """The page titles in the sidebar navigation, top to bottom."""
    links = page.locator('[data-testid="stSidebarNavLink"] span[label]')
    return [links.nth(i).get_attribute("label") or "" for i in range(links.count())]


def step_of(page: Page) -> int:
    """The step counter from the sidebar status ('Training · step 1,234 · ...')."""
    m = re.search(r"step ([\d,]+)", status_text(page))
    assert m, status_text(page)
    return int(m.group(1).replace(",", ""))


def wait_for_step(page: Page, at_least: int, timeout: float = 30) -> int:
    """Until the status line's step reaches `at_least`; returns the step seen."""
    deadline = time.monotonic() + timeout
    while (step := step_of(page)) < at_least:
        assert time.monotonic() < deadline, f"stuck at step {step}: {status_text(page)}{alerts(page)}"
        time.sleep(0.25)
    return step


def alerts(page: Page) -> str:
    """The sidebar's messages (why training paused, for instance), each on a line of its own."""
    texts = page.locator('[data-testid="stSidebar"] [data-testid="stAlert"]').all_inner_texts()
    return "".join(f"\n{t}" for t in texts)


def go_to(page: Page, title: str) -> None:
    """Open a page from the sidebar navigation and wait until it has drawn."""
    page.get_by_role("link", name=title, exact=True).click()
    # In the main area: the sidebar's "Unrolled" (the app's name) is a heading too.
    expect(page.get_by_test_id("stMain").get_by_role("heading", name=title, exact=True)).to_be_visible()
    wait_for_app(page)


def assert_no_exception(page: Page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()
