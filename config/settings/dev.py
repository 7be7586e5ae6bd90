"""Local development: `make run`. The embedded servers' addresses come from .data/stack.env."""

from pathlib import Path

import environ

# Written by `python -m config.devstack` while the embedded PostgreSQL and Redis run,
# so `manage.py shell` in another terminal reaches the same servers. Real environment
# variables win over the file. Read before base settings are evaluated.
environ.Env.read_env(Path(__file__).resolve().parent.parent.parent / ".data" / "stack.env", overwrite=False)

from .base import *  # noqa: E402,F403
from .base import env  # noqa: E402

DEBUG = env.bool("DEBUG", default=True)
