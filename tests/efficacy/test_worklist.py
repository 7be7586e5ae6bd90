"""The site worklist (efficacy.worklist): what is due or overdue, for the user's sites only, in a
fixed number of queries. "Today" is passed in, so the schedule is read on a known day."""

from datetime import timedelta
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from efficacy.assessments import record_baseline, record_follow_up
from efficacy.followup import record_clinical_progression
from efficacy.schedule import VisitKind, VisitStatus
from efficacy.selectors import efficacy_summary
from efficacy.treatment import record_cycle
from efficacy.worklist import worklist_for
from enrollment.models import Participant
from safety.models import AdverseEvent
from tests.efficacy.conftest import ago, cycle_doses, enrolled, three_targets
from tests.factories import make_ae, make_screening


def _today():
    """Today in the study's time zone, read when the test runs (a suite can cross midnight in Shanghai)."""
    return timezone.localdate()


def _scan(participant, user, days_ago):
    data = {"assessment_date": ago(52), "method": "ct", "comments": ""}
    record_baseline(participant=participant, data=data, targets=three_targets(), non_targets=[], user=user)
    scan = {
        "assessment_date": ago(days_ago),
        "method": "ct",
        "new_lesion": "no",
        "new_lesion_description": "",
        "investigator_response": "SD",
        "comments": "",
    }
    targets = {"T1": Decimal(30), "T2": Decimal(20), "T3": Decimal(10)}
    record_follow_up(participant=participant, data=scan, targets=targets, non_targets={}, user=user)


def _visits(work) -> list[tuple]:
    return [
        (
            d.participant.subject_id,
            d.visit.kind,
            d.visit.number,
            d.visit.status,
            d.visit.window_start,
            d.visit.window_end,
        )
        for d in work.assessments + work.follow_ups
    ]


def test_a_run_in_participant_enrolled_50_days_ago_without_assessment_is_overdue(sh01, coordinator, study):
    participant = enrolled(site=sh01, user=coordinator, days_ago=50)
    work = worklist_for(coordinator, today=_today())
    assert _visits(work) == [
        (participant.subject_id, VisitKind.TUMOUR_ASSESSMENT, 1, VisitStatus.OVERDUE, ago(15), ago(1))
    ]
    assert (work.assessments[0].overdue, work.overdue_count) == (True, 1)


def test_a_participant_assessed_in_the_window_is_not_listed(sh01, coordinator, study):
    participant = enrolled(site=sh01, user=coordinator, days_ago=50)
    _scan(participant, coordinator, 5)
    assert _visits(worklist_for(coordinator, today=_today())) == []


def test_the_participant_summary_shows_the_same_overdue_visit(sh01, coordinator, study):
    participant = enrolled(site=sh01, user=coordinator, days_ago=50)
    summary = efficacy_summary(participant, today=_today())
    assert (summary.next_visit.status, summary.next_visit.target, summary.missed) == (VisitStatus.OVERDUE, ago(8), 1)


def test_randomized_participants_are_scheduled_from_randomization(randomized, coordinator):
    participant = randomized("A")
    Participant.objects.filter(pk=participant.pk).update(randomized_at=timezone.now() - timedelta(days=50))
    work = worklist_for(coordinator, today=_today())
    assert [(d.participant.pk, d.visit.target, d.visit.status) for d in work.assessments] == [
        (participant.pk, ago(8), VisitStatus.OVERDUE)
    ]


def test_randomized_participants_are_not_scheduled_from_enrollment(randomized, coordinator):
    participant = randomized("B")  # randomized today
    Participant.objects.filter(pk=participant.pk).update(enrollment_date=ago(50))
    assert _visits(worklist_for(coordinator, today=_today())) == []


def test_after_progression_the_survival_follow_up_is_listed_instead(sh01, coordinator, study):
    participant = enrolled(site=sh01, user=coordinator, days_ago=100)
    data = {"progression_date": ago(95), "reason": "Dysphagia with new mediastinal mass"}
    record_clinical_progression(participant=participant, data=data, user=coordinator)
    work = worklist_for(coordinator, today=_today())
    assert _visits(work) == [
        (participant.subject_id, VisitKind.SURVIVAL_FOLLOW_UP, 1, VisitStatus.OVERDUE, ago(18), ago(4))
    ]


def test_a_cycle_due_within_7_days_is_listed(run_in, coordinator):
    record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(16)), user=coordinator)
    work = worklist_for(coordinator, today=_today())
    assert [(d.participant.pk, d.cycle, d.cycle_due, d.overdue) for d in work.cycles] == [
        (run_in.pk, 2, ago(-5), False)
    ]


def test_a_cycle_due_later_than_7_days_is_not_listed(run_in, coordinator):
    record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(5)), user=coordinator)
    assert worklist_for(coordinator, today=_today()).cycles == []


def test_a_cycle_is_overdue_by_the_worklists_day(run_in, coordinator):
    record_cycle(participant=run_in, cycle=1, doses=cycle_doses(ago(25)), user=coordinator)  # due 4 days ago
    on_time = worklist_for(coordinator, today=ago(10)).cycles[0]
    late = worklist_for(coordinator, today=_today()).cycles[0]
    assert (on_time.overdue, late.overdue) == (False, True)


def test_an_ongoing_ae_not_updated_for_30_days_is_listed(run_in, coordinator):
    stale = make_ae(participant=run_in, user=coordinator, onset_date=ago(40))
    make_ae(participant=run_in, user=coordinator, term="Fatigue", onset_date=ago(40))
    AdverseEvent.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=31))
    assert [ae.pk for ae in worklist_for(coordinator, today=_today()).stale_aes] == [stale.pk]


def test_an_eligible_screening_without_participant_is_listed(run_in, sh01, coordinator):
    waiting = make_screening(site=sh01, user=coordinator)
    assert [s.pk for s in worklist_for(coordinator, today=_today()).screenings] == [waiting.pk]


def test_another_sites_coordinator_never_sees_sh01_items(sh01, coordinator, coordinator_sh02, study):
    participant = enrolled(site=sh01, user=coordinator, days_ago=50)
    record_cycle(participant=participant, cycle=1, doses=cycle_doses(ago(16)), user=coordinator)
    stale = make_ae(participant=participant, user=coordinator, onset_date=ago(40))
    AdverseEvent.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=31))
    make_screening(site=sh01, user=coordinator)
    theirs, ours = worklist_for(coordinator_sh02, today=_today()), worklist_for(coordinator, today=_today())
    assert (theirs.empty, len(ours.assessments), len(ours.cycles), len(ours.stale_aes), len(ours.screenings)) == (
        True,
        1,
        1,
        1,
        1,
    )


def _busy_participants(site, user, count: int) -> None:
    for _ in range(count):
        participant = enrolled(site=site, user=user, days_ago=50)
        record_cycle(participant=participant, cycle=1, doses=cycle_doses(ago(16)), user=user)
        record_clinical_progression(
            participant=participant, data={"progression_date": ago(20), "reason": "Dysphagia"}, user=user
        )
        make_screening(site=site, user=user)


def _queries(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        worklist_for(user, today=_today())
    return len(captured)


def test_the_worklist_runs_a_fixed_number_of_queries_whatever_the_participants(sh01, coordinator, study):
    _busy_participants(sh01, coordinator, 2)
    few = _queries(coordinator)
    _busy_participants(sh01, coordinator, 8)
    assert (len(worklist_for(coordinator, today=_today()).cycles), _queries(coordinator)) == (0, few)
