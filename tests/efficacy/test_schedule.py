"""The visit schedule rules (efficacy/schedule.py). Pure: no database.

Dates are worked by hand from ANCHOR = Mon 2025-01-06 (day 0). With the default settings (42 ± 7 days):
visit 1 target day 42 = 2025-02-17, window days 35..49 = 2025-02-10..2025-02-24;
visit 2 target day 84 = 2025-03-31, window days 77..91 = 2025-03-24..2025-04-07;
visit 3 target day 126 = 2025-05-12, window days 119..133 = 2025-05-05..2025-05-19.
"""

from datetime import date

import pytest
from django.utils import translation

from efficacy.schedule import (
    ScheduleSettings,
    Visit,
    VisitKind,
    VisitStatus,
    in_week,
    missed_count,
    next_cycle_due,
    next_visit,
    visits,
)

ANCHOR = date(2025, 1, 6)
SETTINGS = ScheduleSettings()
DONE, UPCOMING, DUE = VisitStatus.DONE, VisitStatus.UPCOMING, VisitStatus.DUE
OVERDUE, MISSED = VisitStatus.OVERDUE, VisitStatus.MISSED


def assessments(done_dates, today, stop=None, settings=SETTINGS):
    return visits(
        kind=VisitKind.TUMOUR_ASSESSMENT,
        anchor=ANCHOR,
        interval_days=settings.assessment_interval_days,
        done_dates=done_dates,
        today=today,
        settings=settings,
        stop=stop,
    )


def statuses(schedule):
    return [(v.number, v.status) for v in schedule]


def test_targets_and_windows_are_counted_from_the_anchor():
    # today day 0: visit 1 (target day 42 = 2025-02-17, window 2025-02-10..2025-02-24) is the next one.
    [first] = assessments([], today=ANCHOR)
    assert first == Visit(
        kind=VisitKind.TUMOUR_ASSESSMENT,
        number=1,
        target=date(2025, 2, 17),
        window_start=date(2025, 2, 10),
        window_end=date(2025, 2, 24),
        done_on=None,
        status=UPCOMING,
    )


@pytest.mark.parametrize("done_on", [date(2025, 2, 10), date(2025, 2, 24)])  # day 42-7 = day 35, day 42+7 = day 49
def test_window_edges_are_inclusive(done_on):
    schedule = assessments([done_on], today=date(2025, 3, 7))  # today day 60
    assert schedule[0].status == DONE
    assert schedule[0].done_on == done_on


@pytest.mark.parametrize("outside", [date(2025, 2, 9), date(2025, 2, 25)])  # day 34 and day 50
def test_dates_just_outside_the_window_fulfil_nothing(outside):
    # today day 60 (2025-03-07): visit 1 closed 2025-02-24, visit 2 opens 2025-03-24 -> overdue, not done.
    schedule = assessments([outside], today=date(2025, 3, 7))
    assert statuses(schedule) == [(1, OVERDUE), (2, UPCOMING)]
    assert schedule[0].done_on is None


def test_upcoming_before_the_window_and_due_inside_it():
    # day 34 (2025-02-09): window of visit 1 not open yet.
    assert statuses(assessments([], today=date(2025, 2, 9))) == [(1, UPCOMING)]
    # day 35 (2025-02-10) and day 49 (2025-02-24): inside the window; visit 2 (opens day 77) is the next upcoming.
    assert statuses(assessments([], today=date(2025, 2, 10))) == [(1, DUE), (2, UPCOMING)]
    assert statuses(assessments([], today=date(2025, 2, 24))) == [(1, DUE), (2, UPCOMING)]


def test_the_list_ends_with_the_next_upcoming_visit_only():
    # done day 42 (2025-02-17) and day 84 (2025-03-31); today day 100 (2025-04-16) -> visit 3 (day 126) is next.
    schedule = assessments([date(2025, 2, 17), date(2025, 3, 31)], today=date(2025, 4, 16))
    assert statuses(schedule) == [(1, DONE), (2, DONE), (3, UPCOMING)]
    assert schedule[-1].target == date(2025, 5, 12)


def test_missed_when_the_next_window_has_opened():
    # today day 80 (2025-03-27): visit 1 closed 2025-02-24 and visit 2's window opened 2025-03-24.
    schedule = assessments([], today=date(2025, 3, 27))
    assert statuses(schedule) == [(1, MISSED), (2, DUE), (3, UPCOMING)]


