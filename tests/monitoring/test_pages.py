"""Issue 22, the monitoring pages: queries raised, answered (with a correction) and closed on
pages; the list's filters; SDV worklist and its reset; the casebook page; a locked casebook
refused on every clinical edit page; and every page scoped to the user's sites."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from efficacy.followup import record_contact
from efficacy.models import FollowUpContact
from enrollment.models import Screening
from monitoring import casebook, queries, sdv
from monitoring.models import Query, QueryStep, SdvMark
from safety.models import AdverseEvent
from safety.services import update_adverse_event
from tests.efficacy.conftest import ago
from tests.enrollment.test_enroll import form_post
from tests.factories import UserFactory, eligible_screening_data, make_ae
from tests.safety.ae_payloads import ae_form_post

pytestmark = pytest.mark.django_db

LOCKED = "is locked by the data manager"


def query_ids(response) -> list[int]:
    """The queries listed on a page, by their Q-number links."""
    return sorted(int(n) for n in re.findall(r'data-testid="query-link">Q-(\d+)<', response.content.decode()))


def _user_with(perms, *, site, username):
    """A site-bound user holding `perms` (no role gives a site-bound user these, but scoping must hold)."""
    user = UserFactory(username=username, role="coordinator", sites=[site])
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename, content_type__app_label="scr_escc"))
    return user


@pytest.fixture
def sh02_monitor(sh02):
    return _user_with(["raise_query", "verify_source_data"], site=sh02, username="sh02_monitor")


# ---- every page: own site 200, another site 404 ---------------------------------------------------


def test_the_query_pages_show_own_site_and_hide_another_sites_query(grade_query, coordinator, coordinator_sh02, login):
    assert query_ids(login(coordinator).get("/monitoring/queries/")) == [grade_query.pk]
    assert login(coordinator).get(f"/monitoring/queries/{grade_query.pk}/").status_code == 200
    assert query_ids(login(coordinator_sh02).get("/monitoring/queries/")) == []
    assert login(coordinator_sh02).get(f"/monitoring/queries/{grade_query.pk}/").status_code == 404


def test_raising_a_query_on_another_sites_record_or_an_unknown_type_is_404(ae, sh02_monitor, monitor, login):
    assert login(monitor).get(f"/monitoring/queries/new/ae/{ae.pk}/?field=grade").status_code == 200
    assert login(sh02_monitor).get(f"/monitoring/queries/new/ae/{ae.pk}/").status_code == 404
    assert login(sh02_monitor).post(f"/monitoring/queries/new/ae/{ae.pk}/", {"text": "x"}).status_code == 404
    assert login(monitor).get(f"/monitoring/queries/new/lesion/{ae.pk}/").status_code == 404
    assert Query.objects.count() == 0


def test_the_sdv_pages_show_own_site_and_hide_another_sites_participant(ae, participant, sh02_monitor, monitor, login):
    assert login(monitor).get("/monitoring/sdv/?site=SH01").status_code == 200
    assert login(monitor).get(f"/monitoring/sdv/participants/{participant.subject_id}/").status_code == 200
    assert login(sh02_monitor).get("/monitoring/sdv/?site=SH01").status_code == 404
    assert login(sh02_monitor).get(f"/monitoring/sdv/participants/{participant.subject_id}/").status_code == 404
    refused = login(sh02_monitor).post(f"/monitoring/sdv/verify/ae/{ae.pk}/", {"version": ae.version})
    assert (refused.status_code, SdvMark.objects.count()) == (404, 0)


def test_site_staff_do_not_open_the_sdv_worklist(coordinator, login):
    assert login(coordinator).get("/monitoring/sdv/").status_code == 403


def test_the_casebook_page_shows_own_site_and_hides_another_sites(participant, coordinator, coordinator_sh02, login):
    assert login(coordinator).get(f"/participants/{participant.subject_id}/casebook/").status_code == 200
    assert login(coordinator_sh02).get(f"/participants/{participant.subject_id}/casebook/").status_code == 404


def test_only_the_data_manager_opens_the_monitoring_plan(admin_user, monitor, login):
    assert login(admin_user).get("/monitoring/settings/").status_code == 200
    assert login(monitor).get("/monitoring/settings/").status_code == 403


# ---- queries on pages ----------------------------------------------------------------------------


def test_a_monitor_raises_a_query_from_the_page(ae, monitor, login):
    response = login(monitor).post(
        f"/monitoring/queries/new/ae/{ae.pk}/", {"field": "grade", "text": "Source says grade 3?"}
    )
    query = Query.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/adverse-events/{ae.pk}/")
    assert (query.record_type, query.record_id, query.field, query.raised_by) == ("ae", ae.pk, "grade", monitor)


def test_a_query_without_text_is_a_field_error_and_raises_nothing(ae, monitor, login):
    response = login(monitor).post(f"/monitoring/queries/new/ae/{ae.pk}/", {"field": "grade", "text": "  "})
    assert (response.status_code, "text" in response.context["form"].errors) == (200, True)
    assert Query.objects.count() == 0


def test_a_monitor_never_sees_the_answer_form_and_a_posted_answer_is_403(grade_query, monitor, login):
    client = login(monitor)
    page = client.get(f"/monitoring/queries/{grade_query.pk}/").content.decode()
    assert 'data-testid="answer-form"' not in page and 'data-testid="close-form"' in page
    answer = {"action": "answer", "version": grade_query.version, "text": "Grade 3 indeed"}
    assert client.post(f"/monitoring/queries/{grade_query.pk}/", answer).status_code == 403
    assert QueryStep.objects.filter(query=grade_query).count() == 1


def test_the_coordinator_answers_and_corrects_the_ae_grade(grade_query, ae, coordinator, login):
    client = login(coordinator)
    page = client.get(f"/monitoring/queries/{grade_query.pk}/").content.decode()
    assert 'data-testid="answer-form"' in page and 'name="correct"' in page and 'name="grade"' in page
    answer = {"action": "answer", "version": grade_query.version, "text": "Grade 3 on the source", "correct": "on"}
    response = client.post(f"/monitoring/queries/{grade_query.pk}/", answer | {"grade": "3"})
    ae.refresh_from_db()
    grade_query.refresh_from_db()
    assert (response.status_code, ae.grade, grade_query.status) == (302, 3, "answered")
    assert ae.history.order_by("-history_id").first().history_change_reason.startswith(f"Query Q-{grade_query.pk}")
    assert grade_query.steps.get(action="answered").correction == {"field": "grade", "old": "2", "new": "3"}


def test_an_answer_without_the_checkbox_leaves_the_value(grade_query, ae, coordinator, login):
    answer = {"action": "answer", "version": grade_query.version, "text": "Grade 2 is right", "grade": "4"}
    response = login(coordinator).post(f"/monitoring/queries/{grade_query.pk}/", answer)
    ae.refresh_from_db()
    assert (response.status_code, ae.grade, ae.version) == (302, 2, 1)


def test_a_correction_to_the_same_value_goes_next_to_the_field_and_nothing_changes(grade_query, ae, coordinator, login):
    answer = {"action": "answer", "version": grade_query.version, "text": "Fine", "correct": "on", "grade": "2"}
    response = login(coordinator).post(f"/monitoring/queries/{grade_query.pk}/", answer)
    assert (response.status_code, list(response.context["forms"]["answer"].errors)) == (200, ["grade"])
    assert (QueryStep.objects.filter(query=grade_query).count(), AdverseEvent.objects.get().version) == (1, 1)


def test_a_stale_answer_is_refused_with_a_message(grade_query, coordinator, login):
    answer = {"action": "answer", "version": grade_query.version + 1, "text": "Grade 3"}
    response = login(coordinator).post(f"/monitoring/queries/{grade_query.pk}/", answer)
    assert (response.status_code, "changed by someone else" in response.content.decode()) == (409, True)
    assert QueryStep.objects.filter(query=grade_query).count() == 1


def test_the_raiser_closes_and_reopening_needs_a_text(grade_query, coordinator, monitor, login):
    queries.answer_query(query=grade_query, user=coordinator, text="Grade 2 is right")
    client = login(monitor)
    grade_query.refresh_from_db()
    no_text = client.post(
        f"/monitoring/queries/{grade_query.pk}/", {"action": "reopen", "version": grade_query.version}
    )
    assert (no_text.status_code, list(no_text.context["forms"]["reopen"].errors)) == (200, ["text"])
    closed = client.post(f"/monitoring/queries/{grade_query.pk}/", {"action": "close", "version": grade_query.version})
    grade_query.refresh_from_db()
    assert (closed.status_code, grade_query.status) == (302, "closed")


# ---- the query list's filters ---------------------------------------------------------------------


@pytest.fixture
def listed(ae, participant, monitor, coordinator):
    """An open query on the AE grade, an answered one on the screening, an automatic one 20 days old."""
    on_grade = queries.raise_query(user=monitor, record=ae, field="grade", text="Grade?")
    on_screening = queries.raise_query(user=monitor, record=participant.screening, field="ecog", text="ECOG?")
    queries.answer_query(query=on_screening, user=coordinator, text="ECOG 1 on the source")
    automatic = queries.raise_query(user=monitor, record=ae, field="end_date", text="End date?")
    Query.objects.filter(pk=automatic.pk).update(
        raised_by=None, rule="ae-end-date-missing", raised_at=timezone.now() - timedelta(days=20)
    )
    return {"grade": on_grade.pk, "screening": on_screening.pk, "automatic": automatic.pk}


@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("", ["grade", "screening", "automatic"]),
        ("status=answered", ["screening"]),
        ("status=open", ["grade", "automatic"]),
        ("record_type=screening", ["screening"]),
        ("raiser=system", ["automatic"]),
        ("older_than=14", ["automatic"]),
        ("older_than=30", []),
        ("site=SH01&participant={subject}", ["grade", "screening", "automatic"]),
        ("participant=NOBODY", []),
        ("status=bogus&raiser=x&older_than=3&site=NOPE&sort=nonsense&page=abc", ["grade", "screening", "automatic"]),
    ],
)
def test_the_query_list_filters(listed, participant, coordinator, login, query_string, expected):
    query_string = query_string.format(subject=participant.subject_id)
    response = login(coordinator).get(f"/monitoring/queries/?{query_string}")
    assert (response.status_code, query_ids(response)) == (200, sorted(listed[name] for name in expected))


def test_the_list_filters_by_the_raising_user_and_counts_on_top(listed, monitor, login):
    response = login(monitor).get(f"/monitoring/queries/?raiser={monitor.pk}")
    assert query_ids(response) == sorted([listed["grade"], listed["screening"]])
    assert (response.context["counts"]["open"], response.context["counts"]["answered"]) == (2, 1)


# ---- a locked casebook on every clinical edit page -------------------------------------------------


@pytest.fixture
def locked(participant, ae, coordinator, investigator, admin_user, password):
    """The participant's casebook with an AE and a follow-up contact, signed and locked."""
    contact = record_contact(
        participant=participant, data={"contact_date": ago(1), "method": "phone", "notes": ""}, user=coordinator
    )
    casebook.sign(participant=participant, user=investigator, password=password)
    casebook.lock(participant=participant, user=admin_user)
    return {"ae": ae, "contact": contact, "screening": participant.screening, "participant": participant}


