"""PFS and OS derivation (efficacy/endpoints.py). Pure: no database.

Every timeline starts (randomization) on Mon 2025-01-06 = day 0; AVAL = days since start + 1 (start is day 1).
With the default schedule (42 ± 7 days) the scheduled assessments fall on
day 42 = 2025-02-17, day 84 = 2025-03-31, day 126 = 2025-05-12, day 168 = 2025-06-23.
Two or more missed assessments: more than 2 x 42 + 7 = 91 days between the last adequate assessment (or start)
and the event.
"""

from datetime import date

import pytest

from efficacy.endpoints import (
    CENSOR_LAST_ADEQUATE,
    CENSOR_LAST_KNOWN_ALIVE,
    CENSOR_MISSED_TWO,
    CENSOR_MISSED_TWO_AT_START,
    CENSOR_NEW_THERAPY,
    CENSOR_NEW_THERAPY_AT_START,
    CENSOR_NO_ADEQUATE,
    EVENT_CLINICAL_PD,
    EVENT_DEATH,
    EVENT_PD,
    Scan,
    Timeline,
    TimeToEvent,
    derive_os,
    derive_pfs,
)

START = date(2025, 1, 6)


def sd(d: date) -> Scan:
    """An adequate scan, not progression (CR, PR, SD or non-CR/non-PD)."""
    return Scan(d, adequate=True, progression=False)


def pd(d: date) -> Scan:
    return Scan(d, adequate=True, progression=True)


def ne(d: date) -> Scan:
    """A scan whose overall response is NE: not an adequate assessment."""
    return Scan(d, adequate=False, progression=False)


def timeline(scans=(), *, clinical=None, death=None, new_therapy=None, alive=date(2025, 12, 1), **settings):
    return Timeline(START, list(scans), clinical, death, new_therapy, alive, **settings)


def event(end: date, days: int, description: str, rule: str) -> TimeToEvent:
    return TimeToEvent(START, end, days, True, description, "", rule)


def censored(end: date, days: int, description: str, rule: str) -> TimeToEvent:
    return TimeToEvent(START, end, days, False, "", description, rule)


# Rule 1: the event is the earliest of first RECIST PD, clinical progression, death.


def test_recist_pd_is_the_event_on_the_date_of_the_scan():
    # SD 2025-02-17 (day 42), PD 2025-03-31 (day 84): AVAL = 84 + 1 = 85.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 3, 31))]))
    assert result == event(date(2025, 3, 31), 85, EVENT_PD, "pd")
    assert result.cnsr == 0


def test_progression_between_scheduled_visits_is_dated_when_documented():
    # SD 2025-02-17, unscheduled scan PD 2025-03-10 (day 63, not a target day): AVAL = 63 + 1 = 64.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 3, 10)), pd(date(2025, 3, 31))]))
    assert result == event(date(2025, 3, 10), 64, EVENT_PD, "pd")


def test_clinical_progression_is_an_event():
    # SD 2025-02-17, clinical progression 2025-03-20 (day 73), no later scan: AVAL = 73 + 1 = 74.
    result = derive_pfs(timeline([sd(date(2025, 2, 17))], clinical=date(2025, 3, 20)))
    assert result == event(date(2025, 3, 20), 74, EVENT_CLINICAL_PD, "clinical_pd")


def test_clinical_progression_earlier_than_recist_pd_wins():
    # Clinical PD 2025-03-20 (day 73) before the scan PD 2025-03-31 (day 84): AVAL = 74.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 3, 31))], clinical=date(2025, 3, 20)))
    assert result == event(date(2025, 3, 20), 74, EVENT_CLINICAL_PD, "clinical_pd")


def test_recist_pd_earlier_than_clinical_progression_wins():
    # PD scan 2025-03-10 (day 63) before clinical PD 2025-03-20: AVAL = 64.
    result = derive_pfs(timeline([pd(date(2025, 3, 10))], clinical=date(2025, 3, 20)))
    assert result == event(date(2025, 3, 10), 64, EVENT_PD, "pd")


def test_death_without_progression_is_an_event():
    # SD 2025-02-17, SD 2025-03-31, death 2025-04-02 (day 86): AVAL = 87.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), sd(date(2025, 3, 31))], death=date(2025, 4, 2)))
    assert result == event(date(2025, 4, 2), 87, EVENT_DEATH, "death")


def test_pd_and_death_on_the_same_day_is_the_progression():
    # PD scan and death both 2025-03-31 (day 84): the event is the progression, AVAL = 85.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 3, 31))], death=date(2025, 3, 31)))
    assert result == event(date(2025, 3, 31), 85, EVENT_PD, "pd")