def test_overdue_only_for_the_latest_closed_visit():
    # today day 100 (2025-04-16): visits 1 and 2 closed (2025-02-24, 2025-04-07); visit 3 opens 2025-05-05.
    schedule = assessments([], today=date(2025, 4, 16))
    assert statuses(schedule) == [(1, MISSED), (2, OVERDUE), (3, UPCOMING)]


def test_one_done_date_cannot_fill_two_visits():
    # ± 25 days: visit 1 window days 17..67, visit 2 window days 59..109 overlap on days 59..67.
    wide = ScheduleSettings(window_days=25)
    # day 60 (2025-03-07) lies in both windows: it fills visit 1 only. today day 70 (2025-03-17): visit 2 due.
    schedule = assessments([date(2025, 3, 7)], today=date(2025, 3, 17), settings=wide)
    assert statuses(schedule) == [(1, DONE), (2, DUE), (3, UPCOMING)]
    # a second date in the overlap (day 62 = 2025-03-09) fills visit 2, earliest visit first.
    schedule = assessments([date(2025, 3, 9), date(2025, 3, 7)], today=date(2025, 3, 17), settings=wide)
    assert [(v.number, v.done_on) for v in schedule[:2]] == [(1, date(2025, 3, 7)), (2, date(2025, 3, 9))]


def test_two_dates_in_one_window_fill_one_visit_and_the_later_is_unscheduled():
    # day 40 (2025-02-15) and day 45 (2025-02-20) both in visit 1's window; visit 2 stays to do.
    schedule = assessments([date(2025, 2, 20), date(2025, 2, 15)], today=date(2025, 3, 7))
    assert statuses(schedule) == [(1, DONE), (2, UPCOMING)]
    assert schedule[0].done_on == date(2025, 2, 15)


def test_stop_at_progression_ends_assessments():
    # done day 42 and 84; progression day 105 (2025-04-21); today day 200 (2025-07-25).
    # visit 3's window opens day 119 > stop: not generated, nothing upcoming.
    schedule = assessments([date(2025, 2, 17), date(2025, 3, 31)], today=date(2025, 7, 25), stop=date(2025, 4, 21))
    assert statuses(schedule) == [(1, DONE), (2, DONE)]
    assert next_visit(schedule) is None


def test_undone_visit_whose_window_was_open_at_stop_is_not_counted():
    # progression day 122 (2025-05-08) inside visit 3's window (2025-05-05..2025-05-19); today day 200.
    schedule = assessments([date(2025, 2, 17), date(2025, 3, 31)], today=date(2025, 7, 25), stop=date(2025, 5, 8))
    assert statuses(schedule) == [(1, DONE), (2, DONE)]
    assert missed_count(schedule) == 0


def test_the_assessment_showing_progression_fulfils_its_visit():
    # the scan on day 122 (2025-05-08) is the progression date itself: visit 3 (target day 126 > stop) is done.
    done = [date(2025, 2, 17), date(2025, 3, 31), date(2025, 5, 8)]
    schedule = assessments(done, today=date(2025, 7, 25), stop=date(2025, 5, 8))
    assert statuses(schedule) == [(1, DONE), (2, DONE), (3, DONE)]


def test_undone_visit_closed_before_stop_is_missed_after_stop():
    # visit 2 closed day 91 (2025-04-07) undone; progression day 105 (2025-04-21); today day 200.
    # Before stop it would be overdue; after stop nothing is left to do, so it is missed.
    schedule = assessments([date(2025, 2, 17)], today=date(2025, 7, 25), stop=date(2025, 4, 21))
    assert statuses(schedule) == [(1, DONE), (2, MISSED)]
    assert next_visit(schedule) is None


def test_stop_not_reached_yet_keeps_the_visits_up_to_stop():
    # study completion day 130 (2025-05-16), today day 100 (2025-04-16): visit 3 opens day 119 <= stop.
    schedule = assessments([date(2025, 2, 17), date(2025, 3, 31)], today=date(2025, 4, 16), stop=date(2025, 5, 16))
    assert statuses(schedule) == [(1, DONE), (2, DONE), (3, UPCOMING)]
    # completion day 110 (2025-04-26) before visit 3 opens: nothing after visit 2.
    schedule = assessments([date(2025, 2, 17), date(2025, 3, 31)], today=date(2025, 4, 16), stop=date(2025, 4, 26))
    assert statuses(schedule) == [(1, DONE), (2, DONE)]


