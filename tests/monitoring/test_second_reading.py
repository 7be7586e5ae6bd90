"""What a second reader of the monitoring code found, each now a rule with its test."""

import pytest
from django.core.exceptions import ValidationError

from enrollment.models import Participant
from enrollment.services import enroll_participant
from monitoring import casebook, queries, sdv, values
from monitoring.models import CasebookSignature, Query, SdvMark
from safety.models import AdverseEvent
from safety.services import update_adverse_event
from scr_escc.audit import StaleEdit
from tests.factories import PASSWORD, make_screening


def test_a_query_on_a_screening_joins_the_casebook_at_enrollment_and_blocks_the_lock(
    sh01, coordinator, investigator, monitor, admin_user, study
):
    screening = make_screening(site=sh01, user=coordinator)
    query = queries.raise_query(user=monitor, record=screening, field="ecog", text="ECOG in the source is 2?")
    participant = enroll_participant(screening=screening, user=coordinator)
    assert Query.objects.get(pk=query.pk).participant_id == participant.pk
    assert casebook.open_queries(participant).count() == 1
    casebook.sign(participant=participant, user=investigator, password=PASSWORD)
    with pytest.raises(casebook.CasebookRefused, match="Close every query"):
        casebook.lock(participant=participant, user=admin_user)
    assert not casebook.is_locked(participant.pk)


def test_a_screening_verified_before_enrollment_counts_as_verified_in_the_worklist(sh01, coordinator, monitor, study):
    screening = make_screening(site=sh01, user=coordinator)
    sdv.verify(user=monitor, record=screening)
    participant = enroll_participant(screening=screening, user=coordinator)
    assert SdvMark.objects.get(record_type="screening").participant_id == participant.pk
    progress = sdv.worklist(monitor, participant=participant)[0]
    assert [record_type.code for record_type, *_rest in progress.pending] == ["participant"]


def test_a_correction_over_a_change_made_since_the_query_was_read_is_a_stale_edit(ae, grade_query, coordinator):
    seen = ae.version
    update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="From the source", expected_version=seen)
    with pytest.raises(StaleEdit):
        queries.answer_query(
            query=grade_query, user=coordinator, text="Grade 4", correction={"grade": 4}, record_version=seen
        )
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 3
    assert Query.objects.get(pk=grade_query.pk).status == "open"


def test_a_signature_is_refused_when_the_casebook_changed_since_it_was_reviewed(
    participant, ae, investigator, coordinator
):
    reviewed = casebook.status(participant)["content_hash"]
    update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="From the source", expected_version=1)
    with pytest.raises(StaleEdit, match="changed while you were reviewing"):
        casebook.sign(participant=participant, user=investigator, password=PASSWORD, expected_hash=reviewed)
    assert not CasebookSignature.objects.exists()


def test_the_lock_checks_the_data_again_and_refuses_data_nobody_signed(signed_casebook, participant, admin_user):
    Participant.objects.filter(pk=participant.pk).update(death_cause="written around the services")
    with pytest.raises(casebook.CasebookRefused, match="current investigator signature"):
        casebook.lock(participant=participant, user=admin_user)
    assert not casebook.is_locked(participant.pk)


def test_a_column_added_later_leaves_a_signed_casebook_signed(signed_casebook, participant, monkeypatch):
    monkeypatch.setattr(values, "SKIPPED", values.SKIPPED - {"failed_criteria"})  # a new, empty column
    assert casebook.status(participant)["state"] == "signed"


def test_a_change_outside_the_plans_fields_after_the_level_was_lowered_needs_no_new_verification(
    ae, monitor, admin_user, coordinator
):
    sdv.update_settings(user=admin_user, levels_by_type={"ae": "all"}, query_digest_days=7, reason="Plan v1")
    sdv.verify(user=monitor, record=ae)
    sdv.update_settings(user=admin_user, levels_by_type={"ae": "key"}, query_digest_days=7, reason="Plan v2")
    update_adverse_event(
        ae=ae, data={"action_taken": "dose_reduced"}, user=coordinator, reason="Ward note", expected_version=ae.version
    )
    assert sdv.record_status(sdv.mark_for(ae), "key") == "verified"
    assert sdv.record_status(sdv.mark_for(ae), "all") == "changed"


def test_a_value_changed_back_to_what_was_verified_is_verified_again_and_audited(ae, monitor, coordinator):
    sdv.verify(user=monitor, record=ae)
    ae = update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Typo", expected_version=ae.version)
    assert sdv.mark_for(ae).status == "changed"
    update_adverse_event(ae=ae, data={"grade": 2}, user=coordinator, reason="Back", expected_version=ae.version)
    mark = sdv.mark_for(ae)
    assert (mark.status, mark.changes, mark.changed_at) == ("verified", [], None)
    assert mark.history.order_by("-history_id").first().history_change_reason == "Verified values restored: Back"


@pytest.mark.parametrize("params", [{"older_than": "1000000"}, {"raiser": "²"}])
def test_bad_query_list_filters_are_field_errors_not_500s(api, monitor, participant, params):
    response = api(monitor).get("/api/v1/queries/", params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)


def test_a_verify_post_with_a_nonsense_version_verifies_without_a_500(login, monitor, ae, client):
    login(monitor)
    response = client.post(f"/monitoring/sdv/verify/ae/{ae.pk}/", {"version": "²"})
    assert response.status_code == 302
    assert SdvMark.objects.get(record_type="ae").status == "verified"


def test_a_correction_of_a_whole_record_query_is_refused(ae, coordinator, monitor):
    query = queries.raise_query(user=monitor, record=ae, field="", text="Is this the right patient?")
    with pytest.raises(ValidationError):
        queries.answer_query(query=query, user=coordinator, text="Yes", correction={"grade": 3})
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 2
