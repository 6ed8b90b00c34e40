"""Test settings: the production settings module with test-only speedups.

The database, broker, channel layer and cache come from the same variables
as in production (DATABASE_URL, REDIS_URL), so `.ci/run` exercises both the
zero-service defaults and PostgreSQL + Redis.
"""

import os

# Tests start their own dramatiq worker per test (tests/conftest.py); the web
# process's embedded worker would compete with it.
os.environ["DRAMATIQ_EMBEDDED_WORKER"] = "false"
os.environ.setdefault("VAR_DIR", "/tmp/coop-test-var")
# DEBUG is off in tests, as in production, so the keys production requires are given here.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("PSEUDONYM_KEY", "test-only-pseudonym-key-0123456789abcdefghijklmnopqrstuvwxyz")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = VAR_DIR / "media"  # noqa: F405
if REDIS_URL:  # noqa: F405
    # Keep test queues and channel groups apart from a developer's running platform.
    DRAMATIQ_BROKER["OPTIONS"]["namespace"] = "coop-test-dramatiq"  # noqa: F405
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "coop-test"  # noqa: F405
    CACHES["default"]["KEY_PREFIX"] = "coop-test"  # noqa: F405
STATIC_ROOT = VAR_DIR / "static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, not shared-cache memory: worker threads then get SQLite's normal
    # locking with the busy timeout, as in zero-service production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}  # noqa: F405
# Browser tests fork a Daphne server process; a connection pool's open sockets would be
# shared across the fork. Tests use plain per-thread connections instead.
DATABASES["default"].get("OPTIONS", {}).pop("pool", None)  # noqa: F405