def test_a_locked_casebook_refuses_an_ae_correction_on_its_page(locked, coordinator, login):
    ae = locked["ae"]
    post = ae_form_post(ae, grade="3", reason_for_change="Source says 3")
    response = login(coordinator).post(f"/adverse-events/{ae.pk}/edit/", post, follow=True)
    assert (response.status_code, LOCKED in response.content.decode()) == (200, True)
    assert AdverseEvent.objects.values_list("grade", "version").get() == (2, 1)


def test_a_locked_casebook_refuses_a_new_ae_on_its_page(locked, coordinator, login):
    post = ae_form_post(locked["ae"], onset_date=ago(2).isoformat())
    del post["version"]
    response = login(coordinator).post(f"/participants/{locked['participant'].subject_id}/adverse-events/new/", post)
    assert (response.status_code, LOCKED in response.content.decode()) == (200, True)
    assert AdverseEvent.objects.count() == 1


def test_a_locked_casebook_refuses_an_efficacy_record_correction(locked, coordinator, login):
    contact = locked["contact"]
    post = {
        "contact_date": ago(2).isoformat(),
        "method": "visit",
        "notes": "",
        "version": 1,
        "reason_for_change": "Day",
    }
    response = login(coordinator).post(f"/efficacy/follow-up-contact/{contact.pk}/edit/", post, follow=True)
    assert (response.status_code, LOCKED in response.content.decode()) == (200, True)
    assert FollowUpContact.objects.values_list("contact_date", "version").get() == (ago(1), 1)


