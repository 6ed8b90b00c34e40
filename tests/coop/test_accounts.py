"""Accounts through allauth: email login, mandatory verification, rate limiting, password reset, TOTP."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)

from coop.models import User
from tests import factories


def _confirmation_link(mail) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+)", mail.body).group(1)


@pytest.mark.django_db
class TestSignupAndVerification:
    def test_signup_requires_email_verification_before_login(self, client, mailoutbox):
        response = client.post(
            "/accounts/signup/", {"email": "New.Person@Example.org", "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"}
        )
        assert response.status_code == 302 and "/accounts/confirm-email/" in response["Location"]
        user = User.objects.get(email="new.person@example.org")
        assert user.role == "applicant"
        assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.person@example.org"]

        # Not verified yet: logging in sends the user back to verification.
        client.logout()
        login = client.post("/accounts/login/", {"login": "new.person@example.org", "password": "a-long-passphrase-1"})
        assert "/accounts/confirm-email/" in login["Location"]
        assert "_auth_user_id" not in client.session

        link = _confirmation_link(mailoutbox[-1])
        confirmed = client.post(link)
        assert confirmed.status_code == 302
        assert client.get("/dashboard/").status_code == 200

    def test_weak_password_and_duplicate_email_are_refused(self, client, member):
        weak = client.post("/accounts/signup/", {"email": "x@example.org", "password1": "123", "password2": "123"})
        assert weak.status_code == 200 and not User.objects.filter(email="x@example.org").exists()
        dup = client.post("/accounts/signup/", {"email": member.email.upper(), "password1": "a-long-passphrase-1", "password2": "a-long-passphrase-1"})
        assert User.objects.filter(email=member.email).count() == 1
        assert dup.status_code in (200, 302)

    def test_login_is_rate_limited(self, client, member):
        pages = [
            client.post("/accounts/login/", {"login": member.email, "password": "wrong-password"}).content.decode() for _ in range(6)
        ]
        assert "Too many failed login attempts" not in pages[0]
        assert "Too many failed login attempts" in pages[-1]  # 5 failures per account per 5 minutes
        # Even the right password is refused while limited.
        right = client.post("/accounts/login/", {"login": member.email, "password": factories.PASSWORD})
        assert right.status_code == 200 and "Too many failed login attempts" in right.content.decode()
        assert "_auth_user_id" not in client.session

    def test_password_reset_sends_a_link(self, client, member, mailoutbox):
        response = client.post("/accounts/password/reset/", {"email": member.email})
        assert response.status_code == 302
        assert len(mailoutbox) == 1 and "/accounts/password/reset/key/" in mailoutbox[0].body


@pytest.mark.django_db
def test_steward_login_requires_totp_code(client):
    steward = factories.make_steward(with_totp=False)
    secret = generate_totp_secret()
    TOTP.activate(steward, secret)
    response = client.post("/accounts/login/", {"login": steward.email, "password": factories.PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/dashboard/").status_code == 302  # not logged in yet

    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    counters = list(yield_hotp_counters_from_time())
    code = format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))
    ok = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert ok.status_code == 302
    assert "Stewards&#x27; desk" in client.get("/dashboard/").content.decode() or "Stewards' desk" in client.get(
        "/dashboard/"
    ).content.decode()
    assert Authenticator.objects.filter(user=steward, type="totp").exists()
