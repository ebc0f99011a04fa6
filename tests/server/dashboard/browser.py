"""What the dashboard's browser tests share: Debian's Chromium driven by Playwright, a real server
process on loopback, pages whose console errors are collected, and where screenshots go."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.live import LiveServer

CHROMIUM = os.environ.get("VIGIL_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "dashboard"
"""Where the browser tests write their screenshots (ignored by git)."""
LAYOUT_CHECK = (Path(__file__).parent / "layout.js").read_text()
"""A function for `page.evaluate`: the page's layout problems (cards overflowing, text under 11 px,
chart labels cut off or overlapping), each a sentence; empty when the page fits its screen."""


def chromium_path() -> str:
    """Chromium's executable; the test is skipped without it (and fails in CI)."""
    path = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}; CI needs it (apt-get install chromium)")
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium, or make system-deps)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    return path


@contextmanager
def live_server(store_url: str, artifacts_url: str, log: Path) -> Iterator[LiveServer]:
    """The dashboard's server on the store, its scheduler off, for one test module."""
    live = LiveServer(
        store_url,
        artifacts_url,
        log,
        env={"VIGIL_MONITOR_SCHEDULER": "false", "VIGIL_DASHBOARD_PAGE_BUDGET": "30"},
    )
    live.start(timeout=180)  # a busy machine (a parallel run of the whole suite) starts it slowly
    try:
        yield live
    finally:
        live.stop()


@contextmanager
def chromium() -> Iterator[Any]:
    """One headless Chromium for a test module."""
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page whose console errors, uncaught exceptions and failed requests are collected."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on(
            "console",
            lambda m: self.errors.append(f"console: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        page.on(
            "response",
            lambda r: self.errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
        )

    def shot(self, name: str, *, folder: str = "") -> Path:
        """A full-page screenshot under SCREENSHOTS (JPEG: PNG encoding of long pages is slow)."""
        where = SCREENSHOTS / folder if folder else SCREENSHOTS
        where.mkdir(parents=True, exist_ok=True)
        path = where / f"{name}.jpeg"
        self.page.screenshot(path=str(path), full_page=True, type="jpeg", quality=70)
        return path


def signed_in(
    browser: Any, server: LiveServer, token: str, *, width: int = 1400, height: int = 900
) -> Watched:
    """A new browser context of `width` px, signed in with `token`."""
    context = browser.new_context(viewport={"width": width, "height": height})
    watched = Watched(context.new_page())
    page = watched.page
    page.goto(f"{server.url}/ui/alerts")
    assert "/ui/login" in page.url  # nothing readable before signing in
    page.fill("#token", token)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/ui/alerts$"))
    return watched


def shot_name(url: str) -> str:
    """A file name for a screenshot of `url`."""
    return re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-")[:60] or "overview"


def tab_to(page: Any, selector: str, presses: int = 80) -> dict[str, str]:
    """Press Tab until the focus is on an element matching `selector`; how its focus is drawn
    (the computed outline) there. Fails when Tab never reaches it."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        found = page.evaluate(
            """(selector) => {
              const el = document.activeElement;
              if (!el || !el.matches(selector)) return null;
              const style = getComputedStyle(el);
              return {style: style.outlineStyle, width: style.outlineWidth,
                      colour: style.outlineColor, visible: String(el.matches(":focus-visible"))};
            }""",
            selector,
        )
        if found is not None:
            return dict(found)
    raise AssertionError(f"{presses} presses of Tab never reached {selector}")


def assert_outlined(focus: dict[str, str], what: str) -> None:
    assert focus["visible"] == "true", what
    assert focus["style"] != "none", f"{what} has no focus outline: {focus}"
    assert float(focus["width"].removesuffix("px")) >= 2, f"{what}: {focus}"
