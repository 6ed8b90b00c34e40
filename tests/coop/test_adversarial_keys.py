"""Keys: worker pseudonyms survive a SECRET_KEY rotation, and production refuses to start without its keys."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.pseudonyms import worker_pseudonym

ROOT = Path(__file__).resolve().parents[2]


def test_adversarial_rotating_the_secret_key_keeps_worker_pseudonyms(settings):
    before = worker_pseudonym(organization_id=7, worker_id=42)
    settings.SECRET_KEY = "a-freshly-rotated-secret-key-after-an-incident-0123456789"
    assert worker_pseudonym(organization_id=7, worker_id=42) == before
    # The pseudonym key is what they hang on, and it differs per client organization.
    assert worker_pseudonym(organization_id=8, worker_id=42) != before
    settings.PSEUDONYM_KEY = "another-pseudonym-key-0123456789abcdefghijklmnop"
    assert worker_pseudonym(organization_id=7, worker_id=42) != before


def _start(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "PSEUDONYM_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")}
    # ENV_FILE=/dev/null: a developer's .env must not supply the keys.
    clean.update(env, DJANGO_SETTINGS_MODULE="config.settings", VAR_DIR="/tmp/coop-test-var", ENV_FILE="/dev/null")
    code = f"import sys; sys.path.insert(0, {str(ROOT)!r}); import django; django.setup(); print('started')"
    return subprocess.run([sys.executable, "-c", code], env=clean, capture_output=True, text=True, cwd="/", timeout=120)


@pytest.mark.parametrize(
    "env, missing",
    [
        ({}, "SECRET_KEY and PSEUDONYM_KEY"),
        ({"SECRET_KEY": "s" * 50}, "PSEUDONYM_KEY must be set"),
        ({"PSEUDONYM_KEY": "p" * 50}, "SECRET_KEY must be set"),
    ],
)
def test_adversarial_production_does_not_start_without_its_keys(env, missing):
    started = _start(DEBUG="false", **env)
    assert started.returncode != 0 and "started" not in started.stdout
    assert "ImproperlyConfigured" in started.stderr and missing in started.stderr and ".env.example" in started.stderr


def test_with_both_keys_or_in_debug_it_starts():
    assert "started" in _start(DEBUG="false", SECRET_KEY="s" * 50, PSEUDONYM_KEY="p" * 50).stdout
    assert "started" in _start(DEBUG="true").stdout
