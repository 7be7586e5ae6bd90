"""Row locks in one order, and a whole-transaction retry when PostgreSQL aborts one anyway.

The lock order, kept by every service (a transaction takes a lock further down the list only
after those above it, never the reverse):

    1. the Study row           (phase decisions, enrollment, randomization, Grade 5 AEs only)
    2. a Screening             (enrollment, re-screening, correction)
    3. an AdverseEvent         (its correction, sign-off or void)
    4. a Participant           (randomization, AEs, death and status changes, every efficacy write)
       then an efficacy record (a dose, course, scan or follow-up record being corrected or voided)
    5. a SiteCounter           (the next screening or subject number of a site)
    6. a Stratum               (the next allocation-list entry)
    7. a User                  (account changes; never together with the rows above)

Each lock names only its own row (`select_for_update(of=("self",))`): a `select_related`
under a lock would lock the joined Site too, which a concurrent insert at that site needs
for its foreign-key check, and PostgreSQL would then report a deadlock.

Deadlocks and serialization failures can still happen in principle (a future query, an
index page split); `retry_on_conflict` reruns the whole service transaction when one does.
That is safe because the aborted transaction left nothing behind, and a service does all of
its writes inside that one transaction. A user sees a 500 for it never, and after four
failed attempts a clear "try again" (`DatabaseBusy`, HTTP 503 in the API).
"""

import logging
import random
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from django.db import OperationalError, connection
from django.utils.translation import gettext as _

from scr_escc.exceptions import DomainError

logger = logging.getLogger(__name__)

RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock_detected, serialization_failure
ATTEMPTS = 4

P = ParamSpec("P")
R = TypeVar("R")


class DatabaseBusy(DomainError):
    status_code = 503

    def __init__(self):
        super().__init__(_("The database was too busy to save this; nothing was saved. Please try again."))


def is_retryable(error: BaseException) -> bool:
    """A deadlock or serialization failure reported by PostgreSQL (psycopg's `sqlstate`)."""
    cause = error.__cause__ or error
    return isinstance(error, OperationalError) and getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retry_on_conflict(service: Callable[P, R]) -> Callable[P, R]:
    """Run `service` again when PostgreSQL aborts its transaction for a deadlock or a
    serialization failure. Inside a caller's transaction nothing can be retried here (the
    caller's transaction is aborted too), so the error goes up to that caller."""

    @wraps(service)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return service(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return service(*args, **kwargs)
            except OperationalError as error:
                if not is_retryable(error):
                    raise
                logger.warning("%s: %s (attempt %d of %d)", service.__qualname__, error, attempt, ATTEMPTS)
                if attempt < ATTEMPTS:
                    time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise DatabaseBusy()

    return wrapper
