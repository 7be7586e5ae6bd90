"""Benchmark: 50 people at once on the trial manager, then 16 writers of AEs (locust, headless, gunicorn).

    make bench                                          # this one, then bench/export_bench.py
    make bench ARGS="bench/load_bench.py"               # this one alone
    make bench ARGS="bench/load_bench.py --mix-seconds 30 --writer-seconds 30 --think 1,3"
    make bench ARGS="bench/load_bench.py --profile"     # + queries and SQL time per view

Runs on the embedded cluster of `make bench` (.data/bench), with its WAL synced as in
production (config.devstack turns fsync back on for this benchmark), in databases of its own:
`load_seed`, built once by `python -m bench.load.data seed` (3 sites, 2,000 participants, 20,000
AEs, the users of every role, the study randomizing with an active allocation list) and rebuilt
when that file or the set of migrations changes, or with --reseed; and `load`, a fresh copy of it
for every run (CREATE DATABASE … TEMPLATE, under a second), so every run starts from the same
data. The `bench` database of bench/export_bench.py is never touched.

Then, against gunicorn serving config.settings.bench (DEBUG off, Redis cache, production's
middleware, hashers and persistent database connections) on a free local port, it runs three
phases, one locust process each, each after waiting (≤ --quiet-wait s) for an idle machine:

  * mix: 50 people (24 site staff writing and reading, 6 dashboard sessions of the PI and the
    data manager, 20 monitors reading lists and the list API), each pausing 1–5 s (uniform,
    locust's usual think time) before every step: about 18 requests a second;
  * writers: 16 site staff recording AEs through the API, each starting a new one 1 s (drawn
    from 0.5–1.5 s) after the previous one started: 16 writes a second, the target's condition;
  * stress (no target): the same 16 writers every 0.3 s (0.15–0.45 s): about 50 writes a second,
    near the API's throttle of 240 writes a minute per user; the 2 cores are then 90–100% busy,
    so this phase shows where the machine saturates, not locking.

Each phase's first --warmup-seconds are not counted. Percentiles are exact (nearest rank) over
every request of the measured window. Errors: every answer other than the one the step expects
(a declared refusal, e.g. 409 on randomize, is counted apart); 5xx are also shown on their own.
Prints Markdown tables (and the CPU each side used) and writes bench/results/load.json. See
bench/load/locustfile.py for what each person does.

gunicorn: 3 workers × 4 threads (gthread) by default. Python runs one thread at a time per
process (the GIL), so 2 cores need at least 2 processes, and a third keeps a core busy while a
long page (the dashboard) holds one; the threads overlap the waits on PostgreSQL (queries, row
locks, commits). Measured on 2 cores, mix with 2–8 s pauses: p95 250 ms with 3×4 against 277 ms
with 2×4 and 278 ms with 4 sync workers; writers at saturation: 50.4 writes/s (p95 338 ms) with
3×4, 50.6/s (347 ms) with 2×4, 48.6/s (364 ms, CPU 100%) with 4 sync workers. Keep-alive is 75 s,
longer than any pause of a simulated person (gunicorn's 2 s default made POSTs fail, unanswered,
on connections it closed in the very moment a client reused them).
"""

import argparse
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
SETTINGS = "config.settings.bench"
DATA_SCRIPT = ROOT / "bench" / "load" / "data.py"
LOCUSTFILE = ROOT / "bench" / "load" / "locustfile.py"
TICK = os.sysconf("SC_CLK_TCK")

# What each target is measured on: names as in the tables.
DASHBOARD = ("GET /dashboard/", "GET /dashboard/?site=")
LIST_PAGES = ("GET /participants/", "GET /screenings/", "GET /adverse-events/")
LIST_API = (
    "GET /api/v1/participants/",
    "GET /api/v1/screenings/",
    "GET /api/v1/participants/{subject_id}/adverse-events/",
)
AE_WRITE = "POST /api/v1/participants/{subject_id}/adverse-events/"


# --- databases --------------------------------------------------------------------------------


