"""End-to-end fixtures: the real app over real HTTP, driven by Debian's Chromium (headless)
through Python Playwright. Never a downloaded browser."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from oms.devstack.ldap_demo import DEMO_PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-quic", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"


@pytest.fixture(scope="session")
def live_url(app):
    yield from serving(app)


def serving(app):
    """The app on a free loopback port, over real HTTP, for as long as the generator lives."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_port}"
    srv.shutdown()


def new_page(browser, base_url: str, height: int = 800, **context):
    """(context, page) of a fresh browser context on `base_url`; close the context when done."""
    ctx = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": height}, **context)
    pg = ctx.new_page()
    pg.set_default_timeout(10_000)
    return ctx, pg


def sign_in(page, name: str, password: str = DEMO_PASSWORD):
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    return page


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian chromium is not installed: `make test` installs it (scripts/install-system-deps.sh --browser)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_url):
    ctx, pg = new_page(browser, live_url)
    yield pg
    ctx.close()


@pytest.fixture
def login(page):
    def do(name: str, password: str = DEMO_PASSWORD):
        return sign_in(page, name, password)
    return do


@pytest.fixture
def console_errors(page):
    """What the browser's console said in error while the test ran."""
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
