"""Issue 22, automatic queries: data checks that do not block entry but need a person's look,
raised by the system once per rule and record (never again, also once closed), closed by a person."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from efficacy.assessments import record_baseline, record_follow_up
from monitoring.models import Query, QueryStatus
from monitoring.queries import answer_query, close_query, raise_query, reopen_query
from monitoring.rules import raise_automatic_queries
from safety.services import update_adverse_event
from tests.efficacy.conftest import ago, enrolled, three_targets
from tests.factories import make_ae, make_participant


def _automatic(rule):
    return list(Query.objects.filter(rule=rule))


def _disagreeing_scan(participant, user):
    """Targets 30+20+10 → 10+10+10 mm: the computed response is PR; the investigator says SD."""
    record_baseline(
        participant=participant,
        data={"assessment_date": ago(61), "method": "ct"},
        targets=three_targets(),
        non_targets=[],
        user=user,
    )
    return record_follow_up(
        participant=participant,
        data={"assessment_date": ago(5), "method": "ct", "new_lesion": "no", "investigator_response": "SD"},
        targets={"T1": Decimal(10), "T2": Decimal(10), "T3": Decimal(10)},
        non_targets={},
        user=user,
    )


@pytest.fixture
def early_consent(sh01, coordinator, study):
    """Consented 100 days ago, enrolled 60 days ago: an AE may start well before enrollment."""
    return make_participant(
        site=sh01, user=coordinator, enrollment_date=ago(60), screening_date=ago(61), consent_date=ago(100)
    )


@pytest.fixture
def long_ago(sh01, coordinator, study):
    """Enrolled 100 days ago."""
    return enrolled(site=sh01, user=coordinator, days_ago=100)


def test_a_recist_disagreement_raises_one_automatic_query(participant, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        scan = _disagreeing_scan(participant, coordinator)
    assert scan.computed_response == "PR"
    (query,) = Query.objects.all()
    assert (query.rule, query.record_type, query.record_id, query.field) == (
        "recist-disagreement",
        "assessment",
        scan.pk,
        "investigator_response",
    )
    assert (query.raised_by, query.automatic, query.participant, query.site) == (
        None,
        True,
        participant,
        participant.site,
    )
    assert "(SD)" in query.text and "(PR)" in query.text
    step = query.steps.get()
    assert (step.action, step.by) == ("raised", None)
    assert query.history.get().history_change_reason == "Query raised by a data check"


def test_an_agreeing_scan_raises_nothing(participant, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record_baseline(
            participant=participant,
            data={"assessment_date": ago(61), "method": "ct"},
            targets=three_targets(),
            non_targets=[],
            user=coordinator,
        )
        record_follow_up(
            participant=participant,
            data={"assessment_date": ago(5), "method": "ct", "new_lesion": "no", "investigator_response": "PR"},
            targets={"T1": Decimal(10), "T2": Decimal(10), "T3": Decimal(10)},
            non_targets={},
            user=coordinator,
        )
    assert not Query.objects.exists()


def test_an_ae_long_before_enrollment_raises_one_automatic_query(
    early_consent, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ae = make_ae(participant=early_consent, user=coordinator, onset_date=ago(80))
    (query,) = _automatic("ae-onset-before-enrollment")
    assert (query.record_type, query.record_id, query.field, query.raised_by) == ("ae", ae.pk, "onset_date", None)
    assert Query.objects.count() == 1


def test_an_ae_just_before_enrollment_raises_nothing(early_consent, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_ae(participant=early_consent, user=coordinator, onset_date=ago(74))
    assert not Query.objects.exists()


def test_an_ae_without_end_date_after_90_days_raises_one_automatic_query(
    long_ago, coordinator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ae = make_ae(participant=long_ago, user=coordinator, onset_date=ago(95))
    (query,) = _automatic("ae-end-date-missing")
    assert (query.record_type, query.record_id, query.field, query.raised_by) == ("ae", ae.pk, "end_date", None)
    assert Query.objects.count() == 1


def test_an_ended_or_recent_ae_raises_nothing(long_ago, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_ae(participant=long_ago, user=coordinator, onset_date=ago(95), end_date=ago(90), ongoing=False)
        make_ae(participant=long_ago, user=coordinator, onset_date=ago(89), term="Fatigue")
    assert not Query.objects.exists()


def test_the_sweep_runs_only_once_the_write_commits(long_ago, coordinator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_ae(participant=long_ago, user=coordinator, onset_date=ago(95))
    assert callbacks and not Query.objects.exists()


def test_a_write_rolled_back_raises_nothing(long_ago, coordinator, monitor, django_capture_on_commit_callbacks):
    """The correction is saved (end date cleared: the rule would fire), then refused as a whole
    (the queried onset is unchanged): the sweep of the rolled-back write never runs."""
    ae = make_ae(participant=long_ago, user=coordinator, onset_date=ago(95), end_date=ago(90), ongoing=False)
    query = raise_query(user=monitor, record=ae, field="onset_date", text="Onset?")
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        answer_query(
            query=query,
            user=coordinator,
            text="Ongoing after all",
            correction={"onset_date": ago(95), "end_date": None, "ongoing": True},
        )
    assert list(Query.objects.all()) == [query]
    assert raise_automatic_queries() == 0


def test_a_rule_never_raises_twice_also_after_a_person_closed_it(
    long_ago, coordinator, monitor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ae = make_ae(participant=long_ago, user=coordinator, onset_date=ago(95))
    assert raise_automatic_queries() == 0
    (query,) = Query.objects.all()
    close_query(query=query, user=monitor, text="Still ongoing, confirmed by phone")
    assert raise_automatic_queries() == 0
    with django_capture_on_commit_callbacks(execute=True):
        update_adverse_event(ae=ae, data={"action_taken": "interrupted"}, user=coordinator, reason="Source")
    assert Query.objects.count() == 1
    query.refresh_from_db()
    assert query.status == QueryStatus.CLOSED


def test_the_daily_sweep_raises_what_came_with_time(long_ago, coordinator):
    """Without the on-commit sweep (as when 90 days pass with no write), the daily run raises it."""
    make_ae(participant=long_ago, user=coordinator, onset_date=ago(95))
    assert not Query.objects.exists()
    assert raise_automatic_queries() == 1
    assert raise_automatic_queries() == 0
    assert len(_automatic("ae-end-date-missing")) == 1


def test_the_sweep_is_limited_to_the_participants_named(sh01, coordinator, study):
    first = enrolled(site=sh01, user=coordinator, days_ago=100)
    second = enrolled(site=sh01, user=coordinator, days_ago=100)
    make_ae(participant=first, user=coordinator, onset_date=ago(95))
    make_ae(participant=second, user=coordinator, onset_date=ago(95))
    assert raise_automatic_queries([second.pk]) == 1
    assert list(Query.objects.values_list("participant", flat=True)) == [second.pk]
    assert raise_automatic_queries([]) == 0
    assert raise_automatic_queries() == 1
    assert Query.objects.count() == 2


def test_each_rule_of_one_record_is_raised_once(early_consent, coordinator):
    """An AE that started long before enrollment and has no end date 90 days on: two rules, two queries."""
    early = make_participant(
        site=early_consent.site,
        user=coordinator,
        enrollment_date=ago(60),
        screening_date=ago(61),
        consent_date=ago(100),
    )
    make_ae(participant=early, user=coordinator, onset_date=ago(95))
    assert raise_automatic_queries() == 2
    assert sorted(Query.objects.values_list("rule", flat=True)) == ["ae-end-date-missing", "ae-onset-before-enrollment"]


@pytest.mark.parametrize("role", ["monitor", "pi", "admin_user"])
def test_any_person_who_raises_queries_closes_an_automatic_one(request, long_ago, coordinator, role):
    make_ae(participant=long_ago, user=coordinator, onset_date=ago(95))
    raise_automatic_queries()
    query = Query.objects.get()
    user = request.getfixturevalue(role)
    assert close_query(query=query, user=user).status == QueryStatus.CLOSED
    assert reopen_query(query=query, user=user, text="Check again").status == QueryStatus.OPEN


@pytest.mark.parametrize("role", ["coordinator", "investigator"])
def test_site_staff_do_not_close_an_automatic_query(request, long_ago, coordinator, role):
    make_ae(participant=long_ago, user=coordinator, onset_date=ago(95))
    raise_automatic_queries()
    query = Query.objects.get()
    with pytest.raises(PermissionDenied):
        close_query(query=query, user=request.getfixturevalue(role))
    query.refresh_from_db()
    assert (query.status, query.version) == (QueryStatus.OPEN, 1)


def test_the_site_answers_an_automatic_query_with_the_end_date(long_ago, coordinator):
    ae = make_ae(participant=long_ago, user=coordinator, onset_date=ago(95))
    raise_automatic_queries()
    query = Query.objects.get()
    answer_query(
        query=query,
        user=coordinator,
        text="Resolved on day 10",
        correction={"end_date": ago(85).isoformat(), "ongoing": False, "outcome": "recovered"},
    )
    ae.refresh_from_db()
    assert (ae.end_date, ae.ongoing, ae.outcome) == (ago(85), False, "recovered")
    step = query.steps.get(action="answered")
    assert (step.correction["field"], step.correction["old"], step.correction["new"]) == (
        "end_date",
        "",
        ago(85).isoformat(),
    )
