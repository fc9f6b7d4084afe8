"""A run you can trust on stage (issue 11), in a real browser against a real server: the
speaker's path through a blow-up and back, the zoom that survives live refreshes, clipping visible
from the first seconds on the default preset, and the sidebar's buttons on a projector."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect


def test_play_right_after_step_registers(new_page: Callable[..., Page]):
    """Step's tooltip must not cover Play: a click on Play at once after Step lands on Play."""
    page = new_page()
    page.get_by_role("button", name="Step", exact=True).click()
    expect(page.locator(".st-key-status")).to_contain_text("step 1")
    page.get_by_role("button", name="Play", exact=True).click(timeout=3_000)  # no waiting for a tooltip
    expect(page.locator(".st-key-status")).to_contain_text("Training")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator(".st-key-status")).to_contain_text("Paused")
