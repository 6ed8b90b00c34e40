"""Real-browser harness: Playwright driving Debian's Chromium (no browser download).

Skipped, with the reason printed, where no Chromium exists. Set
CHROMIUM_PATH to use another binary.
"""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package (bash scripts/test does) or set CHROMIUM_PATH")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    # Playwright's sync API runs an event loop in this thread while it is open;
    # Django's ORM calls from the test body are still synchronous and safe.
    # Module scope closes that loop before other tests (which use async_to_sync) run.
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class AsgiLiveServer:
    def __init__(self, url: str, mail_dir):
        self.url = url
        self.mail_dir = mail_dir

    def emails(self) -> list[str]:
        """Emails the server process sent (file backend: the server is another process), oldest first."""
        return [p.read_text() for p in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)]


@pytest.fixture
def asgi_live_server(transactional_db, settings, tmp_path):
    """The real ASGI stack (HTTP + WebSockets) served by Daphne in a forked process, on the test database.

    pytest-django's live_server is WSGI-only; this is channels' own
    ChannelsLiveServerTestCase machinery as a fixture.
    """
    from functools import partial

    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    # The forked process inherits settings that already point at the test database
    # (pytest-django renamed it), so no database setup hook is needed; Daphne runs
    # views in its own threads, which open their own connections.
    process = DaphneProcess("localhost", partial(make_application, static_wrapper=ASGIStaticFilesHandler))
    process.start()
    while not process.ready.wait(timeout=1):
        if not process.is_alive():
            raise RuntimeError("the Daphne test server stopped during start-up")
    yield AsgiLiveServer(f"http://localhost:{process.port.value}", tmp_path / "mail")
    process.terminate()
    process.join()


@pytest.fixture
def page(browser, asgi_live_server):
    context = browser.new_context(base_url=asgi_live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def in_thread(func, *args, **kwargs):
    """Run ORM work that publishes events (async_to_sync) off the thread where Playwright's loop runs."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def call():
        try:
            return func(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


def sign_in(page, email: str, password: str) -> None:
    """Sign in through the real login form and wait for the dashboard."""
    import re

    page.goto("/accounts/login/")
    page.fill("#id_login", email)
    page.fill("#id_password", password)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/dashboard/"))