def test_a_locked_casebook_refuses_a_screening_correction(locked, coordinator, login):
    screening = locked["screening"]
    post = form_post(eligible_screening_data(ecog=0)) | {"reason_for_change": "ECOG 0", "version": screening.version}
    response = login(coordinator).post(f"/screenings/{screening.pk}/edit/", post, follow=True)
    assert (response.status_code, LOCKED in response.content.decode()) == (200, True)
    assert Screening.objects.values_list("ecog", "version").get() == (screening.ecog, screening.version)


def test_the_data_manager_unlocks_with_a_reason_on_the_casebook_page(locked, admin_user, login):
    client = login(admin_user)
    url = f"/participants/{locked['participant'].subject_id}/casebook/"
    no_reason = client.post(url, {"action": "unlock", "reason": ""})
    assert (no_reason.status_code, casebook.is_locked(locked["participant"].pk)) == (200, True)
    assert (client.post(url, {"action": "unlock", "reason": "Q-7 needs a correction"}).status_code) == 302
    assert casebook.is_locked(locked["participant"].pk) is False


# ---- the casebook page ------------------------------------------------------------------------------


def test_the_casebook_page_shows_the_superseded_signature_and_what_changed(
    signed_casebook, ae, participant, coordinator, investigator, login
):
    update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Source says 3", expected_version=1)
    page = login(investigator).get(f"/participants/{participant.subject_id}/casebook/").content.decode()
    assert 'data-state="superseded"' in page and 'data-testid="changes-table"' in page
    changes = page.split('data-testid="changes-table"')[1]
    assert f"Adverse event #{ae.pk}" in changes and "CTCAE grade" in changes
    assert ">2<" in changes and ">3<" in changes and "Sign again" in page


