"""Settings for the HSH Sales System: one module, driven by the environment.

Every value a deployment changes comes from an environment variable (or a `.env`
file beside manage.py); README.md lists them all. Defaults are safe for production:
DEBUG is off, SECRET_KEY must then be given, cookies are secure and HTTPS is enforced.
`make run` turns DEBUG on for a laptop.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from hsh_admin.setting_values import logging_config, money_setting

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Values already in the environment win over the file (read_env uses setdefault).
ENV_FILE = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
_HOW_TO_GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            f"SECRET_KEY must be set when DEBUG is off. Generate one with: {_HOW_TO_GENERATE}"
        )
    SECRET_KEY = "django-insecure-local-development-key-never-use-in-production"  # noqa: S105


def _weak_secret_key(key: str) -> str | None:
    """Why `key` may not sign production sessions and API tokens, or None if it may.

    Placeholders (.env.example's, Django's "django-insecure-" keys, "change me" and the
    like) are public; short or repetitive keys are guessable (the rule of Django's
    check --deploy: at least 50 characters, at least 5 distinct).
    """
    squashed = "".join(c for c in key.lower() if c.isalnum())
    placeholders = ("changeme", "replaceme", "placeholder", "insecure", "yoursecret")
    if key.startswith("django-insecure-") or any(p in squashed for p in placeholders):
        return "is a placeholder (from an example file or a tutorial), known to anyone"
    if len(key) < 50 or len(set(key)) < 5:
        return "is too weak: it needs at least 50 characters, at least 5 of them different"
    return None


if not DEBUG and (_weakness := _weak_secret_key(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"SECRET_KEY {_weakness}. Anyone who knows it can sign a login for any user. "
        f"Generate one with: {_HOW_TO_GENERATE}"
    )

# The audit chain's entries are HMAC-SHA256 with this key (core.services.audit_hash). It
# lives outside the database, so someone who can write the database cannot re-forge the
# chain. Keep it apart from database backups; changing it makes every entry unverifiable.
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default="")
if not AUDIT_HMAC_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "AUDIT_HMAC_KEY must be set when DEBUG is off (the key of the audit log's hash "
            f"chain). Generate one with: {_HOW_TO_GENERATE}"
        )
    AUDIT_HMAC_KEY = "insecure-local-development-audit-key-never-use-in-production"
elif not DEBUG and (_weakness := _weak_secret_key(AUDIT_HMAC_KEY)):
    raise ImproperlyConfigured(
        f"AUDIT_HMAC_KEY {_weakness}. Anyone who knows it can forge the audit log. "
        f"Generate one with: {_HOW_TO_GENERATE}"
    )
elif not DEBUG and AUDIT_HMAC_KEY == SECRET_KEY:
    raise ImproperlyConfigured("AUDIT_HMAC_KEY must not be the same as SECRET_KEY.")
# `manage.py audit_anchor` (and Celery beat, daily) e-mails the chain's head here.
AUDIT_ANCHOR_EMAILS = env.list("AUDIT_ANCHOR_EMAILS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "core.apps.HSHAdminConfig",  # django.contrib.admin with the HSH admin site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_celery_beat",
    "import_export",
    "simple_history",
    "reversion",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "core.apps.CoreConfig",
    "stock.apps.StockConfig",
    "sales.apps.SalesConfig",
    "billing.apps.BillingConfig",
    "reporting.apps.ReportingConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # A lost database connection is a 503 that says so, not a bare server error page.
    "core.middleware.DatabaseUnavailableMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: locks out repeated failed logins (admin and API alike).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hsh_admin.urls"
WSGI_APPLICATION = "hsh_admin.wsgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions and WAL let the dev server and an eager task share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users ----------------------------------------------------------------------------
AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out logins first
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "admin:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Locale and time ------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True
# Output formats as core.display writes them ("30 Nov 2026 14:05"); inputs unchanged.
FORMAT_MODULE_PATH = "hsh_admin.formats"

# --- Files ----------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
# Export files are private: they are served by a permission-checked view, never by URL.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Cache and Celery -----------------------------------------------------------------
# Without REDIS_URL everything runs in one process: a local cache and eager tasks.
REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # a Redis down: misses, not errors
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "hsh",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},  # never a hang
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# Jobs record their own state in the database; nobody reads Celery results.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=3600)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# A task is acknowledged after it finishes, and requeued if its worker dies mid-way.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis redelivers an unacknowledged task after visibility_timeout: keep it above the
# longest task (the hard time limit), or a long export runs twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 1800}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Imports -------------------------------------------------------------------------
# A file is imported whole or not at all; the dry run is what the confirm step shows.
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = True  # our own audit log records every rate change
# The uploaded file waits between preview and confirm in the cache (Redis when set), so
# the confirm may be served by another web server than the preview.
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
# Customer rows one rate-table import may hold: it runs in the web request, which must
# finish within gunicorn's 60 s. A larger file is refused before any row is read (split it).
RATE_IMPORT_MAX_ROWS = env.int("RATE_IMPORT_MAX_ROWS", default=5_000)

# --- Tax -------------------------------------------------------------------------------
# The sales tax's name on documents and screens (its rates: Sales > Tax rates).
TAX_NAME = env.str("TAX_NAME", default="GST")
# Whether rates include the tax (taken out of a sale's total) or not (added to it).
# Applies to sales posted after a change; posted sales keep their figures.
PRICES_INCLUDE_TAX = env.bool("PRICES_INCLUDE_TAX", default=False)

# --- History ---------------------------------------------------------------------------
# No "revert" from history anywhere: on posted documents and rate versions it would rewrite
# what was posted; master data is simply edited again (and history keeps both versions).
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Reports -------------------------------------------------------------------------
# Downloads of more rows than this run as a background export job instead.
EXPORT_SYNC_MAX_ROWS = env.int("EXPORT_SYNC_MAX_ROWS", default=50_000)
# Scheduled reports larger than this are sent as a download link, not attached.
EXPORT_EMAIL_MAX_BYTES = env.int("EXPORT_EMAIL_MAX_BYTES", default=10 * 1024 * 1024)
# A running export whose worker has not reported for this long is taken over by another.
EXPORT_JOB_STALE_SECONDS = env.int("EXPORT_JOB_STALE_SECONDS", default=300)
# The address people use to reach the admin, for links in e-mails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# --- Field API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, refusing tokens issued before a password change or log-out.
        "core.auth.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # JSON refusing absurd nesting (a 400, not a RecursionError); forms as DRF's own.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.ScopedRateThrottle"],
    # Trusted proxies in front of the app. 0: clients connect directly and are known by
    # the socket address; N: by the N-th address from the right of X-Forwarded-For (the
    # one the nearest proxy saw). Anything a client writes there itself is ignored.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "token": env.str("API_TOKEN_RATE", default="20/minute"),
        "writes": env.str("API_WRITE_RATE", default="120/minute"),
    },
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=7),
    "UPDATE_LAST_LOGIN": False,
    # Tokens carry the user's token_version (core.auth): a password change or a
    # "log out everywhere" ends every token issued before.
    "TOKEN_OBTAIN_SERIALIZER": "core.auth.TokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "core.auth.TokenRefreshSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "HSH Sales field API",
    "DESCRIPTION": "What a sales representative's handheld posts: collections, returns, "
    "sales and payments. Send an Idempotency-Key header with every POST.",
    "VERSION": "1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # OpenAPI links from a posted document to its pages (core.api.schema_links).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema_links.add_links",
    ],
    # Two choice sets share the field name "kind": each gets its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "ProductKindEnum": "stock.models.ProductKind",
        "DistributionKindEnum": "stock.models.DistributionKind",
    },
}
# Idempotency keys are kept this long (at least a day, so handhelds can retry).
IDEMPOTENCY_KEY_HOURS = 48
# Login lockout, shared by the admin login and the API's token endpoint.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# No "AXES: BEGIN ..." banner from every process at start-up; lockouts are still logged.
AXES_VERBOSE = False
# The client's address by the throttles' own rule (NUM_PROXIES above), not a header.
AXES_CLIENT_IP_CALLABLE = "core.auth.client_ip"

# --- Money ----------------------------------------------------------------------------


# The most one payment may be (a typo of 150,000,000.00 is refused, not posted).
PAYMENT_MAX_AMOUNT = money_setting(
    "PAYMENT_MAX_AMOUNT",
    env.str("PAYMENT_MAX_AMOUNT", default="10000000.00"),
    example="10000000.00",
)
# How many days before the day it is recorded a payment may be dated (received_on).
if (PAYMENT_BACKDATE_DAYS := env.int("PAYMENT_BACKDATE_DAYS", default=31)) < 0:
    raise ImproperlyConfigured("PAYMENT_BACKDATE_DAYS must be 0 or more days.")

# --- The representative's day ---------------------------------------------------------
# How long before now a document synced from a handheld may have happened (occurred_at).
if (SYNC_MAX_AGE_DAYS := env.int("SYNC_MAX_AGE_DAYS", default=7)) < 1:
    raise ImproperlyConfigured("SYNC_MAX_AGE_DAYS must be 1 or more days.")
# A cash-up short or over by more than this needs a note from the manager confirming it.
CASHUP_VARIANCE_TOLERANCE = money_setting(
    "CASHUP_VARIANCE_TOLERANCE",
    env.str("CASHUP_VARIANCE_TOLERANCE", default="0.00"),
    example="50.00",
    allow_zero=True,
)

# --- Documents ------------------------------------------------------------------------
# The seller on every tax invoice, credit note and receipt (billing.services.documents).
COMPANY_NAME = env.str("COMPANY_NAME", default="HSH Gas Distributors")
# Lines separated by "\n" in the variable, e.g. "12 Harbour Road\nColombo 01".
COMPANY_ADDRESS = env.str("COMPANY_ADDRESS", default="").replace("\\n", "\n")
COMPANY_TAX_ID = env.str("COMPANY_TAX_ID", default="")
# Printed before amounts on documents ("LKR 12,500.00"); empty: the amount alone.
CURRENCY = env.str("CURRENCY", default="")
# Requests to the public document check (/verify/...) one address may make per minute.
VERIFY_RATE_PER_MINUTE = env.int("VERIFY_RATE_PER_MINUTE", default=30)

# --- E-mail ---------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url(
    "EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25"
)
globals().update(EMAIL_CONFIG)  # EMAIL_BACKEND, EMAIL_HOST, ...
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="HSH Sales <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The outbox (documents e-mailed to customers): a message is tried this many times, a
# minute apart and doubling (at most 6 h), before it is FAILED and shown so. A worker
# holds a message it is sending for OUTBOX_LEASE_SECONDS; if it dies, another takes the
# message over after that (the mail server's timeout is a third of it).
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_LEASE_SECONDS = env.int("OUTBOX_LEASE_SECONDS", default=300)

# --- Security -------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # container healthchecks speak plain HTTP
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    # Only behind a proxy that sets this header itself (and strips it from clients).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Logging --------------------------------------------------------------------------
LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))
