"""A newcomer signs up, verifies their email, logs in, sees the dashboard and logs out, in Chromium."""

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signup_verify_login_dashboard_logout(page, asgi_live_server):
    page.goto("/")
    page.get_by_role("link", name="Join the co-op").first.click()
    page.get_by_label("Email").fill("wanjiru@example.org")
    page.locator("#id_password1").fill("a-long-passphrase-1")
    page.get_by_label("Password (again)").fill("a-long-passphrase-1")
    page.get_by_role("button", name="Sign Up").click()
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    assert "verify" in page.content().lower()

    emails = asgi_live_server.emails()
    assert len(emails) == 1 and "wanjiru@example.org" in emails[0]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", emails[0]).group(1)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/dashboard/"))
    assert page.get_by_test_id("role").text_content() == "applicant"
    assert page.get_by_test_id("apply-link").is_visible()

    # The notifications WebSocket is live on the real ASGI server.
    page.wait_for_function("document.body.dataset.live === 'true'")
    page.get_by_test_id("logout").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("navigation").get_by_role("link", name="Sign in").is_visible()

    # Log in again with the verified address.
    page.get_by_role("navigation").get_by_role("link", name="Sign in").click()
    page.get_by_label("Email").fill("wanjiru@example.org")
    page.locator("#id_password").fill("a-long-passphrase-1")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(re.compile(r"/dashboard/"))
    assert "Hello, wanjiru" in page.content()
