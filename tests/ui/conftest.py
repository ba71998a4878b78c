"""A real headless Chromium (Debian's package, driven by Playwright) against a real server."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
HELLO = "bots_scheduler.jobs.builtin.sample.HelloJob"


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: Playwright's sync API keeps an event loop running in the
    main thread while it lives, which would break later tests that call asyncio.run()."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A browser tab on the UI that records script errors and CSP violations."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", self._console)

    def _console(self, message):
        if message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text}")

    def open(self, tab: str = "jobs"):
        self.page.goto(f"{self.base_url}/#/{tab}")
        self.page.wait_for_selector("body[data-ready=true]")
        return self.page

    def shot(self, name: str):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def ui(browser):
    """Factory: ``ui(base_url, **context_options)`` -> Page; contexts close at teardown."""
    contexts = []

    def open_page(base_url: str, **options) -> Page:
        options.setdefault("viewport", {"width": 1400, "height": 900})
        # the UI prints times in the browser's locale: pin one with a 24-hour clock, or what
        # a test reads depends on the machine's locale and on the time of day it runs at
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        contexts.append(context)
        return Page(context.new_page(), base_url.rstrip("/"))

    yield open_page
    for context in contexts:
        context.close()


def row_of(page, table: str, text: str):
    """The table row (tbody tr) containing ``text``."""
    return page.locator(f"#{table} tbody tr", has_text=re.compile(re.escape(text)))