def test_the_investigator_signs_on_the_page_and_a_wrong_password_goes_on_the_field(
    ae, participant, investigator, password, login
):
    client = login(investigator)
    url = f"/participants/{participant.subject_id}/casebook/"
    wrong = client.post(url, {"action": "sign", "meaning": "on", "password": "nope"})
    assert (wrong.status_code, list(wrong.context["forms"]["sign"].errors)) == (403, ["password"])
    signed = client.post(url, {"action": "sign", "meaning": "on", "password": password})
    assert (signed.status_code, casebook.latest_signature(participant).signature.signer) == (302, investigator)


def test_a_coordinator_cannot_sign_or_lock(participant, coordinator, login):
    client = login(coordinator)
    url = f"/participants/{participant.subject_id}/casebook/"
    assert client.post(url, {"action": "sign", "meaning": "on", "password": "x"}).status_code == 403
    assert client.post(url, {"action": "lock"}).status_code == 403


# ---- source-data verification on pages ------------------------------------------------------------


def test_verification_resets_when_a_verified_value_changes(ae, monitor, coordinator, login):
    client = login(monitor)
    verified = client.post(
        f"/monitoring/sdv/verify/ae/{ae.pk}/", {"version": ae.version, "next": f"/adverse-events/{ae.pk}/"}
    )
    assert (verified.status_code, verified["Location"]) == (302, f"/adverse-events/{ae.pk}/")
    page = client.get(f"/adverse-events/{ae.pk}/").content.decode()
    assert 'data-status="verified"' in page and 'data-testid="verify"' not in page
    update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Source says 3", expected_version=1)
    page = client.get(f"/adverse-events/{ae.pk}/").content.decode()
    assert 'data-status="changed"' in page and "changed since verified" in page and 'data-testid="verify"' in page
    assert "CTCAE grade" in page.split('data-testid="sdv-status"')[1]