def _parse(url: str) -> dict:
    """postgres://user[:password]@host[:port]/name; the host may be a percent-encoded socket directory."""
    parts = urllib.parse.urlsplit(url)
    userinfo, _sep, hostport = parts.netloc.rpartition("@")
    user, _sep, password = userinfo.partition(":")
    host, _sep, port = hostport.rpartition(":") if hostport.count(":") == 1 else (hostport, "", "")
    return {
        "user": urllib.parse.unquote(user) or None,
        "password": urllib.parse.unquote(password) or None,
        "host": urllib.parse.unquote(host) or None,
        "port": port or None,
        "dbname": parts.path.lstrip("/"),
    }


def _with_database(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _admin_connection(url: str):
    """An autocommit connection (CREATE DATABASE) with whichever driver Django uses here."""
    try:
        import psycopg as driver
    except ImportError:
        import psycopg2 as driver
    connection = driver.connect(**{k: v for k, v in _parse(url).items() if v is not None})
    connection.autocommit = True
    return connection


def _seed_marker() -> str:
    """Changes whenever the seeding code or the set of migrations does: the template is then rebuilt
    (a copy could be migrated instead, but the template's statistics would miss the new indexes)."""
    digest = hashlib.sha256(DATA_SCRIPT.read_bytes())
    for migration in sorted(ROOT.glob("*/migrations/0*.py")):
        digest.update(str(migration.relative_to(ROOT)).encode())
    return "scr-load " + digest.hexdigest()[:16]


def _run_python(args: list[str], *, env: dict, what: str) -> None:
    result = subprocess.run([PYTHON, *args], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(f"load bench: {what} failed (exit {result.returncode})")


def prepare_databases(base_url: str, *, name: str, reseed: bool, env: dict) -> str:
    """The template `<name>_seed` (built when missing or outdated), and `<name>` a fresh copy of it."""
    seed_name = f"{name}_seed"
    if name == _parse(base_url)["dbname"] or seed_name == _parse(base_url)["dbname"]:
        sys.exit(f"load bench: --database {name} would replace the database of DATABASE_URL")
    admin = _admin_connection(base_url)
    with admin.cursor() as cursor:
        cursor.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [seed_name])
        row = cursor.fetchone()
        if reseed or row is None or row[0] != _seed_marker():
            started = time.perf_counter()
            print(f"load bench: building the template database {seed_name}…", flush=True)
            cursor.execute(f'DROP DATABASE IF EXISTS "{seed_name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{seed_name}"')
            try:
                _run_python(
                    ["-m", "bench.load.data", "seed"],
                    env={**env, "DATABASE_URL": _with_database(base_url, seed_name)},
                    what="seeding",
                )
            except SystemExit:
                cursor.execute(f'DROP DATABASE IF EXISTS "{seed_name}" WITH (FORCE)')
                raise
            cursor.execute(f"COMMENT ON DATABASE \"{seed_name}\" IS '{_seed_marker()}'")
            print(f"load bench: template built in {time.perf_counter() - started:.0f} s", flush=True)
        started = time.perf_counter()
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{seed_name}"')
        print(f"load bench: fresh copy {name} of {seed_name} in {time.perf_counter() - started:.1f} s", flush=True)
    admin.close()
    return _with_database(base_url, name)


# --- the server -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(*, port: int, workers: int, threads: int, env: dict, log: Path) -> subprocess.Popen:
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-tmp-dir",
        "/dev/shm" if Path("/dev/shm").is_dir() else "/tmp",  # noqa: S108 — gunicorn's heartbeat files
        "--timeout",
        "60",
        "--graceful-timeout",
        "10",
        # Longer than any pause of a simulated person (see the module's docstring).
        "--keep-alive",
        "75",
        "--log-level",
        "warning",
        "--error-logfile",
        str(log),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"load bench: gunicorn exited (see {log})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as answer:  # noqa: S310
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    stop(server)
    sys.exit(f"load bench: gunicorn did not answer within 60 s (see {log})")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def warm_up(port: int, users: dict, rounds: int) -> None:
    """Every worker imports its views and templates before anything is measured."""
    pi, monitor = users["dashboard"][0], users["monitor"][0]
    subject = next(iter(users["participants"].values()))[0][0]
    paths = [
        (pi, "/dashboard/"),
        (monitor, "/participants/"),
        (monitor, "/screenings/"),
        (monitor, "/adverse-events/"),
        (monitor, f"/participants/{subject}/"),
        (monitor, "/api/v1/participants/"),
        (monitor, "/api/v1/screenings/"),
        (monitor, f"/api/v1/participants/{subject}/adverse-events/"),
    ]
    for _ in range(rounds):
        for creds, path in paths:
            headers = {"Cookie": f"sessionid={creds['session']}; csrftoken={creds['csrf']}"}
            if path.startswith("/api/"):
                headers = {"Authorization": f"Token {creds['token']}"}
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                if answer.status != 200:
                    sys.exit(f"load bench: warm-up {path} answered {answer.status}")


# --- CPU accounting ---------------------------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return [text[: text.rindex(")") + 1], *text[text.rindex(")") + 2 :].split()]


def _processes() -> dict[int, list[str]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))) is not None:
            found[int(entry.name)] = fields
    return found


