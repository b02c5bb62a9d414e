"""Continuum settings: one module, every deployment difference read from the environment.

The embedded default (no variables set) is a single machine: SQLite file, Celery eager,
keys generated once into ``var/keys.json``. Production sets ``DATABASE_URL``,
``CELERY_BROKER_URL``, ``DJANGO_SECRET_KEY``, ``DJANGO_ALLOWED_HOSTS`` and ``CONTINUUM_KEYS``
and turns ``DJANGO_DEBUG`` off; with those set ``manage.py check --deploy`` is clean.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONTINUUM_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int(name: str, default: int, *, minimum: int = 1) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be {minimum} or more")
    return number


DEBUG = env_bool("DJANGO_DEBUG", default=True)

_secret = os.environ.get("DJANGO_SECRET_KEY")
if not _secret:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    # Development only: sessions and CSRF tokens; never used for data keys (CONTINUUM_KEYS).
    _secret = "django-insecure-continuum-development-only-not-for-production"  # noqa: S105
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "core",
    "audit",
    "services_directory",
    "referral",
    "coordination",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "core.middleware.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "core.middleware.TextRuleMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After authentication: the member's saved language, else Accept-Language, else the
    # task force's default (config.locale).
    "config.locale.MemberLocaleMiddleware",
    # A session of a user who must use a second factor reaches only the enrolment page
    # until the second factor is verified.
    "services_directory.middleware.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.cache_control.NoStoreMiddleware",
    # Last: turns a sign-in that django-axes refused into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "config.web.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'continuum.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the single writer; IMMEDIATE transactions take the write
    # lock up front so concurrent writers wait (busy timeout) instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # One file per test process: parallel runs (a developer and CI) never share one.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a locked username/client pair before any password is checked.
    "core.lockout.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous users have no access.

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The eight languages of the pages, each named in itself (the switcher shows these names).
# A ninth: add it here, then see "Languages" in the README.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("pt", "Português"),
    ("el", "Ελληνικά"),
    ("ar", "العربية"),
    ("sw", "Kiswahili"),
]
LANGUAGES_BIDI = ["ar"]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers in each language's own format (Django's); English as config/formats/en.
FORMAT_MODULE_PATH = ["config.formats"]
# The switcher's choice for a visitor not signed in (members keep theirs on their membership).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = os.environ.get("CONTINUUM_TIME_ZONE", "UTC")

# What ``manage.py seed_demo`` adds after the directory and the users (dotted paths of
# functions taking no argument and returning how many rows they made): the apps above the
# directory contribute their demo data without the directory importing them.
CONTINUUM_DEMO_SEEDERS = ["coordination.demo.seed_demo_activity"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
STATICFILES_DIRS = [BASE_DIR / "static"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "services_directory.authentication.DeviceTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pagination",
    # JSON only, parsed with a depth limit and the text rule (core.api.parsers).
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.StrictJSONParser"],
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    # Keyed by the real client address (core.client_address), not a header the client sets.
    "DEFAULT_THROTTLE_CLASSES": ["core.api.throttling.ScopedRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"login": os.environ.get("CONTINUUM_LOGIN_RATE", "30/min")},
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Continuum API",
    "DESCRIPTION": "Referral coordination for deflection and the continuum of care.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Error answers, strict bodies and the text rule in the document (core.api.schema).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.postprocess",
    ],
    # Swagger UI served from our own static files, never from a CDN.
    # one name for the continuum stages wherever a field takes one (stage, to_stage)
    "ENUM_NAME_OVERRIDES": {"StageEnum": "services_directory.models.Stage"},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- signing in ---------------------------------------------------------------------------
# Proxies whose X-Forwarded-For is believed (addresses or CIDRs); none by default, so the
# client address is the connection's own. Throttles, lockout and the audit trail use it.
CONTINUUM_TRUSTED_PROXIES = env_list("CONTINUUM_TRUSTED_PROXIES", [])
# Lockout (django-axes): this many failures for a username from one client lock that
# username for that client for this many minutes. Counted in the database, so every worker
# and machine sees the same count.
CONTINUUM_LOCKOUT_FAILURES = env_int("CONTINUUM_LOCKOUT_FAILURES", 5)
CONTINUUM_LOCKOUT_MINUTES = env_int("CONTINUUM_LOCKOUT_MINUTES", 15)
AXES_FAILURE_LIMIT = CONTINUUM_LOCKOUT_FAILURES
AXES_COOLOFF_TIME = timedelta(minutes=CONTINUUM_LOCKOUT_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "core.client_address.client_ip"
AXES_LOCKOUT_CALLABLE = "core.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Attempts against a lock neither count nor extend it: the lock lasts the stated period.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False
# Successful sign-ins are in the audit trail already; axes need not log them a second time.
AXES_DISABLE_ACCESS_LOG = True


# API tokens (django-rest-knox): stored as digests, one per device sign-in, valid for
# CONTINUUM_TOKEN_TTL after their last use ("30d", "12h", "90m"; a bare number is days).
def env_duration(name: str, default: str) -> timedelta:
    value = (os.environ.get(name) or default).strip().lower()
    units = {"d": "days", "h": "hours", "m": "minutes"}
    number, unit = (value[:-1], value[-1]) if value[-1:] in units else (value, "d")
    try:
        duration = timedelta(**{units[unit]: float(number)})
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be like 30d, 12h or 90m, not {value!r}") from None
    if duration <= timedelta(0):
        raise ImproperlyConfigured(f"{name} must be more than 0")
    return duration


CONTINUUM_TOKEN_TTL = env_duration("CONTINUUM_TOKEN_TTL", "30d")
KNOX_TOKEN_MODEL = "services_directory.DeviceToken"  # noqa: S105 - a model name
# knox's own migrations would make a table for its AuthToken, which our DeviceToken replaces
# (swapped out): without them no such table exists to hold a foreign key to the users.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": CONTINUUM_TOKEN_TTL,
    "AUTO_REFRESH": True,
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_MODEL": KNOX_TOKEN_MODEL,
}

# Emergency access (42 CFR Part 2 §2.51): how long a provider's "break the glass" lasts.
CONTINUUM_EMERGENCY_ACCESS_MINUTES = env_int("CONTINUUM_EMERGENCY_ACCESS_MINUTES", 60)

# The directory as HSDS 3.0 (/api/v1/hsds/): readable without an account when true, since a
# directory of services is public information; otherwise signed-in members only.
CONTINUUM_HSDS_PUBLIC = env_bool("CONTINUUM_HSDS_PUBLIC", default=False)
# Extra taxonomy terms that give an imported service its stage (services_directory.hsds.
# taxonomy.STAGE_TERMS): a JSON object of term code or name -> stage.
CONTINUUM_HSDS_STAGE_TERMS: dict[str, str] = json.loads(
    os.environ.get("CONTINUUM_HSDS_STAGE_TERMS", "{}")
)

# Two-factor sign-in (django-otp TOTP + recovery codes) for coordinators, org admins and
# superusers; on by default in production, off in the embedded demo.
CONTINUUM_2FA_REQUIRED = env_bool("CONTINUUM_2FA_REQUIRED", default=not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("CONTINUUM_2FA_ISSUER", "Continuum")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["CACHE_URL"],
    }
    if os.environ.get("CACHE_URL")
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

# Celery: unset broker = eager (tasks run inline, in-process), the embedded default.
CELERY_TASK_ALWAYS_EAGER = not os.environ.get("CELERY_BROKER_URL")
# Eager mode never connects; the in-memory transport keeps kombu from guessing a host.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_ACKS_LATE = True
# A publish to a broker that refuses connections fails at once instead of retrying inside
# the request; the outbox keeps the message and its sweep publishes it later.
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 0}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
CELERY_BEAT_SCHEDULE["audit-checkpoint"] = {
    "task": "audit.checkpoint_audit",
    "schedule": 600.0,  # every 10 minutes
}
CELERY_BEAT_SCHEDULE["device-tokens-purge"] = {
    "task": "services_directory.tasks.device_tokens_purge",
    "schedule": 24 * 3600.0,  # daily
}
CELERY_BEAT_SCHEDULE["idempotency-records-purge"] = {
    "task": "core.tasks.idempotency_records_purge",
    "schedule": 24 * 3600.0,  # daily
}
# SLA and consent expiry sweeps (coordination.expiry): idempotent, safe on several workers.
# A shorter interval is for tests and demos (tests/coordination/test_beat_integration.py).
CONTINUUM_SLA_SWEEP_SECONDS = float(os.environ.get("CONTINUUM_SLA_SWEEP_SECONDS", "300"))
if CONTINUUM_SLA_SWEEP_SECONDS <= 0:
    raise ImproperlyConfigured("CONTINUUM_SLA_SWEEP_SECONDS must be more than 0")
CELERY_BEAT_SCHEDULE["referral-sla-expiry"] = {
    "task": "coordination.tasks.referrals_expire",
    "schedule": CONTINUUM_SLA_SWEEP_SECONDS,  # every 5 minutes by default
}
CELERY_BEAT_SCHEDULE["consent-expiry"] = {
    "task": "coordination.tasks.consents_expire",
    "schedule": CONTINUUM_SLA_SWEEP_SECONDS,
}
# Transactional outbox (core.outbox): the sweep publishes messages still undelivered, a
# relayed one is relayed again if not delivered within the redelivery time (a worker died).
CONTINUUM_OUTBOX_SWEEP_SECONDS = float(os.environ.get("CONTINUUM_OUTBOX_SWEEP_SECONDS", "30"))
CONTINUUM_OUTBOX_REDELIVER_SECONDS = float(
    os.environ.get("CONTINUUM_OUTBOX_REDELIVER_SECONDS", "60")
)
# Hosts a partner's FHIR rest-hook subscription may deliver to (referral.fhir.subscriptions):
# "partner.example.org", "*.example.org" (and its subdomains), "127.0.0.1:8443". Empty: none.
CONTINUUM_FHIR_SUBSCRIPTION_HOSTS = env_list("CONTINUUM_FHIR_SUBSCRIPTION_HOSTS", [])
CONTINUUM_OUTBOX_RETENTION_DAYS = int(os.environ.get("CONTINUUM_OUTBOX_RETENTION_DAYS", "14"))
if CONTINUUM_OUTBOX_SWEEP_SECONDS <= 0 or CONTINUUM_OUTBOX_REDELIVER_SECONDS <= 0:
    raise ImproperlyConfigured(
        "CONTINUUM_OUTBOX_SWEEP_SECONDS and CONTINUUM_OUTBOX_REDELIVER_SECONDS must be more than 0"
    )
if CONTINUUM_OUTBOX_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("CONTINUUM_OUTBOX_RETENTION_DAYS must be 1 or more")
CELERY_BEAT_SCHEDULE["outbox-relay-due"] = {
    "task": "core.tasks.outbox_relay_due",
    "schedule": CONTINUUM_OUTBOX_SWEEP_SECONDS,
}
CELERY_BEAT_SCHEDULE["outbox-purge"] = {
    "task": "core.tasks.outbox_purge",
    "schedule": 24 * 3600.0,  # daily
}
# The queue tasks go to when none is named; a test worker uses a queue of its own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE") or "celery"
# Modules with tasks that autodiscovery (``<app>.tasks``) does not find.
CELERY_IMPORTS = ["coordination.rollup", "coordination.metrics_rollup"]
# Flow rollup of the finished UTC days, nightly (coordination.rollup).
CELERY_BEAT_SCHEDULE["flows-rollup-nightly"] = {
    "task": "coordination.flows_rollup_nightly",
    "schedule": crontab(hour=1, minute=30),  # 01:30 UTC (CELERY_TIMEZONE)
}
# The outcome metrics' rollup, nightly (coordination.metrics_rollup).
CELERY_BEAT_SCHEDULE["metrics-rollup-nightly"] = {
    "task": "coordination.metrics_rollup_nightly",
    "schedule": crontab(hour=2, minute=0),  # 02:00 UTC
}

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "continuum@localhost")

# Keys: CONTINUUM_KEYS (JSON) wins; else a key file generated once (development only).
CONTINUUM_KEYS = os.environ.get("CONTINUUM_KEYS", "")
CONTINUUM_KEY_FILE = Path(os.environ.get("CONTINUUM_KEY_FILE", VAR_DIR / "keys.json"))
# Generating a key file is for development only; decided here, from the environment, because
# the test runner turns DEBUG off after settings load.
CONTINUUM_GENERATE_KEYS = env_bool("CONTINUUM_GENERATE_KEYS", default=DEBUG)
# Answers stored for Idempotency-Key retries are kept this many days, then purged daily.
CONTINUUM_IDEMPOTENCY_RETENTION_DAYS = int(
    os.environ.get("CONTINUUM_IDEMPOTENCY_RETENTION_DAYS", "30")
)
if CONTINUUM_IDEMPOTENCY_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("CONTINUUM_IDEMPOTENCY_RETENTION_DAYS must be 1 or more")

# --- headers and sessions ------------------------------------------------------------------
# Content-Security-Policy (django-csp): our own scripts and styles only, nothing inline, no
# other origin; the API docs use drf-spectacular's split view, whose script is a file too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Sessions end when the browser closes (shared patrol-car laptops) and after this many idle
# minutes: each request moves the server-side expiry forward.
CONTINUUM_SESSION_IDLE_MINUTES = env_int("CONTINUUM_SESSION_IDLE_MINUTES", 30)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = CONTINUUM_SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health checks come from the load balancer over plain HTTP, behind the TLS proxy.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# The debug page and error mails hide credentials in URLs and DATABASES (config.reporting).
DEFAULT_EXCEPTION_REPORTER_FILTER = "config.reporting.ReporterFilter"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CONTINUUM_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One line per task run is noise at INFO; failures still log as errors.
        "celery.app.trace": {"level": "WARNING"},
    },
}
