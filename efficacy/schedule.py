"""The protocol visit schedule: tumour assessments and survival follow-up contacts. Pure: no models, no database.

Targets are counted from an anchor date (randomization or enrollment for assessments, progression for survival
follow-up) every `interval_days`, each with a ± `window_days` window. The caller supplies the dates on which the
records were made; this module says which visit each fulfils and what is due, overdue or missed.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ScheduleSettings:
    """The study's schedule settings, in days."""

    assessment_interval_days: int = 42
    window_days: int = 7  # ± around each target date, for assessments and follow-up contacts
    followup_interval_days: int = 84
    cycle_length_days: int = 21


class VisitKind(StrEnum):
    TUMOUR_ASSESSMENT = "tumour_assessment"
    SURVIVAL_FOLLOW_UP = "survival_follow_up"

    @property
    def label(self):
        """The translated name of the kind."""
        return _KIND_LABELS[self]


class VisitStatus(StrEnum):
    DONE = "done"
    UPCOMING = "upcoming"
    DUE = "due"
    OVERDUE = "overdue"
    MISSED = "missed"

    @property
    def label(self):
        """The translated name of the status."""
        return _STATUS_LABELS[self]


_KIND_LABELS = {
    VisitKind.TUMOUR_ASSESSMENT: _("Tumour assessment"),
    VisitKind.SURVIVAL_FOLLOW_UP: _("Survival follow-up"),
}

_STATUS_LABELS = {
    VisitStatus.DONE: _("Done"),
    VisitStatus.UPCOMING: _("Upcoming"),
    VisitStatus.DUE: _("Due"),
    VisitStatus.OVERDUE: _("Overdue"),
    VisitStatus.MISSED: _("Missed"),
}

OPEN_STATUSES = (VisitStatus.DUE, VisitStatus.OVERDUE, VisitStatus.UPCOMING)


@dataclass(frozen=True)
class Visit:
    """One scheduled visit and its state on `today`."""

    kind: VisitKind
    number: int  # 1, 2, … (week 6 = 1)
    target: date
    window_start: date  # target - window_days
    window_end: date  # target + window_days
    done_on: date | None  # the date of the record that fulfilled it
    status: VisitStatus


def _take_done_date(pending: list[date], start: date, end: date) -> date | None:
    """Remove and return the earliest pending date inside [start, end], None when there is none."""
    for index, d in enumerate(pending):
        if start <= d <= end:
            return pending.pop(index)
    return None


def _open_status(*, window_start: date, window_end: date, next_window_start: date, today: date) -> VisitStatus:
    """The status of a visit that was not done, on `today`."""
    if today < window_start:
        return VisitStatus.UPCOMING
    if today <= window_end:
        return VisitStatus.DUE
    if today < next_window_start:
        return VisitStatus.OVERDUE
    return VisitStatus.MISSED


def visits(
    *,
    kind: VisitKind,
    anchor: date,
    interval_days: int,
    done_dates: Iterable[date],
    today: date,
    settings: ScheduleSettings,
    stop: date | None = None,
) -> list[Visit]:
    """The visits from `anchor` up to the next upcoming one, or up to `stop` when the schedule ended.

    Each done date fulfils at most one visit (the earliest whose window holds it); dates outside every window
    fulfil nothing. Once `today` is past `stop`, a visit not done whose window had not closed by `stop` is dropped,
    and one not done whose window closed before `stop` is MISSED: nothing is due, overdue or upcoming any more.
    """
    if interval_days <= 0:
        raise ValueError("interval_days must be positive")
    window = timedelta(days=settings.window_days)
    step = timedelta(days=interval_days)
    pending = sorted(done_dates)
    ended = stop is not None and today > stop
    result: list[Visit] = []
    number = 0
    while True:
        number += 1
        target = anchor + number * step
        start, end = target - window, target + window
        if stop is not None and start > stop:
            break
        done_on = _take_done_date(pending, start, end)
        if done_on is not None:
            status = VisitStatus.DONE
        elif ended and end >= stop:
            continue  # its window was still open when the schedule stopped: not counted
        elif ended:
            status = VisitStatus.MISSED
        else:
            status = _open_status(window_start=start, window_end=end, next_window_start=start + step, today=today)
        result.append(Visit(kind, number, target, start, end, done_on, status))
        if status == VisitStatus.UPCOMING:
            break
    return result


def missed_count(visits: Sequence[Visit]) -> int:
    """How many visits were not done in their window (OVERDUE or MISSED)."""
    return sum(1 for v in visits if v.status in (VisitStatus.OVERDUE, VisitStatus.MISSED))


def next_visit(visits: Sequence[Visit]) -> Visit | None:
    """The first visit still to do (DUE, OVERDUE or UPCOMING); None when nothing is left."""
    return next((v for v in visits if v.status in OPEN_STATUSES), None)


def next_cycle_due(*, cycle_dates: Sequence[date], settings: ScheduleSettings, stop: date | None = None) -> date | None:
    """Day 1 of the next cycle = last cycle's date + cycle_length_days; None before cycle 1 or once off treatment."""
    if not cycle_dates or stop is not None:
        return None
    return max(cycle_dates) + timedelta(days=settings.cycle_length_days)


def in_week(d: date, today: date) -> bool:
    """Whether `d` falls within the seven days starting `today` ("due this week")."""
    return today <= d <= today + timedelta(days=6)
