import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import PASSWORD, SiteFactory, UserFactory, pass_second_factor

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sh01(db):
    return SiteFactory(code="SH01", name="Shanghai Chest Hospital")


@pytest.fixture
def sh02(db):
    return SiteFactory(code="SH02", name="Partner hospital")


@pytest.fixture
def coordinator(sh01):
    return UserFactory(username="coord1", role="coordinator", sites=[sh01])


@pytest.fixture
def coordinator_sh02(sh02):
    return UserFactory(username="coord2", role="coordinator", sites=[sh02])


@pytest.fixture
def investigator(sh01):
    return UserFactory(username="inv1", role="investigator", sites=[sh01])


@pytest.fixture
def investigator_sh02(sh02):
    return UserFactory(username="inv2", role="investigator", sites=[sh02])


@pytest.fixture
def pi(db):
    return UserFactory(username="pi", role="pi", email="pi@example.org")


@pytest.fixture
def monitor(db):
    return UserFactory(username="monitor", role="monitor")


@pytest.fixture
def admin_user(db):
    return UserFactory(username="datamanager", role="admin", email="dm@example.org")


@pytest.fixture
def password():
    return PASSWORD


def api_client_for(user) -> APIClient:
    client = APIClient()
    _instance, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def api():
    return api_client_for


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        pass_second_factor(client, user)
        return client

    return _login


@pytest.fixture
def study(db):
    from scr_escc.selectors import get_study

    return get_study()


@pytest.fixture
def smtp_sink():
    """A real SMTP server on loopback that keeps what it receives (the edge of the world)."""
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def celery_worker_process(transactional_db, smtp_sink):
    """A real Celery worker process on the real Redis, using the test database, mailing to the sink."""
    settings_dict = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    env["DATABASE_URL"] = _database_url(settings_dict)
    env["SCR_TEST_SMTP_PORT"] = str(smtp_sink.port)
    env["ALERT_RETRY_BACKOFF_SECONDS"] = "1,1,1,1,1,1"
    (ROOT / ".data").mkdir(exist_ok=True)
    log = open(ROOT / ".data" / "test-worker.log", "ab")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5)
        if replies:
            break
        if process.poll() is not None:
            raise RuntimeError("The Celery worker exited; see .data/test-worker.log")
    else:
        process.kill()
        raise RuntimeError("The Celery worker did not answer a ping in 60 s")
    yield process
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


def _database_url(settings_dict) -> str:
    from urllib.parse import quote

    host = quote(settings_dict["HOST"] or "", safe="")
    user = settings_dict["USER"] or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """API throttles count in the cache; every test starts with none used."""
    from django.core.cache import cache

    cache.clear()
    yield