def test_verify_never_redirects_to_another_host(ae, monitor, login):
    response = login(monitor).post(
        f"/monitoring/sdv/verify/ae/{ae.pk}/", {"version": ae.version, "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/adverse-events/{ae.pk}/"


def test_a_stale_verification_is_a_message_and_marks_nothing(ae, monitor, login):
    response = login(monitor).post(f"/monitoring/sdv/verify/ae/{ae.pk}/", {"version": ae.version + 1}, follow=True)
    assert ("changed by someone else" in response.content.decode(), SdvMark.objects.count()) == (True, 0)


def test_the_participants_sdv_page_lists_what_is_left(ae, participant, monitor, login):
    page = login(monitor).get(f"/monitoring/sdv/participants/{participant.subject_id}/").content.decode()
    assert page.count('data-testid="sdv-pending-row"') == sdv.worklist(monitor, participant=participant)[0].required
    assert f"/monitoring/sdv/verify/ae/{ae.pk}/" in page


def test_the_data_manager_sets_the_sdv_level(admin_user, login):
    data = {f"sdv_{code}": level for code, level in sdv.levels().items()}
    data |= {"sdv_dose": "all", "query_digest_days": "10", "reason_for_change": "Monitoring plan v2"}
    response = login(admin_user).post("/monitoring/settings/", data)
    assert (response.status_code, sdv.levels()["dose"], sdv.monitoring_settings().query_digest_days) == (302, "all", 10)


# ---- panels ---------------------------------------------------------------------------------------


def test_the_ae_page_shows_its_queries_a_field_flag_and_the_raise_button(grade_query, ae, monitor, coordinator, login):
    page = login(monitor).get(f"/adverse-events/{ae.pk}/").content.decode()
    assert 'data-testid="raise-query"' in page and f'data-testid="query-link">Q-{grade_query.pk}<' in page
    assert 'data-testid="field-flag">Q-' in page
    assert 'data-testid="raise-query"' not in login(coordinator).get(f"/adverse-events/{ae.pk}/").content.decode()


def test_the_participant_page_shows_the_monitoring_card(grade_query, participant, coordinator, login):
    page = login(coordinator).get(f"/participants/{participant.subject_id}/").content.decode()
    assert 'data-testid="monitoring-panel"' in page and f"/participants/{participant.subject_id}/casebook/" in page


def test_the_dashboard_shows_the_query_counts(grade_query, pi, login):
    page = login(pi).get("/dashboard/").content.decode()
    assert 'data-testid="queries-panel"' in page


def test_an_ae_of_another_participant_makes_no_flag(grade_query, participant, coordinator, login):
    other = make_ae(participant=participant, user=coordinator, grade=1)
    page = login(coordinator).get(f"/adverse-events/{other.pk}/").content.decode()
    assert 'data-testid="field-flag"' not in page