def postmaster_pid(url: str) -> int | None:
    """The PostgreSQL server of the benchmark (not another cluster on the machine), if it runs here."""
    connection = _admin_connection(url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
        fields = _proc_stat(backend)
    connection.close()
    return int(fields[2]) if fields else None


def cpu_seconds(server_pid: int, postmaster: int | None) -> dict[str, float]:
    """CPU time used so far by the web server (master and workers) and by PostgreSQL (the
    postmaster, its live children, and those already ended, which it reaped)."""
    processes = _processes()
    # /proc/PID/stat after "pid (name)": [1] state, [2] ppid, [12] utime, [13] stime, [14] cutime, [15] cstime
    own = {pid: (int(f[12]) + int(f[13])) / TICK for pid, f in processes.items()}
    reaped = {pid: (int(f[14]) + int(f[15])) / TICK for pid, f in processes.items()}
    parent = {pid: int(f[2]) for pid, f in processes.items()}
    web = [server_pid, *(pid for pid in processes if parent[pid] == server_pid)]
    postgres = [postmaster, *(pid for pid in processes if parent[pid] == postmaster)] if postmaster else []
    return {
        "web": sum(own.get(pid, 0) for pid in web),
        "postgres": sum(own.get(pid, 0) for pid in postgres) + reaped.get(postmaster, 0),
        "machine_busy": _machine_busy(),
    }


def _machine_busy() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / TICK


def wait_for_quiet(max_wait: int, *, threshold: float = 0.15, window: float = 5.0) -> float:
    """Wait (at most `max_wait` s) until the machine is idle enough to measure: other work on the
    same 2 cores (a test suite, another benchmark) would be measured as our latency.
    Returns the busy share of the last window."""
    deadline = time.monotonic() + max_wait
    told = False
    while True:
        before = _machine_busy()
        time.sleep(window)
        busy = (_machine_busy() - before) / (window * (os.cpu_count() or 1))
        if busy < threshold or time.monotonic() >= deadline:
            if busy >= threshold:
                print(f"load bench: the machine is still {busy:.0%} busy; measuring anyway", flush=True)
            return busy
        if not told:
            print(f"load bench: the machine is {busy:.0%} busy with other work; waiting ≤ {max_wait} s…", flush=True)
            told = True


# --- a phase ----------------------------------------------------------------------------------


def run_phase(phase: dict, *, host: str, env: dict, server_pid: int, postmaster: int | None, warmup: int) -> dict:
    samples_path = RESULTS / f"load-{phase['name']}-samples.json"
    samples_path.unlink(missing_ok=True)
    command = [
        PYTHON,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        host,
        "--users",
        str(phase["users"]),
        "--spawn-rate",
        str(phase["spawn_rate"]),
        "--run-time",
        f"{warmup + phase['seconds']}s",
        "--stop-timeout",
        "5",
        "--only-summary",
        "--loglevel",
        "WARNING",
        *phase["classes"],
    ]
    print(
        f"load bench: phase {phase['name']}: {phase['users']} users, {warmup} s warm-up + {phase['seconds']} s…",
        flush=True,
    )
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before = cpu_seconds(server_pid, postmaster)
    with open(RESULTS / f"locust-{phase['name']}.log", "w") as log:
        phase_env = {**env, **phase["env"], "SCR_LOAD_SAMPLES": str(samples_path)}
        subprocess.run(command, cwd=ROOT, env=phase_env, stdout=log, stderr=log)
    after = cpu_seconds(server_pid, postmaster)
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not samples_path.exists():
        sys.exit(f"load bench: locust wrote no samples (see {RESULTS / ('locust-' + phase['name'] + '.log')})")
    recorded = json.loads(samples_path.read_text())
    samples = recorded["samples"]
    if not samples:
        sys.exit("load bench: locust made no request")
    start = min(s[0] for s in samples) + warmup
    end = start + phase["seconds"]
    measured = [s for s in samples if start <= s[0] < end]
    wall = max(s[0] for s in samples) - min(s[0] for s in samples)
    locust_cpu = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime
    )
    cpu = {
        "web_s": after["web"] - before["web"],
        "postgres_s": after["postgres"] - before["postgres"],
        "locust_s": locust_cpu,
        "machine_busy_s": after["machine_busy"] - before["machine_busy"],
        "other_s": (after["machine_busy"] - before["machine_busy"])
        - (after["web"] - before["web"])
        - (after["postgres"] - before["postgres"])
        - locust_cpu,
        "wall_s": wall,
        "cores": os.cpu_count(),
    }
    return {
        **summarize(measured, phase["seconds"]),
        "cpu": cpu,
        "warmup_requests": len(samples) - len(measured),
        "error_examples": [e for e in recorded["errors"] if start <= e[0] < end][:10],
    }


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(p / 100 * len(sorted_values)) - 1)]


