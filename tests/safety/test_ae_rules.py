"""SPEC §4: every rule of an adverse event refuses bad input with a field error and saves nothing;
treatment-related is derived; Grade 5 and death; edits need a reason and a fresh version; void
keeps history; SAE alerts (SPEC §5 Alerts)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from safety.models import AdverseEvent
from safety.rules import is_treatment_related
from safety.selectors import stopping_rule_count
from safety.services import record_adverse_event, update_adverse_event, void_adverse_event
from scr_escc.audit import StaleEdit
from scr_escc.exceptions import RecordVoided
from scr_escc.models import Alert, Study
from scr_escc.selectors import get_study
from tests.factories import ae_data, make_ae, make_participant
from tests.safety.ae_payloads import ae_form_post, api_ae_payload, api_grade5_payload

RESPIRATORY = "Respiratory, thoracic and mediastinal disorders"


def days(n: int):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def participant(sh01, coordinator, pi, study):
    # Enrolled on the screening date (two days ago), so deaths can be dated up to then.
    return make_participant(site=sh01, user=coordinator, enrollment_date=days(-2))


@pytest.fixture
def other_participant(sh01, coordinator, participant):
    return make_participant(site=sh01, user=coordinator)


def snapshot(participant):
    participant.refresh_from_db()
    return {
        "aes": AdverseEvent.objects.count(),
        "status": participant.status,
        "death_date": participant.death_date,
        "alerts": Alert.objects.count(),
        "count": get_study().treatment_related_grade5,
        "phase": get_study().phase,
    }


def ae_url(subject_id: str) -> str:
    return f"/api/v1/participants/{subject_id}/adverse-events/"


# --- Every rule of SPEC §4, through the service ----------------------------------------

# Each case: the AE as the service takes it (ae_data's keywords, dates relative to today) → the field in error.
SERVICE_CASES = {
    "grade5_without_death_date": (lambda: {"grade": 5, "death_date": None}, "death_date"),
    "grade5_outcome_not_fatal": (lambda: {"grade": 5, "outcome": "not_recovered"}, "outcome"),
    "fatal_outcome_with_grade_below_5": (lambda: {"grade": 4, "outcome": "fatal"}, "outcome"),
    "death_date_on_non_grade5": (lambda: {"grade": 3, "death_date": days(0)}, "death_date"),
    "onset_after_death": (lambda: {"grade": 5, "onset_date": days(-1), "death_date": days(-2)}, "onset_date"),
    "onset_before_consent": (lambda: {"onset_date": days(-10)}, "onset_date"),
    "onset_in_future": (lambda: {"onset_date": days(1)}, "onset_date"),
    "end_in_future": (lambda: {"ongoing": False, "end_date": days(1)}, "end_date"),
    "death_in_future": (lambda: {"grade": 5, "death_date": days(1)}, "death_date"),
    "end_before_onset": (lambda: {"ongoing": False, "onset_date": days(-1), "end_date": days(-2)}, "end_date"),
    "ongoing_with_end_date": (lambda: {"ongoing": True, "end_date": days(0)}, "end_date"),
    "serious_without_criterion": (lambda: {"serious": True, "seriousness_criteria": []}, "seriousness_criteria"),
    "criteria_without_serious": (lambda: {"serious": False, "seriousness_criteria": ["hospitalization"]}, "serious"),
    "grade_6": (lambda: {"grade": 6}, "grade"),
    "grade_0": (lambda: {"grade": 0}, "grade"),
    "attribution_outside_scale": (lambda: {"attribution_pd1": "maybe"}, "attribution_pd1"),
    "grade5_not_serious": (lambda: {"grade": 5, "serious": False, "seriousness_criteria": []}, "seriousness_criteria"),
    "grade5_without_death_criterion": (
        lambda: {"grade": 5, "seriousness_criteria": ["hospitalization"]},
        "seriousness_criteria",
    ),
    "grade_not_defined_for_term": (lambda: {"term": "Alopecia", "grade": 4}, "grade"),
    "other_specify_without_text": (
        lambda: {"term": "Cardiac disorders - Other, specify", "other_specify": "  "},
        "other_specify",
    ),
    "not_applicable_for_pd1": (lambda: {"attribution_pd1": "not_applicable"}, "attribution_pd1"),
    "not_applicable_for_chemo": (lambda: {"attribution_chemo": "not_applicable"}, "attribution_chemo"),
    "not_applicable_for_ldrt_in_run_in": (lambda: {"attribution_ldrt": "not_applicable"}, "attribution_ldrt"),
    "not_applicable_for_cfrt_in_run_in": (lambda: {"attribution_cfrt": "not_applicable"}, "attribution_cfrt"),
}


@pytest.mark.parametrize("case", SERVICE_CASES, ids=list(SERVICE_CASES))
def test_rule_violation_is_a_field_error_and_nothing_is_saved(case, participant, coordinator):
    changes, field = SERVICE_CASES[case]
    before = snapshot(participant)
    with pytest.raises(ValidationError) as refused:
        record_adverse_event(participant=participant, data=ae_data(**changes()), user=coordinator)
    assert field in refused.value.message_dict, refused.value.message_dict
    assert refused.value.message_dict[field][0].strip()
    assert snapshot(participant) == before
    assert before["status"] == "on_study"


def test_valid_ae_for_the_same_participant_is_saved(participant, coordinator):
    """The baseline the rule tests change one thing of: it is accepted."""
    ae = make_ae(participant=participant, user=coordinator)
    assert AdverseEvent.objects.filter(pk=ae.pk, term="Pneumonitis", soc=RESPIRATORY, grade=2).exists()


def test_other_specify_term_records_the_specified_text(participant, coordinator):
    ae = make_ae(
        participant=participant,
        user=coordinator,
        term="Cardiac disorders - Other, specify",
        other_specify="Coronary vasospasm",
    )
    assert (ae.term, ae.soc) == ("Coronary vasospasm", "Cardiac disorders")


def test_second_grade5_ae_for_one_participant_is_refused(participant, coordinator):
    first = make_ae(participant=participant, user=coordinator, grade=5, related="possible")
    before = snapshot(participant)
    assert before["status"] == "deceased"
    with pytest.raises(ValidationError) as refused:
        record_adverse_event(participant=participant, data=ae_data(term="Sepsis", grade=5), user=coordinator)
    assert "grade" in refused.value.message_dict
    assert snapshot(participant) == before
    assert list(AdverseEvent.objects.filter(participant=participant, grade=5)) == [first]


def test_onset_after_a_recorded_death_is_refused(participant, coordinator):
    make_ae(participant=participant, user=coordinator, grade=5, onset_date=days(-2), death_date=days(-2))
    before = snapshot(participant)
    with pytest.raises(ValidationError) as refused:
        record_adverse_event(
            participant=participant, data=ae_data(term="Sepsis", grade=3, onset_date=days(-1)), user=coordinator
        )
    assert "onset_date" in refused.value.message_dict
    assert snapshot(participant) == before


def test_date_of_death_before_another_aes_onset_is_refused(participant, coordinator):
    """SPEC §4 'onset not after death' holds across the participant's AEs: a death dated before an
    AE already recorded would leave that AE starting after death."""
    make_ae(participant=participant, user=coordinator, grade=2, onset_date=days(0))
    before = snapshot(participant)
    with pytest.raises(ValidationError) as refused:
        record_adverse_event(
            participant=participant,
            data=ae_data(term="Sepsis", grade=5, onset_date=days(-2), death_date=days(-1)),
            user=coordinator,
        )
    assert "death_date" in refused.value.message_dict
    assert snapshot(participant) == before


# --- The same bad input through the API: 400 with the field, never 500 -------------------

API_CASES = {
    "grade_6": (lambda: {"grade": 6}, "grade"),
    "grade_0": (lambda: {"grade": 0}, "grade"),
    "grade_not_a_number": (lambda: {"grade": "six"}, "grade"),
    "attribution_maybe": (
        lambda: {"attribution": {"pd1": "maybe", "chemo": "unrelated", "ldrt": "unrelated", "cfrt": "unrelated"}},
        "attribution",
    ),
    "attribution_not_an_object": (lambda: {"attribution": "maybe"}, "attribution"),
    "attribution_missing_intervention": (lambda: {"attribution": {"pd1": "unrelated"}}, "attribution"),
    "not_applicable_for_pd1": (
        lambda: {
            "attribution": {"pd1": "not_applicable", "chemo": "unrelated", "ldrt": "unrelated", "cfrt": "unrelated"}
        },
        "attribution",
    ),
    "not_applicable_for_ldrt_in_run_in": (
        lambda: {
            "attribution": {"pd1": "unrelated", "chemo": "unrelated", "ldrt": "not_applicable", "cfrt": "unrelated"}
        },
        "attribution",
    ),
    "grade5_without_death_date": (lambda: api_grade5_payload(death_date=None), "death_date"),
    "grade5_outcome_not_fatal": (lambda: api_grade5_payload(outcome="recovering"), "outcome"),
    "fatal_with_grade_3": (lambda: {"grade": 3, "outcome": "fatal"}, "outcome"),
    "death_date_on_grade_3": (lambda: {"grade": 3, "death_date": days(0).isoformat()}, "death_date"),
    "grade5_not_serious": (lambda: api_grade5_payload(serious=False, seriousness_criteria=[]), "seriousness_criteria"),
    "onset_after_death": (
        lambda: api_grade5_payload(onset_date=days(-1).isoformat(), death_date=days(-2).isoformat()),
        "onset_date",
    ),
    "onset_before_consent": (lambda: {"onset_date": days(-10).isoformat()}, "onset_date"),
    "onset_in_future": (lambda: {"onset_date": days(1).isoformat()}, "onset_date"),
    "onset_not_a_date": (lambda: {"onset_date": "2024-13-45"}, "onset_date"),
    "end_before_onset": (lambda: {"ongoing": False, "end_date": days(-2).isoformat()}, "end_date"),
    "ongoing_with_end_date": (lambda: {"ongoing": True, "end_date": days(0).isoformat()}, "end_date"),
    "serious_without_criterion": (lambda: {"serious": True}, "seriousness_criteria"),
    "criteria_without_serious": (lambda: {"seriousness_criteria": ["hospitalization"]}, "serious"),
    "unknown_criterion": (lambda: {"serious": True, "seriousness_criteria": ["sneezing"]}, "seriousness_criteria"),
    "criteria_not_a_list": (lambda: {"serious": True, "seriousness_criteria": {"a": 1}}, "seriousness_criteria"),
    "outcome_outside_list": (lambda: {"outcome": "dead"}, "outcome"),
    "grade_not_defined_for_term": (lambda: {"term": "Alopecia", "grade": 4}, "grade"),
    "unknown_term_without_soc": (lambda: {"term": "Feeling blue"}, "term"),
    "other_specify_term_without_text": (lambda: {"term": "Cardiac disorders - Other, specify"}, "term"),
}


@pytest.mark.parametrize("case", API_CASES, ids=list(API_CASES))
def test_api_rule_violation_is_400_with_the_field_and_nothing_is_saved(case, participant, coordinator, api):
    changes, field = API_CASES[case]
    payload = api_ae_payload()
    payload.update(changes())
    before = snapshot(participant)
    response = api(coordinator).post(ae_url(participant.subject_id), payload, format="json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json")
    assert field in response.json(), response.json()
    assert snapshot(participant) == before


def test_api_second_grade5_for_one_participant_is_400_on_grade(participant, coordinator, api):
    client = api(coordinator)
    assert client.post(ae_url(participant.subject_id), api_grade5_payload(), format="json").status_code == 201
    before = snapshot(participant)
    response = client.post(ae_url(participant.subject_id), api_grade5_payload(term="Sepsis"), format="json")
    assert response.status_code == 400
    assert "grade" in response.json()
    assert snapshot(participant) == before


def test_api_malformed_json_is_400_not_500(participant, coordinator, api):
    response = api(coordinator).post(ae_url(participant.subject_id), "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()


def test_api_valid_ae_is_201_with_id_and_treatment_related(participant, coordinator, api):
    payload = api_ae_payload(
        attribution={"pd1": "unrelated", "chemo": "probable", "ldrt": "unlikely", "cfrt": "unrelated"}
    )
    response = api(coordinator).post(ae_url(participant.subject_id), payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["treatment_related"] is True
    ae = AdverseEvent.objects.get(pk=body["id"])
    assert (ae.attribution_chemo, ae.attribution_ldrt, ae.soc) == ("probable", "unlikely", RESPIRATORY)


def test_api_free_text_term_with_soc_is_an_other_specify(participant, coordinator, api):
    response = api(coordinator).post(
        ae_url(participant.subject_id),
        api_ae_payload(term="Coronary vasospasm", soc="Cardiac disorders"),
        format="json",
    )
    assert response.status_code == 201, response.content
    ae = AdverseEvent.objects.get(pk=response.json()["id"])
    assert (ae.term, ae.ctcae_term.term) == ("Coronary vasospasm", "Cardiac disorders - Other, specify")


def test_api_patch_with_bad_grade_is_400_and_unchanged(participant, coordinator, api):
    ae = make_ae(participant=participant, user=coordinator)
    response = api(coordinator).patch(
        f"/api/v1/adverse-events/{ae.pk}/", {"grade": 6, "reason_for_change": "typo"}, format="json"
    )
    assert response.status_code == 400
    assert "grade" in response.json()
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)


# --- Treatment-related is derived in one place ------------------------------------------


@pytest.mark.parametrize("intervention", ["pd1", "chemo", "ldrt", "cfrt"])
@pytest.mark.parametrize(
    ("value", "related"),
    [
        ("unrelated", False),
        ("unlikely", False),
        ("possible", True),
        ("probable", True),
        ("definite", True),
    ],
)
def test_treatment_related_iff_possible_probable_or_definite_to_any_intervention(
    intervention, value, related, participant, coordinator
):
    data = ae_data(**{f"attribution_{intervention}": value})
    ae = record_adverse_event(participant=participant, data=data, user=coordinator)
    assert ae.treatment_related is related
    assert AdverseEvent.objects.get(pk=ae.pk).treatment_related is related


def test_not_applicable_is_not_treatment_related():
    assert (
        is_treatment_related(
            {"pd1": "unlikely", "chemo": "unrelated", "ldrt": "not_applicable", "cfrt": "not_applicable"}
        )
        is False
    )
    assert (
        is_treatment_related(
            {"pd1": "unlikely", "chemo": "definite", "ldrt": "not_applicable", "cfrt": "not_applicable"}
        )
        is True
    )


def test_re_attribution_re_derives_treatment_related(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, related="unlikely")
    assert ae.treatment_related is False
    ae = update_adverse_event(ae=ae, data={"attribution_pd1": "definite"}, user=coordinator, reason="Review")
    assert AdverseEvent.objects.get(pk=ae.pk).treatment_related is True
    ae = update_adverse_event(ae=ae, data={"attribution_pd1": "unlikely"}, user=coordinator, reason="Review 2")
    assert AdverseEvent.objects.get(pk=ae.pk).treatment_related is False


# --- Grade 5 makes the participant deceased; a correction undoes it -----------------------


def test_grade5_ae_makes_participant_deceased_with_the_death_date(participant, coordinator):
    make_ae(participant=participant, user=coordinator, grade=5, onset_date=days(-2), death_date=days(-1))
    participant.refresh_from_db()
    assert participant.status == "deceased"
    assert participant.death_date == days(-1)


def test_voiding_the_grade5_ae_restores_on_study(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=5)
    void_adverse_event(ae=ae, user=coordinator, reason="Entered for the wrong participant")
    participant.refresh_from_db()
    assert (participant.status, participant.death_date) == ("on_study", None)


def test_void_without_reason_is_refused_and_participant_stays_deceased(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=5)
    for reason in (None, "", "   "):
        with pytest.raises(ValidationError) as refused:
            void_adverse_event(ae=ae, user=coordinator, reason=reason)
        assert "reason" in refused.value.message_dict
    ae.refresh_from_db()
    participant.refresh_from_db()
    assert ae.voided is False
    assert participant.status == "deceased"


def test_regrading_the_grade5_ae_restores_on_study(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=5)
    update_adverse_event(
        ae=ae,
        user=coordinator,
        reason="The patient is alive; grade entered wrongly",
        data={
            "grade": 4,
            "outcome": "not_recovered",
            "death_date": None,
            "serious": True,
            "seriousness_criteria": ["life_threatening"],
            "ongoing": True,
        },
    )
    participant.refresh_from_db()
    assert (participant.status, participant.death_date) == ("on_study", None)


def test_correcting_the_death_date_moves_the_participants_death_date(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=5, onset_date=days(-2))
    update_adverse_event(ae=ae, data={"death_date": days(-1)}, user=coordinator, reason="Death certificate")
    participant.refresh_from_db()
    assert (participant.status, participant.death_date) == ("deceased", days(-1))


def test_void_on_the_page_without_reason_is_refused(participant, coordinator, login):
    ae = make_ae(participant=participant, user=coordinator, grade=5)
    response = login(coordinator).post(f"/adverse-events/{ae.pk}/void/", {"reason": "", "version": ae.version})
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    ae.refresh_from_db()
    assert ae.voided is False


def test_void_on_the_page_with_reason_restores_on_study(participant, coordinator, login):
    ae = make_ae(participant=participant, user=coordinator, grade=5)
    response = login(coordinator).post(f"/adverse-events/{ae.pk}/void/", {"reason": "Duplicate", "version": 1})
    assert response.status_code == 302
    ae.refresh_from_db()
    participant.refresh_from_db()
    assert (ae.voided, ae.void_reason, participant.status) == (True, "Duplicate", "on_study")


# --- Edits: a reason always, and never over someone else's change ------------------------


def test_stale_edit_is_refused_and_the_newer_change_kept(participant, coordinator, investigator):
    ae = make_ae(participant=participant, user=coordinator)
    update_adverse_event(ae=ae, data={"grade": 3}, user=investigator, reason="Worse", expected_version=1)
    with pytest.raises(StaleEdit):
        update_adverse_event(ae=ae, data={"grade": 1}, user=coordinator, reason="Milder", expected_version=1)
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (3, 2)


def test_stale_void_is_refused(participant, coordinator, investigator):
    ae = make_ae(participant=participant, user=coordinator)
    update_adverse_event(ae=ae, data={"grade": 3}, user=investigator, reason="Worse", expected_version=1)
    with pytest.raises(StaleEdit):
        void_adverse_event(ae=ae, user=coordinator, reason="Duplicate", expected_version=1)
    assert AdverseEvent.objects.get(pk=ae.pk).voided is False


def test_stale_edit_on_the_page_shows_a_message_and_does_not_overwrite(participant, coordinator, investigator, login):
    ae = make_ae(participant=participant, user=coordinator)
    client = login(coordinator)
    opened = client.get(f"/adverse-events/{ae.pk}/edit/")
    assert opened.status_code == 200
    assert opened.context["form"]["version"].value() == 1
    update_adverse_event(ae=ae, data={"grade": 3}, user=investigator, reason="Worse", expected_version=1)

    response = client.post(
        f"/adverse-events/{ae.pk}/edit/", ae_form_post(ae, grade="1", version="1", reason_for_change="Milder")
    )
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (3, 2)


def test_api_stale_patch_is_409(participant, coordinator, investigator, api):
    ae = make_ae(participant=participant, user=coordinator)
    update_adverse_event(ae=ae, data={"grade": 3}, user=investigator, reason="Worse", expected_version=1)
    response = api(coordinator).patch(
        f"/api/v1/adverse-events/{ae.pk}/", {"grade": 1, "version": 1, "reason_for_change": "Milder"}, format="json"
    )
    assert response.status_code == 409
    assert "detail" in response.json()
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 3


@pytest.mark.parametrize("reason", [None, "", "  "])
def test_edit_without_reason_is_refused(reason, participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator)
    with pytest.raises(ValidationError) as refused:
        update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason=reason)
    assert "reason_for_change" in refused.value.message_dict
    ae.refresh_from_db()
    assert (ae.grade, ae.version, ae.history.count()) == (2, 1, 1)


def test_edit_on_the_page_without_reason_is_refused(participant, coordinator, login):
    ae = make_ae(participant=participant, user=coordinator)
    response = login(coordinator).post(f"/adverse-events/{ae.pk}/edit/", ae_form_post(ae, grade="3"))
    assert response.status_code == 200
    assert "reason_for_change" in response.context["form"].errors
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)


def test_edit_on_the_page_with_reason_is_saved_with_the_reason_in_history(participant, coordinator, login):
    ae = make_ae(participant=participant, user=coordinator)
    response = login(coordinator).post(
        f"/adverse-events/{ae.pk}/edit/", ae_form_post(ae, grade="3", reason_for_change="Hospital chart reviewed")
    )
    assert response.status_code == 302
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (3, 2)
    assert ae.history.latest().history_change_reason == "Hospital chart reviewed"


@pytest.mark.parametrize(
    "body", [{"grade": 3}, {"grade": 3, "reason_for_change": ""}, {"grade": 3, "reason_for_change": "   "}]
)
def test_api_patch_without_reason_for_change_is_400(body, participant, coordinator, api):
    ae = make_ae(participant=participant, user=coordinator)
    response = api(coordinator).patch(f"/api/v1/adverse-events/{ae.pk}/", body, format="json")
    assert response.status_code == 400
    assert "reason_for_change" in response.json()
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)


def test_api_patch_with_reason_re_attributes(participant, coordinator, api):
    ae = make_ae(participant=participant, user=coordinator)
    response = api(coordinator).patch(
        f"/api/v1/adverse-events/{ae.pk}/",
        {"attribution": {"pd1": "probable"}, "reason_for_change": "PI review", "version": 1},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["treatment_related"] is True
    ae.refresh_from_db()
    assert (ae.attribution_pd1, ae.attribution_chemo, ae.version) == ("probable", "unrelated", 2)


def test_voided_ae_cannot_be_edited(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator)
    void_adverse_event(ae=ae, user=coordinator, reason="Duplicate")
    with pytest.raises(RecordVoided):
        update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Late correction")
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 2


# --- Void keeps the record and its history; a voided AE no longer counts ------------------


def test_void_keeps_the_record_and_its_history(participant, coordinator, login):
    ae = make_ae(participant=participant, user=coordinator)
    void_adverse_event(ae=ae, user=coordinator, reason="Duplicate of AE entered yesterday")
    ae = AdverseEvent.objects.get(pk=ae.pk)
    assert ae.voided is True and ae.voided_at is not None
    assert ae.void_reason == "Duplicate of AE entered yesterday"
    reasons = list(ae.history.order_by("history_date").values_list("history_change_reason", flat=True))
    assert len(reasons) == 2
    assert "Duplicate of AE entered yesterday" in reasons[1]
    page = login(coordinator).get(f"/adverse-events/{ae.pk}/history/")
    assert page.status_code == 200
    assert "Duplicate of AE entered yesterday" in page.content.decode()


def test_clinical_record_is_never_deleted(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator)
    with pytest.raises(ValidationError):
        ae.delete()
    assert AdverseEvent.objects.filter(pk=ae.pk).exists()


def test_voided_ae_no_longer_counts_toward_the_stopping_rule(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=5, related="definite")
    assert get_study().treatment_related_grade5 == 1
    void_adverse_event(ae=ae, user=coordinator, reason="Wrong participant")
    assert stopping_rule_count() == 0
    assert get_study().treatment_related_grade5 == 0
    assert get_study().phase == Study.Phase.RUN_IN


def test_void_after_halt_drops_the_count_but_the_study_stays_halted(participant, other_participant, coordinator):
    make_ae(participant=participant, user=coordinator, grade=5, related="possible")
    halting = make_ae(participant=other_participant, user=coordinator, grade=5, related="probable")
    assert (get_study().phase, get_study().treatment_related_grade5) == (Study.Phase.HALTED, 2)

    void_adverse_event(ae=halting, user=coordinator, reason="Entered for the wrong participant")
    study = get_study()
    assert stopping_rule_count() == 1
    assert study.treatment_related_grade5 == 1
    assert study.phase == Study.Phase.HALTED


# --- SAE alerts: one per new serious AE, with the facts a PI needs ------------------------


def sae_alerts():
    return list(Alert.objects.filter(kind=Alert.Kind.SAE_REPORTED))


def test_new_serious_ae_writes_exactly_one_sae_alert(participant, coordinator):
    ae = make_ae(
        participant=participant, user=coordinator, grade=3, serious=True, seriousness_criteria=["hospitalization"]
    )
    alerts = sae_alerts()
    assert [a.key for a in alerts] == [f"sae_reported:{ae.pk}"]
    assert alerts[0].status == "pending"
    assert "pi@example.org" in alerts[0].recipients


def test_non_serious_ae_writes_no_sae_alert(participant, coordinator):
    make_ae(participant=participant, user=coordinator, grade=3)
    assert sae_alerts() == []


def test_editing_a_serious_ae_again_writes_no_second_alert(participant, coordinator):
    ae = make_ae(
        participant=participant, user=coordinator, grade=3, serious=True, seriousness_criteria=["hospitalization"]
    )
    update_adverse_event(
        ae=ae,
        data={"grade": 4, "seriousness_criteria": ["hospitalization", "life_threatening"]},
        user=coordinator,
        reason="Worsened",
    )
    assert len(sae_alerts()) == 1


def test_editing_a_non_serious_ae_to_serious_writes_one_alert(participant, coordinator):
    ae = make_ae(participant=participant, user=coordinator, grade=3)
    assert sae_alerts() == []
    update_adverse_event(
        ae=ae, data={"serious": True, "seriousness_criteria": ["hospitalization"]}, user=coordinator, reason="Admitted"
    )
    assert [a.key for a in sae_alerts()] == [f"sae_reported:{ae.pk}"]


def test_refused_serious_ae_writes_no_alert(participant, coordinator):
    with pytest.raises(ValidationError):
        record_adverse_event(
            participant=participant,
            user=coordinator,
            data=ae_data(grade=3, serious=True, seriousness_criteria=["hospitalization"], onset_date=days(1)),
        )
    assert Alert.objects.count() == 0


def assert_states_the_facts(alert, participant, *, term, grade, attribution):
    body = alert.body
    assert participant.subject_id in body, body
    assert participant.site.code in body, body
    assert term in body, body
    assert f"grade {grade}" in body, body
    assert attribution in body, body


def test_sae_alert_states_subject_site_term_grade_and_attribution(participant, coordinator):
    make_ae(
        participant=participant,
        user=coordinator,
        term="Febrile neutropenia",
        grade=3,
        related="probable",
        serious=True,
        seriousness_criteria=["hospitalization"],
    )
    (alert,) = sae_alerts()
    assert_states_the_facts(alert, participant, term="Febrile neutropenia", grade=3, attribution="probable")
    assert participant.subject_id in alert.subject


def test_stopping_rule_alerts_state_subject_site_term_grade_and_attribution(
    participant, other_participant, coordinator
):
    make_ae(participant=participant, user=coordinator, term="Sepsis", grade=5, related="possible")
    (warning,) = Alert.objects.filter(kind=Alert.Kind.STOPPING_RULE_WARNING)
    assert_states_the_facts(warning, participant, term="Sepsis", grade=5, attribution="possible")

    make_ae(participant=other_participant, user=coordinator, term="Pneumonitis", grade=5, related="definite")
    (triggered,) = Alert.objects.filter(kind=Alert.Kind.STOPPING_RULE_TRIGGERED)
    assert_states_the_facts(triggered, other_participant, term="Pneumonitis", grade=5, attribution="definite")
    assert participant.subject_id in triggered.body  # the events behind the count
    assert "2 of 2" in triggered.body


def test_api_patch_without_the_version_read_is_400_and_unchanged(participant, coordinator, api):
    ae = make_ae(participant=participant, user=coordinator)
    response = api(coordinator).patch(
        f"/api/v1/adverse-events/{ae.pk}/", {"grade": 3, "reason_for_change": "Worse"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["version"]
    ae.refresh_from_db()
    assert (ae.grade, ae.version) == (2, 1)
