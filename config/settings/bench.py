"""The load benchmark (bench/load_bench.py): production's behaviour, served over plain HTTP on loopback.

Like production: DEBUG off, the default password hashers, Redis as the shared cache (so the
API write throttle counts across gunicorn workers), persistent database connections
(CONN_MAX_AGE, 60 s by default), the same security headers. Unlike production: a default
SECRET_KEY (the bench data are throw-away), no TLS redirect / secure-only cookies / HSTS (the
load generator talks plain HTTP to 127.0.0.1), and static files without the manifest (no
collectstatic step; the load generator fetches no static file). Warnings only in the log.
"""

from .base import *  # noqa: F403
from .base import LOGGING, env

SECRET_KEY = env("SECRET_KEY", default="bench-only-secret-key-not-for-production-0123456789abcdef")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Alerts go to the outbox table and are published to Redis; no Celery worker runs, no mail leaves.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

LOGGING["root"]["level"] = "WARNING"
# 4xx answers the benchmark expects (e.g. 409 refusals) would otherwise fill the log.
LOGGING["loggers"]["django.request"] = {"level": "ERROR"}

# `load_bench.py --profile` adds a middleware that counts queries and their time per view.
if env.bool("SCR_BENCH_PROFILE", default=False):
    MIDDLEWARE = ["bench.load.profiling.QueryProfileMiddleware", *MIDDLEWARE]  # noqa: F405