def test_missed_count_is_overdue_plus_missed():
    # today day 100: visit 1 missed, visit 2 overdue, visit 3 upcoming -> 2.
    assert missed_count(assessments([], today=date(2025, 4, 16))) == 2
    # visit 1 done day 42: only visit 2 overdue -> 1.
    assert missed_count(assessments([date(2025, 2, 17)], today=date(2025, 4, 16))) == 1
    assert missed_count([]) == 0


def test_next_visit_is_the_first_due_overdue_or_upcoming():
    # today day 100: visit 1 missed is skipped, visit 2 overdue comes before visit 3 upcoming.
    assert next_visit(assessments([], today=date(2025, 4, 16))).number == 2
    # today day 80 (2025-03-27): visit 2 due.
    assert next_visit(assessments([], today=date(2025, 3, 27))).status == DUE
    # all done so far: visit 2 upcoming.
    assert next_visit(assessments([date(2025, 2, 17)], today=date(2025, 3, 7))).number == 2
    assert next_visit([]) is None


def test_next_cycle_due_none_before_cycle_1():
    assert next_cycle_due(cycle_dates=[], settings=SETTINGS) is None


def test_next_cycle_due_is_last_cycle_plus_21_days():
    # cycle 1 on 2025-01-06, cycle 2 on 2025-01-28 (a day late): next = 2025-01-28 + 21 = 2025-02-18.
    assert next_cycle_due(cycle_dates=[date(2025, 1, 28), date(2025, 1, 6)], settings=SETTINGS) == date(2025, 2, 18)


def test_next_cycle_due_none_after_stop():
    stop = date(2025, 2, 1)
    assert next_cycle_due(cycle_dates=[date(2025, 1, 6)], settings=SETTINGS, stop=stop) is None


def test_survival_follow_up_counts_84_days_from_progression():
    # progression 2025-06-02: contact 1 target day 84 = 2025-08-25 (window 2025-08-18..2025-09-01),
    # contact 2 target day 168 = 2025-11-17 (window 2025-11-10..2025-11-24), contact 3 target day 252 = 2026-02-09.
    progression = date(2025, 6, 2)
    schedule = visits(
        kind=VisitKind.SURVIVAL_FOLLOW_UP,
        anchor=progression,
        interval_days=SETTINGS.followup_interval_days,
        done_dates=[date(2025, 8, 28)],  # day 87
        today=date(2025, 11, 19),  # day 170
        settings=SETTINGS,
    )
    assert statuses(schedule) == [(1, DONE), (2, DUE), (3, UPCOMING)]
    assert [v.target for v in schedule] == [date(2025, 8, 25), date(2025, 11, 17), date(2026, 2, 9)]
    assert all(v.kind == VisitKind.SURVIVAL_FOLLOW_UP for v in schedule)


def test_survival_follow_up_ends_at_death():
    # death 2025-10-01 (day 121): contact 2 opens day 161 > death, so only contact 1 (done) remains.
    schedule = visits(
        kind=VisitKind.SURVIVAL_FOLLOW_UP,
        anchor=date(2025, 6, 2),
        interval_days=84,
        done_dates=[date(2025, 8, 25)],
        today=date(2025, 12, 19),
        settings=SETTINGS,
        stop=date(2025, 10, 1),
    )
    assert statuses(schedule) == [(1, DONE)]


def test_in_week_is_today_to_today_plus_6():
    today = date(2025, 3, 3)
    assert in_week(date(2025, 3, 3), today)
    assert in_week(date(2025, 3, 9), today)  # + 6 days
    assert not in_week(date(2025, 3, 10), today)  # + 7 days
    assert not in_week(date(2025, 3, 2), today)  # yesterday


def test_interval_must_be_positive():
    with pytest.raises(ValueError):
        visits(
            kind=VisitKind.TUMOUR_ASSESSMENT,
            anchor=ANCHOR,
            interval_days=0,
            done_dates=[],
            today=ANCHOR,
            settings=SETTINGS,
        )


def test_labels_are_translatable_names():
    with translation.override("en"):
        assert str(VisitKind.TUMOUR_ASSESSMENT.label) == "Tumour assessment"
        assert str(VisitKind.SURVIVAL_FOLLOW_UP.label) == "Survival follow-up"
        assert [str(s.label) for s in VisitStatus] == ["Done", "Upcoming", "Due", "Overdue", "Missed"]
