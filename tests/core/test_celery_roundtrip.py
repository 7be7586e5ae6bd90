"""A task goes through the real Redis broker to a real worker process and back."""

import pytest

from scr_escc.tasks import ping

pytestmark = pytest.mark.worker


def test_task_round_trips_through_redis_and_a_worker(celery_worker_process):
    result = ping.delay("hello")
    assert result.get(timeout=30) == "pong:hello"