def test_recist_pd_and_clinical_progression_on_the_same_day_is_the_recist_pd():
    # As efficacy.selectors.progression_from: same day, RECIST first. AVAL = 85.
    result = derive_pfs(timeline([pd(date(2025, 3, 31))], clinical=date(2025, 3, 31), death=date(2025, 3, 31)))
    assert result == event(date(2025, 3, 31), 85, EVENT_PD, "pd")


def test_clinical_progression_and_death_on_the_same_day_is_the_clinical_progression():
    result = derive_pfs(timeline([sd(date(2025, 2, 17))], clinical=date(2025, 3, 20), death=date(2025, 3, 20)))
    assert result == event(date(2025, 3, 20), 74, EVENT_CLINICAL_PD, "clinical_pd")


def test_scans_are_sorted_first():
    # The same as test_progression_between_scheduled_visits..., scans given out of order: first PD 2025-03-10.
    result = derive_pfs(timeline([pd(date(2025, 3, 31)), pd(date(2025, 3, 10)), sd(date(2025, 2, 17))]))
    assert result == event(date(2025, 3, 10), 64, EVENT_PD, "pd")


# Rule 2: a new anticancer therapy before the event censors at the last adequate assessment on or before it.


def test_new_therapy_before_progression_censors_at_last_adequate_assessment_before_it():
    # SD 2025-02-17 (day 42), new therapy 2025-03-03, PD 2025-03-31: censored 2025-02-17, AVAL = 43.
    result = derive_pfs(
        timeline([sd(date(2025, 2, 17)), pd(date(2025, 3, 31))], new_therapy=date(2025, 3, 3), death=date(2025, 6, 30))
    )
    assert result == censored(date(2025, 2, 17), 43, CENSOR_NEW_THERAPY, "new_therapy")
    assert result.cnsr == 1


def test_new_therapy_without_event_ignores_the_scans_after_it():
    # SD 2025-02-17, new therapy 2025-03-03, SD 2025-03-31 and 2025-05-12 (on the new therapy): censored 2025-02-17.
    scans = [sd(date(2025, 2, 17)), sd(date(2025, 3, 31)), sd(date(2025, 5, 12))]
    result = derive_pfs(timeline(scans, new_therapy=date(2025, 3, 3)))
    assert result == censored(date(2025, 2, 17), 43, CENSOR_NEW_THERAPY, "new_therapy")


def test_a_scan_on_the_day_the_new_therapy_starts_counts():
    # SD 2025-02-17 and 2025-03-31 (day 84); new therapy 2025-03-31: "on or before" -> censored 2025-03-31, AVAL 85.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), sd(date(2025, 3, 31))], new_therapy=date(2025, 3, 31)))
    assert result == censored(date(2025, 3, 31), 85, CENSOR_NEW_THERAPY, "new_therapy")


def test_new_therapy_before_any_adequate_assessment_censors_at_start():
    # NE 2025-02-17 only, new therapy 2025-03-03, death 2025-04-02: censored at start 2025-01-06, AVAL = 1.
    result = derive_pfs(timeline([ne(date(2025, 2, 17))], new_therapy=date(2025, 3, 3), death=date(2025, 4, 2)))
    assert result == censored(START, 1, CENSOR_NEW_THERAPY_AT_START, "new_therapy")


def test_new_therapy_on_the_day_of_progression_does_not_censor():
    # PD 2025-03-31 and new therapy 2025-03-31: the therapy is not *before* the event -> event, AVAL = 85.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 3, 31))], new_therapy=date(2025, 3, 31)))
    assert result == event(date(2025, 3, 31), 85, EVENT_PD, "pd")


def test_new_therapy_after_progression_does_not_censor():
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 3, 31))], new_therapy=date(2025, 4, 21)))
    assert result == event(date(2025, 3, 31), 85, EVENT_PD, "pd")


def test_new_therapy_is_applied_before_the_missed_visits_rule():
    # SD 2025-02-17, new therapy 2025-03-03, death 2025-06-30 (133 days after the scan, a gap too): rule 2 first.
    result = derive_pfs(timeline([sd(date(2025, 2, 17))], new_therapy=date(2025, 3, 3), death=date(2025, 6, 30)))
    assert result.rule == "new_therapy"


# Rule 3: an event after two or more missed assessments (> 2 x interval + window days) is censored.


def test_event_exactly_two_intervals_plus_window_after_last_adequate_assessment_is_not_missed():
    # SD 2025-02-17 (day 42); PD 2025-05-19 = 2025-02-17 + 91 days (day 133): not more than 91 -> event, AVAL 134.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 5, 19))]))
    assert result == event(date(2025, 5, 19), 134, EVENT_PD, "pd")


