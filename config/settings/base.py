"""Settings shared by every environment. Everything that differs comes from the environment."""

import urllib.parse
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-only-not-secret-" + "x" * 40)
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The secret of allocation-list fingerprints (HMAC); derived from SECRET_KEY when not set.
ALLOCATION_FINGERPRINT_KEY = env("ALLOCATION_FINGERPRINT_KEY", default="")
# The secret of the per-participant date shifts in de-identified exports; derived from SECRET_KEY when not set.
DEIDENTIFICATION_KEY = env("DEIDENTIFICATION_KEY", default="")
# The address people use to reach the site; alert emails link to it.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_tables2",
    "django_filters",
    "rest_framework",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "drf_spectacular_sidecar",
    "csp",
    "drf_spectacular",
    "simple_history",
    "axes",
    "scr_escc",
    "enrollment",
    "safety",
    "randomization",
    "deviations",
    "efficacy",
    "reports",
    "monitoring",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "scr_escc.middleware.UserLanguageMiddleware",
    "scr_escc.middleware.AccountGateMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "scr_escc.middleware.ApiErrorMiddleware",
    # axes last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "scr_escc.context_processors.trial",
            ],
        },
    },
]


def _database_from_env() -> dict:
    config = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/scr_escc")
    # A Unix-socket directory arrives percent-encoded in the host part of the URL
    # (postgres://user@%2Fpath%2Fto%2Fsocket:5432/db); libpq wants the plain path.
    config["HOST"] = urllib.parse.unquote(config.get("HOST") or "")
    config["ATOMIC_REQUESTS"] = False
    # Each web thread keeps its connection for a minute (checked before reuse): opening one per
    # request cost PostgreSQL more CPU than the queries themselves (bench/load_bench.py).
    config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: it suits long analytic queries, and cost this app's 10–300 ms page
    # queries up to 200 ms of compiling each (measured on the dashboard).
    # Added to any `options` the URL gives. (Behind PgBouncer, which refuses startup options,
    # set it on the database instead: ALTER DATABASE … SET jit = off.)
    options = config.setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    return config


DATABASES = {"default": _database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "scr_escc.User"
AUTHENTICATION_BACKENDS = [
    # axes first, so a locked-out user never reaches the password check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Idle timeout: 30 minutes without a request ends the session.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# django-axes: 5 failures (sign-in or e-signature) lock the account for 30 minutes, from any
# address (never a whole hospital behind one proxy); a successful sign-in resets the count.
AXES_FAILURE_LIMIT = 5
# Per account across addresses: guessing a PI's password from many machines locks it too.
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "scr_escc.middleware.lockout_response"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
FORMAT_MODULE_PATH = ["scr_escc.formats"]
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# Email: EMAIL_URL like smtp://user:pass@host:port, consolemail://, filemail:///path.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="SCR-ESCC-01 trial manager <no-reply@scr-escc.invalid>")
EMAIL_TIMEOUT = 10

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Shared by every web process (API throttles): Redis, the broker's server.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
# Results are kept only for tasks that ask (the health-check ping); alerts record their own state.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Far above any retry wait, so Redis never redelivers a task that is merely waiting.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Publishing from a request must never hang on a dead broker: the outbox row is
# already committed and the beat sweeper will enqueue it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# Waits between alert delivery attempts: far below Redis's visibility_timeout (3600 s), so a
# waiting retry is never redelivered as if lost.
ALERT_RETRY_BACKOFF_SECONDS = env.list("ALERT_RETRY_BACKOFF_SECONDS", cast=int, default=[10, 30, 60, 120, 300, 600])
CELERY_BEAT_SCHEDULE = {
    # Re-sends alerts still unsent (broker was down, worker crashed, mail server failing).
    "sweep-alerts": {"task": "scr_escc.tasks.sweep_alerts", "schedule": 60.0},
    # Recounts the stopping rule from the AE rows; alerts on (and applies) any difference.
    "reconcile-stopping-rule": {"task": "safety.tasks.reconcile_stopping_rule", "schedule": 600.0},
    # Automatic data queries that come with time, and each site's digest of its old open queries.
    "daily-monitoring": {"task": "monitoring.tasks.daily_monitoring", "schedule": crontab(hour=7, minute=30)},
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "scr_escc.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "scr_escc.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_CLASSES": ["scr_escc.throttles.WriteThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": "10/min", "writes": "240/min"},
}
# API tokens (django-rest-knox): hashed at rest; 30 idle minutes like a session, at most 12 hours.
REST_KNOX = {
    "TOKEN_TTL": timedelta(minutes=30),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(hours=12),
    "MIN_REFRESH_INTERVAL": 60,
    "TOKEN_LIMIT_PER_USER": 10,
    "AUTH_HEADER_PREFIX": "Token",
}
OTP_TOTP_ISSUER = "SCR-ESCC-01"
# Content-Security-Policy: our own scripts only (no inline script, no CDN).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
SPECTACULAR_SETTINGS = {
    "TITLE": "SCR-ESCC-01 trial manager API",
    "DESCRIPTION": "JSON API of the SCR-ESCC-01 (NCT05978193) trial management system.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # One enum for the attribution scale, however many interventions use it.
    "ENUM_NAME_OVERRIDES": {
        "AttributionEnum": "safety.models.Attribution",
        "ImagingMethodEnum": "efficacy.models.Method",
        "ContactMethodEnum": "efficacy.models.ContactMethod",
    },
    # Swagger UI from our own static files (drf-spectacular-sidecar), never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
