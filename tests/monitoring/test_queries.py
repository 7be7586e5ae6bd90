"""Issue 22, data queries: who raises, who answers (only the record's own site), the thread's
states and steps, and a correction made with the answer through the record's own service."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from enrollment.models import ParticipantStatus
from monitoring.models import Query, QueryStatus, QueryStep
from monitoring.queries import (
    QueryRefused,
    answer_query,
    close_query,
    queries_visible_to,
    raise_query,
    reopen_query,
)
from safety.models import AdverseEvent
from safety.selectors import stopping_rule_count
from scr_escc.audit import StaleEdit
from scr_escc.models import Alert, Study
from scr_escc.selectors import get_study
from tests.efficacy.conftest import enrolled
from tests.factories import make_ae


def _state(query: Query) -> tuple:
    """What a refused step must leave as it was: the query row and its thread."""
    query.refresh_from_db()
    return query.status, query.version, query.answered_at, query.closed_at, query.steps.count()


# ---- raising ----------------------------------------------------------------------------------


def test_a_monitor_raises_a_query_on_one_field_of_an_ae(ae, monitor, participant, sh01):
    query = raise_query(user=monitor, record=ae, field="grade", text="  Source says grade 3?  ")
    assert (query.record_type, query.record_id, query.field) == ("ae", ae.pk, "grade")
    assert (query.site, query.participant, query.status) == (sh01, participant, QueryStatus.OPEN)
    assert (query.text, query.raised_by, query.rule) == ("Source says grade 3?", monitor, "")
    step = query.steps.get()
    assert (step.action, step.by, step.text, step.at) == ("raised", monitor, "Source says grade 3?", query.raised_at)


def test_a_query_on_the_whole_record(ae, admin_user):
    query = raise_query(user=admin_user, record=ae, text="Is this event on the source at all?")
    assert (query.field, query.raised_by) == ("", admin_user)


def test_a_query_on_a_screening_or_participant_belongs_to_the_participant(participant, pi, sh01):
    on_screening = raise_query(user=pi, record=participant.screening, field="ecog", text="ECOG 1 on the source?")
    on_participant = raise_query(user=pi, record=participant, field="enrollment_date", text="Enrolled that day?")
    assert (on_screening.participant, on_screening.site, on_screening.record_type) == (participant, sh01, "screening")
    assert (on_participant.participant, on_participant.record_type) == (participant, "participant")


@pytest.mark.parametrize("field", ["bogus", "term", "created_by", "version"])
def test_a_field_must_be_one_of_the_records_queryable_fields(ae, monitor, field):
    with pytest.raises(ValidationError) as refused:
        raise_query(user=monitor, record=ae, field=field, text="?")
    assert set(refused.value.message_dict) == {"field"}
    assert not Query.objects.exists()


@pytest.mark.parametrize("text", ["", "   ", None])
def test_a_query_without_text_is_refused(ae, monitor, text):
    with pytest.raises(ValidationError) as refused:
        raise_query(user=monitor, record=ae, field="grade", text=text)
    assert set(refused.value.message_dict) == {"text"}
    assert not Query.objects.exists()


@pytest.mark.parametrize("role", ["coordinator", "investigator"])
def test_site_staff_do_not_raise_queries(request, ae, role):
    with pytest.raises(PermissionDenied):
        raise_query(user=request.getfixturevalue(role), record=ae, field="grade", text="?")
    assert not Query.objects.exists()


def test_a_record_monitoring_does_not_know_cannot_be_queried(participant, monitor, study):
    with pytest.raises(ValidationError) as refused:
        raise_query(user=monitor, record=study, text="?")
    assert set(refused.value.message_dict) == {"record_type"}


# ---- answering: only the record's own site ------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "investigator"])
def test_staff_of_the_records_site_answer(request, grade_query, role):
    user = request.getfixturevalue(role)
    answered = answer_query(query=grade_query, user=user, text="Grade 2 on the source; no change.")
    assert (answered.status, answered.version) == (QueryStatus.ANSWERED, 2)
    step = answered.steps.get(action="answered")
    assert (step.by, step.text, step.correction, step.at) == (
        user,
        "Grade 2 on the source; no change.",
        {},
        answered.answered_at,
    )


@pytest.mark.parametrize("role", ["monitor", "monitor_no_site", "monitor_sh01", "pi", "admin_user"])
def test_study_wide_readers_never_answer(request, grade_query, role):
    before = _state(grade_query)
    with pytest.raises(PermissionDenied):
        answer_query(query=grade_query, user=request.getfixturevalue(role), text="Answered by the wrong person")
    assert _state(grade_query) == before


def test_a_monitor_of_no_site_can_raise_but_never_answer(ae, monitor_no_site):
    query = raise_query(user=monitor_no_site, record=ae, field="grade", text="Grade?")
    assert query.status == QueryStatus.OPEN
    with pytest.raises(PermissionDenied):
        answer_query(query=query, user=monitor_no_site, text="Grade 2", correction={"grade": 3})
    ae.refresh_from_db()
    assert (_state(query), ae.grade, ae.version) == ((QueryStatus.OPEN, 1, None, None, 1), 2, 1)


@pytest.mark.parametrize("role", ["coordinator_sh02", "investigator_sh02"])
def test_staff_of_another_site_cannot_answer(request, grade_query, role):
    before = _state(grade_query)
    with pytest.raises(PermissionDenied):
        answer_query(query=grade_query, user=request.getfixturevalue(role), text="Not ours")
    assert _state(grade_query) == before


def test_an_sh02_coordinator_never_sees_an_sh01_query(grade_query, participant_sh02, coordinator_sh02, monitor):
    theirs = raise_query(user=monitor, record=participant_sh02, field="enrollment_date", text="Date?")
    assert list(queries_visible_to(coordinator_sh02)) == [theirs]


def test_sh01_staff_see_their_queries_and_study_wide_readers_see_all(
    grade_query, participant_sh02, coordinator, monitor, pi
):
    theirs = raise_query(user=monitor, record=participant_sh02, field="enrollment_date", text="Date?")
    assert list(queries_visible_to(coordinator)) == [grade_query]
    assert set(queries_visible_to(monitor)) == set(queries_visible_to(pi)) == {grade_query, theirs}


def test_an_inactive_user_sees_no_query(grade_query, coordinator):
    coordinator.is_active = False
    coordinator.save()
    assert not queries_visible_to(coordinator).exists()


def test_an_answer_needs_text(grade_query, coordinator):
    before = _state(grade_query)
    with pytest.raises(ValidationError) as refused:
        answer_query(query=grade_query, user=coordinator, text=" ")
    assert set(refused.value.message_dict) == {"text"}
    assert _state(grade_query) == before


@pytest.mark.parametrize("status", ["answered", "closed"])
def test_only_an_open_query_is_answered(grade_query, coordinator, monitor, status):
    answer_query(query=grade_query, user=coordinator, text="Grade 2")
    if status == "closed":
        close_query(query=grade_query, user=monitor)
    before = _state(grade_query)
    with pytest.raises(QueryRefused) as refused:
        answer_query(query=grade_query, user=coordinator, text="Again")
    assert f"This query is {status}" in str(refused.value)
    assert _state(grade_query) == before


def test_a_stale_answer_is_refused(grade_query, coordinator, investigator):
    seen = grade_query.version
    answer_query(query=grade_query, user=investigator, text="Grade 2", expected_version=seen)
    reopen_query(query=grade_query, user=grade_query.raised_by, text="Please check the CT report")
    before = _state(grade_query)
    with pytest.raises(StaleEdit):
        answer_query(query=grade_query, user=coordinator, text="Late answer", expected_version=seen)
    assert _state(grade_query) == before


# ---- answering with a correction ----------------------------------------------------------------


def test_a_correction_goes_through_the_ae_service_with_the_query_as_reason(grade_query, ae, coordinator):
    answer_query(query=grade_query, user=coordinator, text="Grade 3 on the CT report", correction={"grade": 3})
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (3, 2)
    newest = ae.history.order_by("-history_date", "-history_id").first()
    assert newest.history_change_reason == f"Query Q-{grade_query.pk}: Grade 3 on the CT report"
    assert newest.history_user == coordinator
    step = grade_query.steps.get(action="answered")
    assert step.correction == {"field": "grade", "old": "2", "new": "3"}


def test_a_correction_sent_as_text_is_read_as_the_fields_value(grade_query, ae, investigator):
    answer_query(query=grade_query, user=investigator, text="Grade 3", correction={"grade": "3"})
    ae.refresh_from_db()
    assert ae.grade == 3


def test_a_correction_to_the_same_value_is_refused(grade_query, ae, coordinator):
    before = _state(grade_query)
    with pytest.raises(ValidationError) as refused:
        answer_query(query=grade_query, user=coordinator, text="Grade 2", correction={"grade": 2})
    assert set(refused.value.message_dict) == {"value"}
    ae.refresh_from_db()
    assert (ae.grade, ae.version, ae.history.count()) == (2, 1, 1)
    assert _state(grade_query) == before


def test_a_correction_the_ae_rules_refuse_changes_nothing(grade_query, ae, coordinator):
    """Grade 5 alone (no outcome fatal, no date of death) is refused by the AE rules."""
    before = _state(grade_query)
    with pytest.raises(ValidationError) as refused:
        answer_query(query=grade_query, user=coordinator, text="Died", correction={"grade": 5})
    assert {"outcome", "death_date"} <= set(refused.value.message_dict)
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)
    assert _state(grade_query) == before


def test_a_value_that_is_no_grade_is_refused_on_its_field(grade_query, ae, coordinator):
    before = _state(grade_query)
    with pytest.raises(ValidationError) as refused:
        answer_query(query=grade_query, user=coordinator, text="Grade three", correction={"grade": "three"})
    assert set(refused.value.message_dict) == {"grade"}
    assert _state(grade_query) == before


@pytest.mark.parametrize("correction", [{"onset_date": timezone.localdate()}, {"": 3}])
def test_a_correction_must_name_the_queried_field(grade_query, ae, coordinator, correction):
    before = _state(grade_query)
    with pytest.raises(ValidationError) as refused:
        answer_query(query=grade_query, user=coordinator, text="Fixed", correction=correction)
    assert set(refused.value.message_dict) == {"value"}
    assert _state(grade_query) == before


def test_a_correction_may_not_name_a_field_no_query_may_name(grade_query, ae, coordinator):
    with pytest.raises(ValidationError):
        answer_query(query=grade_query, user=coordinator, text="Fixed", correction={"grade": 3, "term": "Cough"})
    ae.refresh_from_db()
    assert (ae.grade, ae.term) == (2, "Pneumonitis")


def test_a_whole_record_query_is_answered_without_correction(ae, monitor, coordinator):
    query = raise_query(user=monitor, record=ae, text="Check the whole record")
    with pytest.raises(ValidationError):
        answer_query(query=query, user=coordinator, text="Fixed", correction={"grade": 3})
    assert _state(query)[0] == QueryStatus.OPEN


def test_a_participant_record_is_not_corrected_through_a_query(participant, monitor, coordinator):
    query = raise_query(user=monitor, record=participant, field="enrollment_date", text="Date?")
    with pytest.raises(ValidationError) as refused:
        answer_query(query=query, user=coordinator, text="Wrong", correction={"enrollment_date": timezone.localdate()})
    assert set(refused.value.message_dict) == {"value"}
    participant.refresh_from_db()
    assert participant.version == 1


def test_a_screening_is_corrected_through_its_own_service(participant, monitor, coordinator):
    screening = participant.screening
    query = raise_query(user=monitor, record=screening, field="ecog", text="ECOG on the source is 0")
    answer_query(query=query, user=coordinator, text="Yes, 0", correction={"ecog": "0"})
    screening.refresh_from_db()
    assert (screening.ecog, screening.eligible) == (0, True)
    assert screening.history.order_by("-history_date").first().history_change_reason == f"Query Q-{query.pk}: Yes, 0"


# ---- the stopping rule recounts on a correction made through a query -------------------------------


def _grade5(today) -> dict:
    return {
        "grade": 5,
        "outcome": "fatal",
        "death_date": today,
        "serious": True,
        "seriousness_criteria": ["death"],
        "ongoing": False,
    }


def test_a_related_grade4_corrected_to_grade5_through_a_query_halts_the_study(sh01, coordinator, monitor, pi, study):
    today = timezone.localdate()
    first = enrolled(site=sh01, user=coordinator, days_ago=30)
    make_ae(participant=first, user=coordinator, grade=5, related="possible", term="Sepsis")
    assert get_study().treatment_related_grade5 == 1
    second = enrolled(site=sh01, user=coordinator, days_ago=30)
    grade4 = make_ae(participant=second, user=coordinator, grade=4, related="probable")
    query = raise_query(user=monitor, record=grade4, field="grade", text="The patient died of it?")

    answer_query(query=query, user=coordinator, text="Died today", correction=_grade5(today))

    study = get_study()
    assert (study.treatment_related_grade5, study.phase) == (2, Study.Phase.HALTED)
    assert stopping_rule_count() == 2
    assert Alert.objects.filter(kind="stopping_rule_triggered").count() == 1
    second.refresh_from_db()
    assert (second.status, second.death_date) == (ParticipantStatus.DECEASED, today)
    step = query.steps.get(action="answered")
    assert step.correction["field"] == "grade" and (step.correction["old"], step.correction["new"]) == ("4", "5")
    assert {c["field"] for c in step.correction["also"]} == {
        "outcome",
        "death_date",
        "serious",
        "seriousness_criteria",
        "ongoing",
    }


def test_a_related_grade5_corrected_down_through_a_query_no_longer_counts(participant, coordinator, monitor):
    death = make_ae(participant=participant, user=coordinator, grade=5, related="possible")
    assert get_study().treatment_related_grade5 == 1
    query = raise_query(user=monitor, record=death, field="grade", text="The source says grade 4 and alive")
    correction = {
        "grade": 4,
        "outcome": "not_recovered",
        "death_date": None,
        "serious": False,
        "seriousness_criteria": [],
        "ongoing": True,
    }
    answer_query(query=query, user=coordinator, text="Grade 4, alive", correction=correction)
    study = get_study()
    assert (study.treatment_related_grade5, study.phase, stopping_rule_count()) == (0, Study.Phase.RUN_IN, 0)
    participant.refresh_from_db()
    assert (participant.status, participant.death_date) == (ParticipantStatus.ON_STUDY, None)


def test_a_refused_grade5_correction_leaves_the_count(sh01, coordinator, monitor, study):
    """A death dated before enrollment is refused: the count and the query stay as they were."""
    person = enrolled(site=sh01, user=coordinator, days_ago=30)
    grade4 = make_ae(participant=person, user=coordinator, grade=4, related="probable")
    query = raise_query(user=monitor, record=grade4, field="grade", text="Died?")
    with pytest.raises(ValidationError):
        answer_query(
            query=query,
            user=coordinator,
            text="Died",
            correction=_grade5(timezone.localdate() - timedelta(days=40)),
        )
    assert (get_study().treatment_related_grade5, AdverseEvent.objects.get(pk=grade4.pk).grade) == (0, 4)
    assert _state(query)[0] == QueryStatus.OPEN


# ---- closing and re-opening ------------------------------------------------------------------------


def test_the_raiser_closes_and_reopens_each_step_timed_and_attributed(grade_query, coordinator, monitor):
    answer_query(query=grade_query, user=coordinator, text="Grade 2 on the source")
    closed = close_query(query=grade_query, user=monitor, text=" Agreed ")
    assert (closed.status, closed.closed_at is not None) == (QueryStatus.CLOSED, True)
    reopened = reopen_query(query=grade_query, user=monitor, text="The CT report says grade 3")
    assert (reopened.status, reopened.closed_at, reopened.answered_at is not None) == (QueryStatus.OPEN, None, True)
    steps = list(grade_query.steps.all())
    assert [(s.action, s.by, s.text) for s in steps] == [
        ("raised", monitor, "Source says grade 3?"),
        ("answered", coordinator, "Grade 2 on the source"),
        ("closed", monitor, "Agreed"),
        ("reopened", monitor, "The CT report says grade 3"),
    ]
    times = [s.at for s in steps]
    assert times == sorted(times) and times[0] == grade_query.raised_at
    assert reopened.version == 4


def test_reopening_needs_text(grade_query, coordinator, monitor):
    answer_query(query=grade_query, user=coordinator, text="Grade 2")
    before = _state(grade_query)
    with pytest.raises(ValidationError) as refused:
        reopen_query(query=grade_query, user=monitor, text="")
    assert set(refused.value.message_dict) == {"text"}
    assert _state(grade_query) == before


def test_an_open_query_cannot_be_reopened_nor_a_closed_one_closed(grade_query, monitor):
    with pytest.raises(QueryRefused):
        reopen_query(query=grade_query, user=monitor, text="Again")
    close_query(query=grade_query, user=monitor)
    before = _state(grade_query)
    with pytest.raises(QueryRefused):
        close_query(query=grade_query, user=monitor)
    assert _state(grade_query) == before


@pytest.mark.parametrize("role", ["monitor_sh01", "pi", "coordinator", "investigator"])
def test_only_the_raiser_or_the_data_manager_closes_a_manual_query(request, grade_query, role):
    before = _state(grade_query)
    with pytest.raises(PermissionDenied):
        close_query(query=grade_query, user=request.getfixturevalue(role))
    assert _state(grade_query) == before


def test_the_data_manager_closes_and_reopens_anyones_query(grade_query, admin_user):
    assert close_query(query=grade_query, user=admin_user, text="Resolved at the visit").status == "closed"
    assert reopen_query(query=grade_query, user=admin_user, text="Not resolved").status == "open"
    assert list(grade_query.steps.values_list("by__username", flat=True)) == [
        "monitor",
        "datamanager",
        "datamanager",
    ]


def test_another_monitor_cannot_reopen_a_manual_query(grade_query, monitor, monitor_sh01):
    close_query(query=grade_query, user=monitor)
    before = _state(grade_query)
    with pytest.raises(PermissionDenied):
        reopen_query(query=grade_query, user=monitor_sh01, text="Again")
    assert _state(grade_query) == before


def test_a_stale_close_is_refused(grade_query, monitor, admin_user):
    seen = grade_query.version
    close_query(query=grade_query, user=admin_user)
    reopen_query(query=grade_query, user=admin_user, text="Wait")
    before = _state(grade_query)
    with pytest.raises(StaleEdit):
        close_query(query=grade_query, user=monitor, expected_version=seen)
    assert _state(grade_query) == before


def test_every_step_is_in_the_querys_history(grade_query, coordinator, monitor):
    answer_query(query=grade_query, user=coordinator, text="Grade 2")
    close_query(query=grade_query, user=monitor)
    history = grade_query.history.order_by("history_date", "history_id")
    assert [(h.status, h.history_user, h.history_change_reason) for h in history] == [
        ("open", monitor, "Query raised"),
        ("answered", coordinator, "Query answered"),
        ("closed", monitor, "Query closed"),
    ]
    assert QueryStep.objects.filter(query=grade_query).count() == 3


# ---- what the lists and the dashboard read --------------------------------------------------------


def test_query_counts_and_the_median_days_to_the_first_answer(ae, participant, participant_sh02, monitor, coordinator):
    from datetime import timedelta as days

    from monitoring.selectors import query_counts

    def aged(query, age):
        Query.objects.filter(pk=query.pk).update(raised_at=timezone.now() - days(days=age))
        query.refresh_from_db()
        return query

    first = aged(raise_query(user=monitor, record=ae, field="grade", text="Grade?"), 2)
    second = aged(raise_query(user=monitor, record=participant, field="enrollment_date", text="Date?"), 4)
    aged(raise_query(user=monitor, record=participant.screening, field="ecog", text="ECOG?"), 9)
    aged(raise_query(user=monitor, record=participant_sh02, field="enrollment_date", text="Date?"), 30)
    answer_query(query=first, user=coordinator, text="Grade 2")
    answer_query(query=second, user=coordinator, text="Right date")
    reopen_query(query=second, user=monitor, text="Check again")
    answer_query(query=second, user=coordinator, text="Right date, checked")  # the first answer counts
    close_query(query=second, user=monitor)
    counts = query_counts(coordinator)
    assert {k: counts[k] for k in ("open", "answered", "closed", "answered_ever", "oldest_open_days")} == {
        "open": 1,
        "answered": 1,
        "closed": 1,
        "answered_ever": 2,
        "oldest_open_days": 9,
    }
    assert counts["median_days_to_answer"] == 3.0
    assert query_counts(monitor)["open"] == 2 and query_counts(monitor, site=participant_sh02.site)["open"] == 1


def test_the_list_filters(ae, participant, monitor, admin_user, coordinator):
    from monitoring.selectors import filter_queries, queries_on

    on_grade = raise_query(user=monitor, record=ae, field="grade", text="Grade?")
    on_ae = raise_query(user=admin_user, record=ae, text="Whole AE?")
    on_participant = raise_query(user=monitor, record=participant, field="enrollment_date", text="Date?")
    Query.objects.filter(pk=on_participant.pk).update(raised_by=None, rule="ae-end-date-missing")
    Query.objects.filter(pk=on_grade.pk).update(raised_at=timezone.now() - timedelta(days=8))
    answer_query(query=on_ae, user=coordinator, text="Yes")
    visible = queries_visible_to(coordinator)
    assert set(filter_queries(visible, status="open")) == {on_grade, on_participant}
    assert set(filter_queries(visible, record_type="ae")) == {on_grade, on_ae}
    assert list(filter_queries(visible, raiser=str(admin_user.pk))) == [on_ae]
    assert list(filter_queries(visible, raiser="system")) == [on_participant]
    assert list(filter_queries(visible, older_than_days="7")) == [on_grade]
    assert list(queries_on(ae, user=coordinator)) == [on_ae, on_grade]
    assert list(queries_on(ae, user=coordinator, open_only=True)) == [on_ae, on_grade]  # answered: not closed yet
    close_query(query=on_ae, user=admin_user)
    assert list(queries_on(ae, user=coordinator, open_only=True)) == [on_grade]