def _stats(rows: list, seconds: float) -> dict:
    times = sorted(r[2] for r in rows)
    errors = [r for r in rows if r[4] == "error"]
    statuses: dict[str, int] = defaultdict(int)
    for r in errors:
        statuses[str(r[3])] += 1
    return {
        "requests": len(rows),
        "per_second": len(rows) / seconds,
        "errors": len(errors),
        "errors_5xx": sum(1 for r in rows if r[3] >= 500),
        "refused": sum(1 for r in rows if r[4] == "refused"),
        "error_statuses": dict(statuses),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "p99_ms": percentile(times, 99),
        "max_ms": times[-1] if times else math.nan,
        "mean_ms": sum(times) / len(times) if times else math.nan,
    }


def summarize(rows: list, seconds: float) -> dict:
    by_name = defaultdict(list)
    for row in rows:
        by_name[row[1]].append(row)
    return {
        "all": _stats(rows, seconds),
        "by_name": {name: _stats(by_name[name], seconds) for name in sorted(by_name)},
    }


# --- profile (--profile) ----------------------------------------------------------------------


def read_profile(folder: Path, top: int) -> dict:
    routes: dict[str, dict] = defaultdict(
        lambda: {"n": 0, "ms": [], "queries": 0, "sql_ms": 0.0, "draws": 0, "draw_ms": 0.0, "sql": {}}
    )
    for path in folder.glob("worker-*.jsonl"):
        for line in path.read_text().splitlines():
            row = json.loads(line)
            route = routes[row["route"]]
            route["n"] += 1
            route["ms"].append(row["ms"])
            route["queries"] += row["queries"]
            route["sql_ms"] += row["sql_ms"]
            route["draws"] += row.get("charts_drawn", 0)
            route["draw_ms"] += row.get("draw_ms", 0.0)
            for sql, ms in row["statements"]:
                count, total = route["sql"].get(sql, (0, 0.0))
                route["sql"][sql] = (count + 1, total + ms)
    result = {}
    for name, route in sorted(routes.items(), key=lambda item: -sum(item[1]["ms"])):
        statements = sorted(route["sql"].items(), key=lambda item: -item[1][1])[:top]
        times = sorted(route["ms"])
        result[name] = {
            "requests": route["n"],
            "mean_ms": sum(times) / route["n"],
            "p95_ms": percentile(times, 95),
            "queries_per_request": route["queries"] / route["n"],
            "sql_ms_per_request": route["sql_ms"] / route["n"],
            "charts_drawn_per_request": route["draws"] / route["n"],
            "chart_ms_per_request": route["draw_ms"] / route["n"],
            "top_statements": [
                {"sql": sql, "per_request": count / route["n"], "ms_per_request": total / route["n"]}
                for sql, (count, total) in statements
            ],
        }
    return result