def test_event_one_day_later_is_after_two_missed_assessments():
    # SD 2025-02-17; PD 2025-05-20 = 2025-02-17 + 92 days: censored at 2025-02-17 (day 42), AVAL = 43.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), pd(date(2025, 5, 20))]))
    assert result == censored(date(2025, 2, 17), 43, CENSOR_MISSED_TWO, "missed_two")


def test_death_after_two_missed_assessments_is_censored_at_last_adequate_assessment():
    # SD 2025-02-17, SD 2025-03-31 (day 84); death 2025-06-30 = 2025-03-31 + 91 days -> event, AVAL 176 ...
    on_time = derive_pfs(timeline([sd(date(2025, 2, 17)), sd(date(2025, 3, 31))], death=date(2025, 6, 30)))
    assert on_time == event(date(2025, 6, 30), 176, EVENT_DEATH, "death")
    # ... but with the last adequate assessment 2025-02-17 (2025-03-31 NE), 133 days > 91: censored, AVAL 43.
    late = derive_pfs(timeline([sd(date(2025, 2, 17)), ne(date(2025, 3, 31))], death=date(2025, 6, 30)))
    assert late == censored(date(2025, 2, 17), 43, CENSOR_MISSED_TWO, "missed_two")


def test_first_scan_pd_after_two_missed_assessments_is_censored_at_start():
    # No scan until PD 2025-04-08 = start + 92 days: censored at start, AVAL 1.
    result = derive_pfs(timeline([pd(date(2025, 4, 8))]))
    assert result == censored(START, 1, CENSOR_MISSED_TWO_AT_START, "missed_two")


def test_the_gap_follows_the_schedule_settings():
    # Every 8 weeks (56 ± 7): the limit is 2 x 56 + 7 = 119 days. SD 2025-02-17 (day 42); PD 2025-06-16 = +119.
    scans = [sd(date(2025, 2, 17)), pd(date(2025, 6, 16))]
    assert derive_pfs(timeline(scans, interval_days=56)).rule == "pd"
    assert derive_pfs(timeline(scans)).rule == "missed_two"  # 119 > 91 with the default 6-weekly schedule


# Rule 4: a death with no adequate assessment is still an event within 2 x interval + window of start.


def test_death_with_no_adequate_assessment_within_the_limit_is_an_event():
    # No scan; death 2025-04-07 = start + 91 days (day 91): event, AVAL = 92.
    result = derive_pfs(timeline(death=date(2025, 4, 7)))
    assert result == event(date(2025, 4, 7), 92, EVENT_DEATH, "death")


def test_death_with_no_adequate_assessment_after_the_limit_is_censored_at_start():
    # No scan (one NE); death 2025-04-08 = start + 92 days: two missed -> censored at start, AVAL = 1.
    result = derive_pfs(timeline([ne(date(2025, 2, 17))], death=date(2025, 4, 8)))
    assert result == censored(START, 1, CENSOR_MISSED_TWO_AT_START, "missed_two")


# Rule 5: no event and no adequate assessment: censored at start.


def test_no_adequate_assessment_and_no_event_is_censored_at_start():
    # Only NE scans 2025-02-17 and 2025-03-31, alive: censored at 2025-01-06, AVAL = 1.
    result = derive_pfs(timeline([ne(date(2025, 2, 17)), ne(date(2025, 3, 31))]))
    assert result == censored(START, 1, CENSOR_NO_ADEQUATE, "no_adequate_assessment")


def test_no_scan_at_all_is_censored_at_start():
    assert derive_pfs(timeline()) == censored(START, 1, CENSOR_NO_ADEQUATE, "no_adequate_assessment")


# Rule 6: no event: censored at the last adequate assessment.


def test_no_event_is_censored_at_the_last_adequate_assessment_and_ne_scans_are_ignored():
    # SD 2025-02-17, SD 2025-03-31 (day 84), NE 2025-05-12: censored 2025-03-31, AVAL = 85.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), sd(date(2025, 3, 31)), ne(date(2025, 5, 12))]))
    assert result == censored(date(2025, 3, 31), 85, CENSOR_LAST_ADEQUATE, "last_adequate")


def test_ne_scans_do_not_close_a_gap():
    # SD 2025-02-17, NE 2025-03-31, NE 2025-05-12, PD 2025-05-20 (92 days after the SD): censored 2025-02-17, AVAL 43.
    scans = [sd(date(2025, 2, 17)), ne(date(2025, 3, 31)), ne(date(2025, 5, 12)), pd(date(2025, 5, 20))]
    assert derive_pfs(timeline(scans)) == censored(date(2025, 2, 17), 43, CENSOR_MISSED_TWO, "missed_two")


