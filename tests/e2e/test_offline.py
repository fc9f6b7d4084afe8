"""Nothing the app needs comes from outside its own server (a classroom may be offline): every page,
each Inspect tab, Play and Sample, with every request the browser makes recorded, and any to another
host refused as it would fail offline. The tab icon is a local image the server serves."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import Browser, Page, Request, Route, expect

from bench.browser import TIMEOUT_MS, wait_for_app, wait_for_render
from tests.e2e.support import assert_no_exception, nav_labels, wait_for_step

# Each Inspect tab and a chart it draws (None: the tab draws on a button press).
INSPECT_TABS = {"Hidden state": "hidden_state_chart", "Softmax": "softmax_topk_chart",
                "Gradient flow": "last_prediction_chart", "Weights": "weights_chart",
                "Your own text": "own_hidden_state_chart", "Gradient check": None}


def open_page(page: Page, title: str) -> None:
    """Follow the sidebar link to a page and wait until it has drawn (whatever its heading)."""
    link = page.get_by_role("link", name=title, exact=True)
    path = urlparse(link.get_attribute("href") or "/").path
    link.click()
    page.wait_for_url(lambda url: urlparse(url).path == path)
    page.locator(".st-key-status").wait_for()
    wait_for_render(page)
    page.wait_for_timeout(1500)  # what the page loads after its first draw


def test_no_request_leaves_the_server(browser: Browser, server_url: str):
    server = urlparse(server_url).netloc
    seen: list[str] = []
    outside: list[str] = []

    def note(url: str) -> None:
        seen.append(url)
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https", "ws", "wss") and parsed.netloc != server:
            outside.append(url)

    def refuse_outside(route: Route, request: Request) -> None:
        if urlparse(request.url).netloc == server or urlparse(request.url).scheme not in ("http", "https"):
            route.continue_()
        else:
            route.abort()  # as offline: the page must not wait for it

    ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.on("request", lambda r: note(r.url))
    ctx.route("**/*", refuse_outside)
    try:
        page = ctx.new_page()
        page.on("websocket", lambda ws: note(ws.url))
        page.goto(server_url + "/")
        wait_for_app(page)
        page.locator(".st-key-play button").first.click()
        wait_for_step(page, 20)  # the Train page's live charts, while training
        # Then paused, so every view draws once: on this shared 2-core machine, live tabs can take
        # longer than a page's timeout to settle when other jobs load it (what they fetch is the same).
        page.locator(".st-key-pause button").first.click()
        page.locator(".st-key-status").filter(has_text="Paused").wait_for()
        for title in nav_labels(page):
            open_page(page, title)
            if title == "Inspect":
                for tab, chart in INSPECT_TABS.items():
                    page.get_by_role("tab", name=tab).click()
                    if chart:
                        page.locator(f".st-key-{chart} .js-plotly-plot").first.wait_for()
                page.locator(".st-key-gradcheck_button button").click()
                page.locator(".st-key-gradcheck_chart .js-plotly-plot").first.wait_for()
            if title == "Sample":
                page.locator(".st-key-sample_button button").click()
                expect(page.locator(".st-key-sample_output .generated")).not_to_be_empty()
            assert_no_exception(page)

        icon = page.locator("link[rel~='icon']").first.get_attribute("href") or ""
        icon_url = urlparse(page.evaluate("(h) => new URL(h, document.baseURI).href", icon))
        assert icon_url.netloc == server, f"the tab icon comes from {icon_url.netloc}: {icon}"
        got = ctx.request.get(icon_url.geturl())
        assert got.ok and got.headers["content-type"] == "image/png"
        assert len(seen) > 20 and any(u.startswith(("ws://", "wss://")) for u in seen)  # it did record
        assert outside == [], f"requests to other hosts: {sorted(set(outside))}"
    finally:
        ctx.close()