# --- report -----------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def phase_table(title: str, result: dict) -> list[str]:
    lines = [
        f"| {title} | requests | req/s | errors | 5xx | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def row(name, s, bold=False):
        b = "**" if bold else ""
        refused = f" (+{s['refused']} refused)" if s["refused"] else ""
        return (
            f"| {b}{name}{b} | {s['requests']:,} | {s['per_second']:.1f} | {s['errors']}{refused} | "
            f"{s['errors_5xx']} | {_ms(s['p50_ms'])} | {_ms(s['p95_ms'])} | {_ms(s['p99_ms'])} | {_ms(s['max_ms'])} |"
        )

    for name, stats in result["by_name"].items():
        lines.append(row(name, stats))
    lines.append(row("all requests", result["all"], bold=True))
    return lines


def _worst(result: dict, names) -> tuple[str, float]:
    present = [(name, result["by_name"][name]["p95_ms"]) for name in names if name in result["by_name"]]
    return max(present, key=lambda item: item[1]) if present else ("—", math.nan)


def targets(results: dict) -> list[dict]:
    rows = []
    mix, writers = results.get("mix"), results.get("writers")
    errors = sum(r["all"]["errors"] for r in results.values() if isinstance(r, dict) and "all" in r)
    rows.append({"target": "zero errors (every phase)", "measured": f"{errors} errors", "met": errors == 0})
    for phase, result in (("one reader alone", results.get("solo")), ("in the 50-person mix", mix)):
        if not result:
            continue
        for label, names, limit in (
            ("PI dashboard p95 < 150 ms", DASHBOARD, 150),
            ("list pages p95 < 100 ms (each)", LIST_PAGES, 100),
            ("list API p95 < 100 ms (each)", LIST_API, 100),
        ):
            name, p95 = _worst(result, names)
            rows.append({"target": f"{label}, {phase}", "measured": f"worst: {name} {_ms(p95)} ms", "met": p95 < limit})
    if mix:
        p95 = mix["all"]["p95_ms"]
        rows.append(
            {
                "target": f"{results['settings']['users']} users in the mix p95 < 300 ms",
                "measured": f"{_ms(p95)} ms",
                "met": p95 < 300,
            }
        )
    if writers and AE_WRITE in writers["by_name"]:
        p95 = writers["by_name"][AE_WRITE]["p95_ms"]
        rows.append(
            {
                "target": f"AE write p95 < 100 ms at {results['settings']['writers']} writers",
                "measured": f"{_ms(p95)} ms",
                "met": p95 < 100,
            }
        )
    return rows


def machine(base_url: str) -> dict:
    memory = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), platform.processor())
    connection = _admin_connection(base_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(",")[0]
        cursor.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit')")
        fsync, synchronous_commit = cursor.fetchone()
    connection.close()
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "ram_gib": round(int(memory) / 2**20, 1),
        "postgres": version,
        "postgres_fsync": fsync,
        "postgres_synchronous_commit": synchronous_commit,
        "python": platform.python_version(),
        "locust": importlib.metadata.version("locust"),
        "kernel": platform.release(),
    }


