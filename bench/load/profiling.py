"""Where a request's time goes, per view: `load_bench.py --profile` only (config.settings.bench adds it).

For every request: the route, the status, the total time in the view stack, the number of SQL
queries and their time (connection.execute_wrapper), the statements themselves with their time,
and the dashboard charts drawn (reports.charts) and how long that took.
One JSON line per request, into a file per gunicorn worker under SCR_BENCH_PROFILE_DIR;
load_bench.py sums them per route and per statement (numbers replaced by `N`).
"""

import json
import os
import re
import threading
import time
from pathlib import Path

from django.db import connection

_local = threading.local()


def _count_chart_drawing() -> None:
    """Time the dashboard's chart drawing (reports.charts) inside the request."""
    from reports import charts

    for name in ("cumulative_enrollment", "enrollment_by_site", "aes_by_grade"):
        original = getattr(charts, name)
        if getattr(original, "_bench_wrapped", False):
            continue

        def draw(*args, _original=original, **kwargs):
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                _local.draws = getattr(_local, "draws", 0) + 1
                _local.draw_ms = getattr(_local, "draw_ms", 0.0) + (time.perf_counter() - started) * 1000

        draw._bench_wrapped = True
        setattr(charts, name, draw)


_NUMBERS = re.compile(r"\b\d+\b")
_IN_LISTS = re.compile(r"IN \((?:N, )+N\)")


def normalize(sql: str) -> str:
    return _IN_LISTS.sub("IN (N, …)", _NUMBERS.sub("N", sql))


class QueryProfileMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        folder = Path(os.environ.get("SCR_BENCH_PROFILE_DIR", "bench/results/profile"))
        folder.mkdir(parents=True, exist_ok=True)
        self.out = open(folder / f"worker-{os.getpid()}.jsonl", "a", buffering=1)  # noqa: SIM115 — open for the worker's life
        self.lock = threading.Lock()
        _count_chart_drawing()

    def __call__(self, request):
        queries = []

        def record(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                queries.append((normalize(sql), (time.perf_counter() - started) * 1000))

        _local.draws, _local.draw_ms = 0, 0.0
        started = time.perf_counter()
        with connection.execute_wrapper(record):
            response = self.get_response(request)
        total = (time.perf_counter() - started) * 1000
        match = getattr(request, "resolver_match", None)
        route = f"{request.method} /{match.route}" if match else f"{request.method} {request.path}"
        line = json.dumps(
            {
                "route": route,
                "status": response.status_code,
                "ms": total,
                "queries": len(queries),
                "sql_ms": sum(ms for _sql, ms in queries),
                "charts_drawn": _local.draws,
                "draw_ms": _local.draw_ms,
                "statements": queries,
            }
        )
        with self.lock:  # gthread workers: one line at a time
            self.out.write(line + "\n")
        return response
