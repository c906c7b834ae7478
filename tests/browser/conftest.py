"""Browser fixtures: the pytest app served over real HTTP, and a headless Chromium.

Chromium is the Debian package at /usr/bin/chromium (``playwright install`` is never
run). Without it the browser tests are skipped locally, but fail under CI so that a
broken runner image cannot silently turn the suite green.
"""
import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = Path(os.environ.get("DOCMGR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic"]
TIMEOUT_MS = 10_000


@pytest.fixture
def live_server(app):
    """Serve the test app on a free local port; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason} — browser tests must run in CI; install the Debian "
                    f"'chromium' package in the runner image.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium():
    """One headless Chromium for the whole session."""
    if not CHROMIUM.exists():
        _unavailable(f"Chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                     headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser tab (own cookies) pointed at the live server."""
    context = chromium.new_context(base_url=live_server, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh",
                                   viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors = []

    def on_console(msg):
        # Failed sub-resources are reported by on_response, with their address.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"{tab.url}: {msg.text}")

    def on_response(response):
        # Pages may answer 4xx on purpose (a refused form); their images, scripts,
        # styles and fetches must not. The app has no favicon: Chromium's own probe.
        request = response.request
        if response.status >= 400 and request.resource_type != "document" \
                and not request.url.endswith("/favicon.ico"):
            errors.append(f"{tab.url}: {request.method} {request.url} -> {response.status}")

    tab.on("pageerror", lambda exc: errors.append(f"{tab.url}: {exc}"))
    tab.on("console", on_console)
    tab.on("response", on_response)
    yield tab
    context.close()
    assert not errors, f"errors in the browser console: {errors}"


@pytest.fixture
def login(page, live_server, world):
    """login("clerk") signs in through the real login form and lands on the dashboard."""
    from playwright.sync_api import expect

    def sign_in(username: str):
        page.goto("/login")
        page.get_by_label("Tên đăng nhập").fill(username)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.locator(".flash-success")).to_contain_text("Xin chào")
        expect(page).to_have_url(f"{live_server}/")
    return sign_in


@pytest.fixture
def logout(page):
    from playwright.sync_api import expect

    def sign_out():
        page.get_by_role("button", name="Đăng xuất").click()
        expect(page.locator(".flash-info")).to_have_text("Bạn đã đăng xuất.")
        expect(page.get_by_label("Tên đăng nhập")).to_be_visible()
    return sign_out

