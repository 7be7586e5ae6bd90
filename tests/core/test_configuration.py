"""Production settings pass Django's deployment checks; migrations match the models."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env_extra=None):
    # The browser tests allow async-unsafe ORM calls in this process; a deployment never does.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": "a-real-secret-from-the-environment-" + "k" * 40,
            "ALLOWED_HOSTS": "trial.example.org",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_no_missing_migrations():
    result = _manage(
        "makemigrations", "--check", "--dry-run", env_extra={"DJANGO_SETTINGS_MODULE": "config.settings.test"}
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_services_and_commands():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat", "mail"} <= set(services)
    assert "gunicorn config.wsgi" in services["web"]["command"]
    assert "migrate" in services["web"]["command"]
    assert "celery -A config worker" in services["worker"]["command"]
    assert "celery -A config beat" in services["beat"]["command"]
    # Each command names something that exists in the project.
    assert (ROOT / "config" / "wsgi.py").exists() and (ROOT / "config" / "celery.py").exists()
    # The app image is built from our Dockerfile.
    assert (
        ROOT / services["web"]["build"]["dockerfile"]
        if isinstance(services["web"]["build"], dict)
        else ROOT / "Dockerfile"
    ).exists()
    # Web, worker and beat share one configuration.
    env_files = {name: tuple(services[name].get("env_file", [])) for name in ("web", "worker", "beat")}
    assert len(set(env_files.values())) == 1 and env_files["web"]
    environments = {name: services[name].get("environment") for name in ("web", "worker", "beat")}
    assert environments["web"] == environments["worker"] == environments["beat"]
    assert environments["web"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert "postgres" in environments["web"]["DATABASE_URL"] and "redis" in environments["web"]["REDIS_URL"]
    assert "mail" in environments["web"]["EMAIL_URL"]


def test_no_template_loads_assets_from_a_cdn():
    for template in list(ROOT.glob("templates/**/*.html")) + list(ROOT.glob("*/templates/**/*.html")):
        text = template.read_text()
        for host in ("cdn.jsdelivr", "cdnjs", "unpkg.com", "googleapis"):
            assert host not in text, f"{template} loads {host}"


def test_the_image_compiles_the_translations_it_ships():
    # The compiled catalogs are not in git: the image builds them, or production would be English only.
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "manage.py compile_translations" in dockerfile
    assert dockerfile.index("COPY . .") < dockerfile.index("compile_translations")