def report(results: dict) -> None:
    s, m = results["settings"], results["machine"]
    print()
    print(
        f"Load benchmark, {results['date']}: {m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB, {m['postgres']} "
        f"(fsync {m['postgres_fsync']}, synchronous_commit {m['postgres_synchronous_commit']}), Python {m['python']}, "
        f"locust {m['locust']}; gunicorn {s['gunicorn']}; data: {s['data']}."
    )
    for phase in ("solo", "mix", "writers", "stress"):
        if phase not in results:
            continue
        r = results[phase]
        cpu = r["cpu"]
        busy = cpu["machine_busy_s"] / (cpu["wall_s"] * cpu["cores"]) if cpu["wall_s"] else math.nan
        print()
        print(f"### {s['phases'][phase]}")
        print()
        print("\n".join(phase_table("request", r)))
        print()
        print(
            f"CPU over the phase ({cpu['wall_s']:.0f} s incl. warm-up): machine {busy:.0%} busy; web "
            f"{cpu['web_s']:.0f} s, PostgreSQL {cpu['postgres_s']:.0f} s, locust {cpu['locust_s']:.0f} s, "
            f"other processes {cpu['other_s']:.0f} s of CPU."
        )
        if cpu["other_s"] > 0.1 * cpu["wall_s"] * cpu["cores"]:
            print("WARNING: other processes used over 10% of the machine during this phase: rerun on a quiet machine.")
        if r["all"]["errors"]:
            print(f"Error statuses: {r['all']['error_statuses']}; the first ones:")
            for _at, name, status, exception, body in r["error_examples"][:5]:
                print(f"  {name} → {status or 'no answer'}: {exception} {body[:200]}")
    print()
    print("| target | measured | met |")
    print("|---|---|---|")
    for row in results["targets"]:
        print(f"| {row['target']} | {row['measured']} | {'yes' if row['met'] else '**no**'} |")
    if "profile" in results:
        print()
        print("### Profile (--profile): time inside Django per route, over the whole run (warm-ups included)")
        print()
        print("| route | requests | mean ms | p95 ms | queries | SQL ms | charts drawn | chart ms |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for route, p in results["profile"].items():
            print(
                f"| {route} | {p['requests']:,} | {p['mean_ms']:.1f} | {p['p95_ms']:.1f} | "
                f"{p['queries_per_request']:.1f} | {p['sql_ms_per_request']:.1f} | "
                f"{p['charts_drawn_per_request']:.2f} | {p['chart_ms_per_request']:.1f} |"
            )
        print("\nThe costliest statements (ms per request, times per request):")
        for route, p in list(results["profile"].items())[:6]:
            print(f"\n{route}:")
            for st in p["top_statements"][:3]:
                sql = re.sub(r"\s+", " ", st["sql"])
                print(f"  {st['ms_per_request']:.1f} ms/request, {st['per_request']:.1f}×: {sql[:300]}")


# --- main -------------------------------------------------------------------------------------


def _writer_phase(name: str, args, *, pacing: float, title: str) -> dict:
    """`args.writers` AE writers, each starting a new AE `pacing` seconds after the last."""
    return {
        "name": name,
        "users": args.writers,
        "spawn_rate": args.writers,
        "seconds": args.writer_seconds,
        "classes": ["AEWriter"],
        "env": {
            "SCR_LOAD_WRITERS": str(args.writers),
            "SCR_LOAD_WRITER_PACING": str(pacing),
            "SCR_LOAD_THINK": args.think,
        },
        "title": title,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="people in the mix phase")
    parser.add_argument("--writers", type=int, default=16, help="AE writers in the write phase")
    parser.add_argument("--mix-seconds", type=int, default=90)
    parser.add_argument("--writer-seconds", type=int, default=60)
    parser.add_argument("--warmup-seconds", type=int, default=15)
    parser.add_argument("--think", default="1,5", help="seconds between a person's steps: min,max")
    parser.add_argument("--writer-pacing", type=float, default=1.0, help="seconds per AE at most, per writer")
    parser.add_argument("--stress-pacing", type=float, default=0.3, help="the same, in the stress phase")
    parser.add_argument("--solo-seconds", type=int, default=45)
    parser.add_argument("--phases", default="solo,mix,writers,stress")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (>1: gthread)")
    parser.add_argument("--database", default="load")
    parser.add_argument("--reseed", action="store_true", help="rebuild the template database")
    parser.add_argument("--profile", action="store_true", help="count queries and SQL time per view")
    parser.add_argument("--quiet-wait", type=int, default=120, help="seconds to wait for an idle machine per phase")
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        sys.exit("load bench: DATABASE_URL is not set; run it through `make bench` (python -m config.devstack bench)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": SETTINGS, "PYTHONUNBUFFERED": "1"}
    run_url = prepare_databases(base_url, name=args.database, reseed=args.reseed, env=env)
    env["DATABASE_URL"] = run_url
    users_path = RESULTS / "load-users.json"  # sessions and tokens of throw-away bench users (git-ignored)
    _run_python(["-m", "bench.load.data", "prepare", str(users_path)], env=env, what="preparing sign-ins")
    users = json.loads(users_path.read_text())

    profile_dir = RESULTS / "profile"
    if args.profile:
        for old in profile_dir.glob("worker-*.jsonl"):
            old.unlink()
        env.update(SCR_BENCH_PROFILE="1", SCR_BENCH_PROFILE_DIR=str(profile_dir))
    staff = round(args.users * 24 / 50)
    dashboard = round(args.users * 6 / 50)
    monitors = args.users - staff - dashboard
    think = args.think
    phases = {
        "solo": {
            "name": "solo",
            "users": 1,
            "spawn_rate": 1,
            "seconds": args.solo_seconds,
            "classes": ["SoloReader"],
            "env": {"SCR_LOAD_THINK": think},
            "title": f"Solo: one reader (the PI) alone: the dashboard and every list page and list API, "
            f"0.2 s between clicks, {args.solo_seconds} s",
        },
        "mix": {
            "name": "mix",
            "users": args.users,
            "spawn_rate": 10,
            "seconds": args.mix_seconds,
            "classes": ["SiteStaff", "DashboardViewer", "Monitor"],
            "env": {
                "SCR_LOAD_STAFF": str(staff),
                "SCR_LOAD_DASHBOARD": str(dashboard),
                "SCR_LOAD_MONITORS": str(monitors),
                "SCR_LOAD_THINK": think,
            },
            "title": f"Mix: {args.users} people ({staff} site staff, {dashboard} PI/data-manager dashboard "
            f"sessions, {monitors} monitors), {think.replace(',', '–')} s between steps, {args.mix_seconds} s",
        },
        "writers": _writer_phase(
            "writers",
            args,
            pacing=args.writer_pacing,
            title=f"AE writers: {args.writers} site staff posting AEs (grades 1–4) through the API, "
            f"one every {args.writer_pacing} s each (± 50%), {args.writer_seconds} s",
        ),
        "stress": _writer_phase(
            "stress",
            args,
            pacing=args.stress_pacing,
            title=f"Stress (no target): the same {args.writers} writers, one AE every {args.stress_pacing} s "
            f"each (± 50%), near the API's write throttle, {args.writer_seconds} s",
        ),
    }
    wanted = [p for p in args.phases.split(",") if p]
    port = _free_port()
    gunicorn = f"{args.workers} workers × {args.threads} thread{'s' if args.threads > 1 else ''}" + (
        " (gthread)" if args.threads > 1 else " (sync)"
    )
    results = {
        "date": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(base_url),
        "settings": {
            "users": args.users,
            "writers": args.writers,
            "think_seconds": think,
            "writer_pacing_seconds": args.writer_pacing,
            "stress_pacing_seconds": args.stress_pacing,
            "warmup_seconds": args.warmup_seconds,
            "gunicorn": gunicorn,
            "django_settings": SETTINGS,
            "conn_max_age": os.environ.get("CONN_MAX_AGE", "60"),
            "data": ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in users["counts"].items()),
            "phases": {name: phases[name]["title"] for name in wanted},
        },
    }
    server = start_gunicorn(
        port=port, workers=args.workers, threads=args.threads, env=env, log=RESULTS / "gunicorn.log"
    )
    postmaster = postmaster_pid(run_url)
    try:
        warm_up(port, users, rounds=args.workers * 2)
        for name in wanted:
            wait_for_quiet(args.quiet_wait)
            env_phase = {**env, "SCR_LOAD_USERS": str(users_path)}
            results[name] = run_phase(
                phases[name],
                host=f"http://127.0.0.1:{port}",
                env=env_phase,
                server_pid=server.pid,
                postmaster=postmaster,
                warmup=args.warmup_seconds,
            )
    finally:
        stop(server)
    results["targets"] = targets(results)
    if args.profile:
        results["profile"] = read_profile(profile_dir, top=5)
    (RESULTS / "load.json").write_text(json.dumps(results, indent=2))
    report(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