def test_scans_after_the_event_are_ignored():
    # Clinical PD 2025-03-20 (AVAL 74); SD scans 2025-03-31 and 2025-05-12 after it change nothing.
    scans = [sd(date(2025, 2, 17)), sd(date(2025, 3, 31)), sd(date(2025, 5, 12))]
    assert derive_pfs(timeline(scans, clinical=date(2025, 3, 20))) == event(
        date(2025, 3, 20), 74, EVENT_CLINICAL_PD, "clinical_pd"
    )
    # A death 2025-04-08 (start + 92) with no scan before it is censored at start, even if scans follow it on paper.
    result = derive_pfs(timeline([sd(date(2025, 5, 12))], death=date(2025, 4, 8)))
    assert result == censored(START, 1, CENSOR_MISSED_TWO_AT_START, "missed_two")


def test_scans_dated_before_start_are_not_post_baseline():
    # A scan 2025-01-02 (before randomization) scored PD is ignored; SD 2025-02-17: censored there, AVAL 43.
    result = derive_pfs(timeline([pd(date(2025, 1, 2)), sd(date(2025, 2, 17))]))
    assert result == censored(date(2025, 2, 17), 43, CENSOR_LAST_ADEQUATE, "last_adequate")


# OS: death from any cause; otherwise censored at the last date known alive.


def test_os_event_is_death_from_any_cause():
    # Death 2025-06-30 (day 175): AVAL = 176, whatever the progression or new therapy.
    t = timeline([pd(date(2025, 3, 31))], new_therapy=date(2025, 4, 21), death=date(2025, 6, 30))
    result = derive_os(t)
    assert result == event(date(2025, 6, 30), 176, EVENT_DEATH, "death")
    assert result.cnsr == 0


def test_os_is_censored_at_last_known_alive():
    # Alive, last known alive 2025-06-23 (day 168): AVAL = 169.
    result = derive_os(timeline([pd(date(2025, 3, 31))], alive=date(2025, 6, 23)))
    assert result == censored(date(2025, 6, 23), 169, CENSOR_LAST_KNOWN_ALIVE, "last_known_alive")
    assert result.cnsr == 1


def test_os_known_alive_only_on_the_start_day_is_day_one():
    assert derive_os(timeline(alive=START)) == censored(START, 1, CENSOR_LAST_KNOWN_ALIVE, "last_known_alive")


def test_run_in_participant_starts_at_enrollment():
    # The run-in cohort's start is its enrollment date: the same rules, counted from it. Enrolled 2024-11-04;
    # SD 2024-12-16 (day 42), PD 2025-01-27 (day 84): AVAL = 85.
    t = Timeline(date(2024, 11, 4), [sd(date(2024, 12, 16)), pd(date(2025, 1, 27))], None, None, None, date(2025, 2, 1))
    result = derive_pfs(t)
    assert (result.start, result.end, result.days, result.rule) == (date(2024, 11, 4), date(2025, 1, 27), 85, "pd")


def test_an_adequate_scan_on_the_day_of_a_clinical_progression_closes_the_gap():
    # SD 2025-02-17, SD 2025-05-20 (92 days later) and clinical PD 2025-05-20 (day 134): the scan that day is an
    # adequate assessment on or before the event, the gap to the event is 0 days -> event, AVAL = 135.
    result = derive_pfs(timeline([sd(date(2025, 2, 17)), sd(date(2025, 5, 20))], clinical=date(2025, 5, 20)))
    assert result == event(date(2025, 5, 20), 135, EVENT_CLINICAL_PD, "clinical_pd")


def test_a_scan_scored_pd_is_the_progression_even_if_flagged_not_adequate():
    # RECIST 1.1: a new lesion is PD even when other lesions were not assessed. PD 2025-03-31: AVAL = 85.
    scans = [sd(date(2025, 2, 17)), Scan(date(2025, 3, 31), adequate=False, progression=True)]
    assert derive_pfs(timeline(scans)) == event(date(2025, 3, 31), 85, EVENT_PD, "pd")


def test_an_event_before_the_start_is_refused_not_turned_into_a_negative_pfs():
    # The services refuse a progression dated before randomization; the function never returns AVAL <= 0.
    timeline = Timeline(
        start=date(2025, 1, 6),
        scans=[],
        clinical_progression=date(2025, 1, 1),
        death=None,
        new_therapy=None,
        last_known_alive=date(2025, 1, 6),
    )
    with pytest.raises(ValueError):
        derive_pfs(timeline)
