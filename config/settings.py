"""Settings for the co-op platform, read from the environment (see .env.example).

With no variables set, everything runs on one machine with nothing else
installed: SQLite, an in-process channel layer, an in-process dramatiq broker
consumed by a worker thread inside the web process, and a local-memory cache.
Setting DATABASE_URL and REDIS_URL switches to PostgreSQL, a dramatiq
RedisBroker, channels_redis and a Redis cache; the code paths are the same.
"""

from decimal import Decimal
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(env("ENV_FILE", default=str(BASE_DIR / ".env")), overwrite=False)  # ENV_FILE: another file, or /dev/null

DEBUG = env.bool("DEBUG", default=False)
# Keys: with DEBUG off both must be set (start-up stops otherwise); with DEBUG on, dev-only defaults apply.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-dev-only-key-change-me-in-production-0123456789abcdef" if DEBUG else "")
# Worker pseudonyms shown to clients are keyed by this, not by SECRET_KEY, so rotating the SECRET_KEY does
# not turn every worker into a stranger in the client's data (to keep existing pseudonyms, set it to the old SECRET_KEY).
PSEUDONYM_KEY = env("PSEUDONYM_KEY", default="django-insecure-dev-only-pseudonym-key" if DEBUG else "")
_missing_keys = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("PSEUDONYM_KEY", PSEUDONYM_KEY)) if not value]
if _missing_keys:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        f"{' and '.join(_missing_keys)} must be set when DEBUG is off (long random strings; see .env.example). "
        "For local development set DEBUG=true, or use `bash scripts/run`, which keeps generated keys in VAR_DIR."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CSRF_FAILURE_VIEW = "coop.errors.csrf_failure"  # JSON under /api/
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # SQLite file, media and demo files live here by default

