"""Time-to-event endpoints: progression-free survival (PFS) and overall survival (OS). Pure: no models, no database.

One participant's dates go in (a `Timeline`), one ADTTE-shaped row comes out (a `TimeToEvent`): the start date
(STARTDT), the event or censoring date (ADT), AVAL = ADT - STARTDT + 1 days (the day of start is day 1), CNSR
(0 event, 1 censored), EVNTDESC / CNSDTDSC and the code of the rule applied. The censoring rules follow the FDA
Guidance for Industry "Clinical Trial Endpoints for the Approval of Cancer Drugs and Biologics" (December 2018),
its table of PFS event and censoring dates; docs/ENDPOINTS.md gives them as a table.

PFS, the rules in the order they are applied (`derive_pfs`):

1. The event is the earliest of: the first scan scored PD by RECIST 1.1 (dated on that scan, also when progression
   is documented between scheduled visits), a clinical progression, death from any cause. On the same day a RECIST
   PD wins over a clinical progression, which wins over death (as `efficacy.selectors.progression_from` does).
2. A new anticancer therapy started before the event (or with no event at all) censors at the last adequate
   assessment on or before the start of that therapy; at start (day 1) when there is none. A therapy started on
   or after the day of the event does not censor.
3. An event after two or more missed scheduled assessments is censored at the last adequate assessment before the
   gap (at start when there is none). Two or more are missed when the event comes more than
   2 x interval_days + window_days (91 days by default) after the last adequate non-PD assessment on or before
   the event's date (after start when there is none); exactly 91 days is not missed, 92 is.
4. Otherwise the event stands: a death with no adequate assessment is an event when rule 3 does not censor it.
5. No event and no adequate post-baseline assessment: censored at start (day 1, AVAL 1).
6. No event: censored at the last adequate assessment.

Inadequate scans (overall response NE), scans after the event and scans dated before start never set a date.
OS (`derive_os`): the event is death from any cause; otherwise censored at the last date known alive.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

# Rule codes (TimeToEvent.rule), for tests, exports and docs/ENDPOINTS.md.
RULE_PD = "pd"
RULE_CLINICAL_PD = "clinical_pd"
RULE_DEATH = "death"
RULE_NEW_THERAPY = "new_therapy"
RULE_MISSED_TWO = "missed_two"
RULE_NO_ADEQUATE = "no_adequate_assessment"
RULE_LAST_ADEQUATE = "last_adequate"
RULE_LAST_KNOWN_ALIVE = "last_known_alive"

# EVNTDESC: the event. Data for the statisticians' ADTTE, so English, never translated.
EVENT_PD = "Progression (RECIST 1.1)"
EVENT_CLINICAL_PD = "Clinical progression"
EVENT_DEATH = "Death"

# CNSDTDSC: where the censoring date comes from.
CENSOR_NEW_THERAPY = "Last adequate assessment before new anticancer therapy"
CENSOR_NEW_THERAPY_AT_START = "Start date: no adequate assessment before new anticancer therapy"
CENSOR_MISSED_TWO = "Last adequate assessment before two or more missed assessments"
CENSOR_MISSED_TWO_AT_START = "Start date: two or more missed assessments before any adequate assessment"
CENSOR_NO_ADEQUATE = "No adequate post-baseline assessment"
CENSOR_LAST_ADEQUATE = "Last adequate assessment"
CENSOR_LAST_KNOWN_ALIVE = "Last known alive"

# On the same day, the first of these is the event (rule 1).
_EVENT_PRIORITY = (RULE_PD, RULE_CLINICAL_PD, RULE_DEATH)
_EVENT_DESCRIPTIONS = {RULE_PD: EVENT_PD, RULE_CLINICAL_PD: EVENT_CLINICAL_PD, RULE_DEATH: EVENT_DEATH}


@dataclass(frozen=True)
class Scan:
    """One post-baseline tumour assessment."""

    date: date
    adequate: bool  # an evaluable post-baseline assessment (overall response not NE)
    progression: bool  # scored PD by RECIST 1.1


@dataclass(frozen=True)
class Timeline:
    """What is known of one participant, as dates."""

    start: date  # randomization date (run-in cohort: enrollment date)
    scans: Sequence[Scan]  # post-baseline scans, any order
    clinical_progression: date | None
    death: date | None  # death from any cause
    new_therapy: date | None  # first new anticancer therapy
    last_known_alive: date
    interval_days: int = 42  # scheduled assessment interval
    window_days: int = 7

    @property
    def missed_two_days(self) -> int:
        """More days than this between adequate assessments (or start) and the event = two or more missed."""
        return 2 * self.interval_days + self.window_days


@dataclass(frozen=True)
class TimeToEvent:
    """One ADTTE row's derived values."""

    start: date  # STARTDT
    end: date  # ADT: event or censoring date
    days: int  # AVAL = ADT - STARTDT + 1 (ADaM convention: day of start is day 1)
    event: bool  # CNSR = 0 if event else 1
    event_description: str  # EVNTDESC, "" if censored
    censor_description: str  # CNSDTDSC, "" if event
    rule: str  # the rule applied (RULE_*)

    @property
    def cnsr(self) -> int:
        """The ADaM censoring flag: 0 event, 1 censored."""
        return 0 if self.event else 1


def _event(start: date, end: date, rule: str) -> TimeToEvent:
    """An event on `end`; AVAL counts the day of start as day 1."""
    return TimeToEvent(start, end, (end - start).days + 1, True, _EVENT_DESCRIPTIONS[rule], "", rule)


def _censored(start: date, end: date, description: str, rule: str) -> TimeToEvent:
    """Censored on `end` (never before start: AVAL is at least 1)."""
    end = max(start, end)
    return TimeToEvent(start, end, (end - start).days + 1, False, "", description, rule)


def _post_baseline(t: Timeline) -> list[Scan]:
    """The scans on or after start, by date; scans dated before start are not post-baseline and are ignored."""
    return sorted((s for s in t.scans if s.date >= t.start), key=lambda s: s.date)


def _first_event(t: Timeline, scans: Sequence[Scan]) -> tuple[date, str] | None:
    """Rule 1: (date, rule code) of the earliest of first RECIST PD, clinical progression, death; None if none.

    A scan scored PD is the progression whatever its `adequate` flag: a PD time point is evaluable by definition
    (RECIST 1.1 §4.3.5: a new lesion is PD even when other lesions were not assessed).
    """
    first_pd = next((s.date for s in scans if s.progression), None)
    candidates = ((first_pd, RULE_PD), (t.clinical_progression, RULE_CLINICAL_PD), (t.death, RULE_DEATH))
    found = [(d, rule) for d, rule in candidates if d is not None]
    return min(found, key=lambda c: (c[0], _EVENT_PRIORITY.index(c[1])), default=None)


def _last_adequate(scans: Sequence[Scan], on_or_before: date | None = None) -> date | None:
    """The date of the last adequate, non-PD scan on or before `on_or_before` (any date when None); None if none."""
    dates = [s.date for s in scans if s.adequate and not s.progression]
    if on_or_before is not None:
        dates = [d for d in dates if d <= on_or_before]
    return max(dates, default=None)


def derive_pfs(t: Timeline) -> TimeToEvent:
    """Progression-free survival, by the rules 1-6 of this module's docstring (FDA 2018 PFS censoring table).

    Rule 1 finds the event; rule 2 (new anticancer therapy before it) and rule 3 (two or more missed assessments,
    i.e. more than 2 x interval + window days since the last adequate assessment or start) censor it; rule 4 keeps
    it; with no event, rule 5 censors at start when no adequate assessment exists, rule 6 at the last one.
    """
    scans = _post_baseline(t)
    found = _first_event(t, scans)
    if found is not None and found[0] < t.start:
        raise ValueError(f"An event dated {found[0]} before the start {t.start}: the services refuse such dates.")
    event_date = found[0] if found else None
    if t.new_therapy is not None and (event_date is None or t.new_therapy < event_date):
        last = _last_adequate(scans, t.new_therapy)
        if last is None:
            return _censored(t.start, t.start, CENSOR_NEW_THERAPY_AT_START, RULE_NEW_THERAPY)
        return _censored(t.start, last, CENSOR_NEW_THERAPY, RULE_NEW_THERAPY)
    if found is not None:
        event_date, rule = found
        last = _last_adequate(scans, event_date)
        if (event_date - (last or t.start)).days > t.missed_two_days:
            if last is None:
                return _censored(t.start, t.start, CENSOR_MISSED_TWO_AT_START, RULE_MISSED_TWO)
            return _censored(t.start, last, CENSOR_MISSED_TWO, RULE_MISSED_TWO)
        return _event(t.start, event_date, rule)
    last = _last_adequate(scans)
    if last is None:
        return _censored(t.start, t.start, CENSOR_NO_ADEQUATE, RULE_NO_ADEQUATE)
    return _censored(t.start, last, CENSOR_LAST_ADEQUATE, RULE_LAST_ADEQUATE)


def derive_os(t: Timeline) -> TimeToEvent:
    """Overall survival: the event is death from any cause (AVAL to the death date); otherwise censored at the
    last date known alive (never before start). Scans, progression and new therapy play no part."""
    if t.death is not None:
        return _event(t.start, t.death, RULE_DEATH)
    return _censored(t.start, t.last_known_alive, CENSOR_LAST_KNOWN_ALIVE, RULE_LAST_KNOWN_ALIVE)