INSTALLED_APPS = [
    "daphne",
    "coop.admin_site.CoopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_dramatiq",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "coop",
    "marketplace",
    "governance",
    "mlops",
    "config",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "coop.validation.RefuseUnsafeRequestTextMiddleware",  # NUL in path, query or headers: 400
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coop.middleware.MessageMiddleware",  # Django's, none for token API calls
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "coop.middleware.StewardMFARequiredMiddleware",
    "coop.middleware.MemberTimezoneMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "coop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coop.context_processors.portal",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db(
        "DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'coop.sqlite3'}"
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the embedded worker thread and the web threads
    # share the file; IMMEDIATE transactions serialize writers instead of
    # failing with "database is locked" on lock upgrade.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    # Under ASGI, Django's persistent connections pile up per thread; a psycopg
    # connection pool per process is the supported way to reuse connections.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})
    # Server-side binding lets psycopg prepare a statement once it has run DB_PREPARE_THRESHOLD times on a
    # connection: PostgreSQL then parses and plans each hot statement once per connection, not on every call
    # (the hot path: PostgreSQL CPU per answer 4.3 -> 2.9 ms; README). 0 turns preparing off; a deploy that
    # alters tables restarts the servers after migrating, as a changed table invalidates prepared plans.
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = env.bool("DB_SERVER_SIDE_BINDING", default=True)
    prepare_threshold = env.int("DB_PREPARE_THRESHOLD", default=2)
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = prepare_threshold or None
    if env.bool("DB_POOL", default=True):
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
            "max_size": env.int("DB_POOL_MAX_SIZE", default=20),
            "timeout": env.int("DB_POOL_TIMEOUT", default=30),
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: broker, channel layer, cache ----------------------------------------
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "coop.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="coop"),
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env("CHANNEL_LAYER_PREFIX", default="coop"),
            },
        }
    }
    DRAMATIQ_BROKER_CLASS = "dramatiq.brokers.redis.RedisBroker"
    DRAMATIQ_BROKER_OPTIONS = {
        "url": REDIS_URL,
        "namespace": env("DRAMATIQ_NAMESPACE", default="coop-dramatiq"),
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    DRAMATIQ_BROKER_CLASS = "dramatiq.brokers.stub.StubBroker"
    DRAMATIQ_BROKER_OPTIONS = {}

DRAMATIQ_BROKER = {
    "BROKER": DRAMATIQ_BROKER_CLASS,
    "OPTIONS": DRAMATIQ_BROKER_OPTIONS,
    "MIDDLEWARE": [
        "dramatiq.middleware.AgeLimit",
        "dramatiq.middleware.TimeLimit",
        "dramatiq.middleware.Callbacks",
        "dramatiq.middleware.Retries",
        "dramatiq.middleware.CurrentMessage",
        "django_dramatiq.middleware.DbConnectionsMiddleware",
    ],
}
# With the in-process broker, the web process runs a dramatiq worker thread
# pool itself so that jobs really execute without a separate server.
DRAMATIQ_EMBEDDED_WORKER = env.bool("DRAMATIQ_EMBEDDED_WORKER", default=not REDIS_URL)
DRAMATIQ_EMBEDDED_THREADS = env.int("DRAMATIQ_EMBEDDED_THREADS", default=2)
DRAMATIQ_QUEUES = ("default", "gpu")

# --- Auth and accounts (django-allauth) ---------------------------------------------
AUTH_USER_MODEL = "coop.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "coop:dashboard"
ACCOUNT_LOGOUT_REDIRECT_URL = "coop:home"
ACCOUNT_ADAPTER = "coop.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Data Co-op] "
ACCOUNT_RATE_LIMITS = {
    # Failed logins per IP and per (IP, account); allauth counts these in the cache.
    "login_failed": env("LOGIN_FAILED_RATE", default="10/m/ip,5/5m/key"),
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("MFA_TOTP_ISSUER", default="Data Co-op")
MFA_RECOVERY_CODE_COUNT = 10

# --- Email -------------------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Data Co-op <noreply@coop.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API --------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coop.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coop.errors.api_exception_handler",
    # JSON bodies: bounded depth, no NaN/Infinity, no NUL or lone surrogates (coop/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "coop.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    # `?format=` belongs to our export endpoints (jsonl/csv), not to DRF's renderer override.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_THROTTLE_CLASSES": ["coop.throttling.MemberRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("API_USER_RATE", default="6000/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Data Co-op API",
    "DESCRIPTION": (
        "API of a worker-owned co-operative for AI data work. Clients authenticate with "
        "`Authorization: Bearer <token>` issued to their organization; members may use "
        "personal tokens for the worker API. Errors are `{\"error\": {\"code\", \"message\", \"fields\"}}`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI assets come from drf-spectacular-sidecar, served locally (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents its error statuses with the one error shape (coop/errors.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "coop.errors.openapi_error_responses",
                           "config.openapi.openapi_error_codes"],
    # Several models have a `status`; name each choice set in the schema.
    "ENUM_NAME_OVERRIDES": {
        "MembershipStatusEnum": "coop.models.Membership.Status",
        "ProjectStatusEnum": "marketplace.models.Project.Status",
        "AssignmentStateEnum": "marketplace.models.Assignment.State",
        "AnswerStatusEnum": "marketplace.models.Answer.Status",
        "AppealStatusEnum": "marketplace.models.Answer.AppealStatus",
        "PayoutStatusEnum": "marketplace.ledger.models.Payout.Status",
        "ProposalStatusEnum": "governance.models.ProposalStatus",
        "ProposalKindEnum": "governance.models.ProposalKind",
        "TrainingRunStatusEnum": "mlops.models.TrainingRun.Status",
    },
}

# --- Static and media -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "coop" / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_STORAGE",
            default="whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage",
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- i18n --------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Security (production switches come from the environment) --------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Co-op settings -----------------------------------------------------------------------
COOP_NAME = env("COOP_NAME", default="Data Co-op")
API_TOKEN_PREFIX = "coop"
# Seconds an authenticated API token (with its user, membership and organization) is kept in the cache, so a
# request does not re-read four tables. Revoking a token, or any change to its user, membership or organization,
# drops it from the cache at commit (coop/token_cache.py). Off (0) without a shared cache: the local-memory cache
# of one process cannot be told about a revocation made in another.
API_TOKEN_CACHE_SECONDS = env.int("API_TOKEN_CACHE_SECONDS", default=30 if REDIS_URL else 0)
# Portal pieces contributed by the apps: (label, url name) for members' navigation,
# and template names of cards on the member dashboard.
# The portal's navigation by role, in a few groups; other apps' pages are named by URL name (no imports).
PORTAL_NAV: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {
    "member": [
        ("Work", [
            ("Task feed", "marketplace:feed"),
            ("My submissions", "marketplace:submissions"),
            ("My records", "marketplace:records"),
            ("Qualifications", "marketplace:qualifications"),
            ("My accuracy", "marketplace:accuracy"),
            ("Preferences", "marketplace:preferences"),
            ("Models", "mlops:models"),
        ]),
        ("Money", [
            ("Earnings", "marketplace:earnings"),
            ("Pay data", "marketplace:transparency"),
            ("Payout destination", "marketplace:payout_destination"),
            ("Benefits", "marketplace:benefits"),
            ("Benefits fund", "marketplace:benefits_fund"),
        ]),
        ("Co-op", [
            ("Proposals and votes", "governance:proposal_list"),
            ("Put a proposal forward", "governance:proposal_new"),
            ("My proxies", "governance:proxies"),
            ("Agreements", "governance:contract_list"),
            ("Governance log", "governance:log"),
            ("Membership", "coop:membership"),
            ("API tokens", "coop:tokens"),
        ]),
    ],
    "steward": [
        ("Admin", [
            ("Review queue", "marketplace:review"),
            ("Payouts", "marketplace:steward_payouts"),
            ("Benefit claims", "marketplace:steward_benefits"),
            ("Applications", "coop:steward_applications"),
            ("Members", "coop:steward_members"),
            ("Clients", "coop:organizations"),
            ("Django admin", "admin:index"),
        ]),
    ],
    "applicant": [("Co-op", [("Membership", "coop:membership")])],
}
PORTAL_MEMBER_DASHBOARD_CARDS: list[str] = ["marketplace/partials/dashboard_card.html", "governance/partials/dashboard_card.html"]

# Due process: appeals are decided by all members ("proposal") or by a randomly drawn panel ("panel").
GOVERNANCE_APPEAL_MODE = env("GOVERNANCE_APPEAL_MODE", default="proposal")
GOVERNANCE_APPEAL_DAYS = env.int("GOVERNANCE_APPEAL_DAYS", default=7)
GOVERNANCE_APPEAL_PANEL_SIZE = env.int("GOVERNANCE_APPEAL_PANEL_SIZE", default=5)

# Wellbeing: minutes of sensitive-content work a member may do per day (checked when claiming).
SENSITIVE_DAILY_CAP_MINUTES = env.int("SENSITIVE_DAILY_CAP_MINUTES", default=120)

# Fair pay: accepted answers (with recorded active time) needed before the measured median time can raise the pay.
PAY_REVIEW_MIN_ANSWERS = env.int("PAY_REVIEW_MIN_ANSWERS", default=10)

# Members who must flag a published project (pay too low, harmful, unclear) before it pauses for review.
PROJECT_FLAG_THRESHOLD = env.int("PROJECT_FLAG_THRESHOLD", default=3)

# Webhooks never go to loopback, private, link-local or metadata addresses; internal receivers are
# allowed here by host name or network (e.g. "hooks.internal,10.20.0.0/16").
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# /healthz?deep=1 (a job round trip through a worker) needs a steward or this secret in X-Healthz-Secret.
HEALTHZ_SECRET = env("HEALTHZ_SECRET", default="")

# Currencies the co-op keeps books in and projects pay in; a deposit in any other is refused.
COOP_CURRENCIES = env.list("COOP_CURRENCIES", default=["USD"])

# Largest task import accepted in one request (the body is streamed, never held in memory).
TASK_IMPORT_MAX_BYTES = env.int("TASK_IMPORT_MAX_BYTES", default=4 * 1024**3)

# --- MLOps (see README "MLOps") ---------------------------------------------------------------
# Checkpoints of training runs and registered model versions live here.
MLOPS_DIR = Path(env("MLOPS_DIR", default=str(VAR_DIR / "mlops")))
# Training defaults a run's own settings override (any mlops.ocr.TrainConfig field).
MLOPS_TRAIN_DEFAULTS = {"backbone": env("MLOPS_BACKBONE", default="eca_nfnet_l0"), "device": env("MLOPS_TRAIN_DEVICE", default="auto")}
MLOPS_TRAIN_TIME_LIMIT_S = env.int("MLOPS_TRAIN_TIME_LIMIT_S", default=6 * 3600)  # per attempt; a retry resumes
MLOPS_TRAIN_MAX_RETRIES = env.int("MLOPS_TRAIN_MAX_RETRIES", default=3)
MLOPS_TRAIN_RETRY_BACKOFF_MS = env.int("MLOPS_TRAIN_RETRY_BACKOFF_MS", default=5_000)
MLOPS_CANCEL_POLL_SECONDS = env.float("MLOPS_CANCEL_POLL_SECONDS", default=1.0)
# Quality gates: a version is promoted only at or above this held-out test sequence accuracy (and not below the promoted one's
# on the same test split) unless a steward overrides with a logged reason; the labeling screen shows a guess only this confident.
MLOPS_PROMOTE_MIN_ACCURACY = env.float("MLOPS_PROMOTE_MIN_ACCURACY", default=0.9)
MLOPS_PREFILL_MIN_CONFIDENCE = env.float("MLOPS_PREFILL_MIN_CONFIDENCE", default=0.9)
# Recovery: a running run heartbeats every MLOPS_RUN_HEARTBEAT_S; with none for MLOPS_RUN_STALE_S the scheduler re-enqueues it
# (resuming from its last checkpoint) up to MLOPS_RUN_MAX_RECOVERIES times, then fails it with the reason.
MLOPS_RUN_HEARTBEAT_S = env.float("MLOPS_RUN_HEARTBEAT_S", default=15.0)
MLOPS_RUN_STALE_S = env.int("MLOPS_RUN_STALE_S", default=300)
MLOPS_RUN_MAX_RECOVERIES = env.int("MLOPS_RUN_MAX_RECOVERIES", default=3)
# Start a run when a client's OCR projects gather this many new accepted labels (0: never).
MLOPS_AUTO_TRAIN_NEW_LABELS = env.int("MLOPS_AUTO_TRAIN_NEW_LABELS", default=0)
MLOPS_AUTO_TRAIN_CONFIG = env.json("MLOPS_AUTO_TRAIN_CONFIG", default={})
MLOPS_INFERENCE_DEVICE = env("MLOPS_INFERENCE_DEVICE", default="cpu")
MLOPS_INFERENCE_BATCH_SIZE = env.int("MLOPS_INFERENCE_BATCH_SIZE", default=64)
MLOPS_MODEL_CACHE_SIZE = env.int("MLOPS_MODEL_CACHE_SIZE", default=2)
OCR_PREDICT_MAX_IMAGES = env.int("OCR_PREDICT_MAX_IMAGES", default=256)
OCR_PREDICT_MAX_IMAGE_BYTES = env.int("OCR_PREDICT_MAX_IMAGE_BYTES", default=2 * 1024 * 1024)
# A multipart predict may carry OCR_PREDICT_MAX_IMAGES files (Django's default cap is 100 files per request).
DATA_UPLOAD_MAX_NUMBER_FILES = max(100, OCR_PREDICT_MAX_IMAGES)
# What a client pays per prediction (USD, 4 decimals) when its DUA carries a data dividend (revenue share).
OCR_PREDICTION_PRICE = Decimal(env("OCR_PREDICTION_PRICE", default="0.0010"))
