"""SPEC §2/§4: an investigator of the site (or the PI) e-signs each AE's attribution, on the
page or through the API; the participant page, the AE page and the dashboard show the state."""

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from safety.models import AdverseEvent
from safety.services import update_adverse_event
from scr_escc.models import ESignature, Study
from scr_escc.selectors import get_study
from scr_escc.signatures import MEANINGS
from tests.factories import PASSWORD, make_ae, make_participant
from tests.safety.ae_payloads import ae_form_post


def _sign_url(ae) -> str:
    return f"/api/v1/adverse-events/{ae.pk}/sign-attribution/"


@pytest.fixture
def death(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    return make_ae(participant=participant, user=coordinator, grade=5, related="unlikely")


def test_the_investigator_signs_on_the_page_and_the_death_leaves_the_count(death, investigator, login):
    client = login(investigator)
    page = client.get(f"/adverse-events/{death.pk}/sign/")
    assert MEANINGS[ESignature.Action.SIGN_AE_ATTRIBUTION] in page.content.decode()
    form = {
        "action": "sign_ae_attribution",
        "pd1": "unrelated",
        "chemo": "unlikely",
        "ldrt": "unrelated",
        "cfrt": "unrelated",
        "version": death.version,
        "meaning": "on",
        "password": PASSWORD,
    }
    response = client.post(f"/adverse-events/{death.pk}/sign/", form)
    assert response.status_code == 302 and response.url == f"/adverse-events/{death.pk}/"
    death.refresh_from_db()
    assert death.attribution_signature.signer == investigator
    assert get_study().treatment_related_grade5 == 0


def test_changing_the_attribution_while_signing_needs_a_reason(death, investigator, api):
    before = AdverseEvent.objects.filter(pk=death.pk).values_list("attribution_pd1", "version").get()
    body = {
        "version": death.version,
        "password": PASSWORD,
        "attribution": {"pd1": "possible", "chemo": "unlikely", "ldrt": "unrelated", "cfrt": "unrelated"},
    }
    response = api(investigator).post(f"/api/v1/adverse-events/{death.pk}/sign-attribution/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["reason_for_change"]
    assert AdverseEvent.objects.filter(pk=death.pk).values_list("attribution_pd1", "version").get() == before
    body["reason_for_change"] = "Pneumonitis is a known PD-1 toxicity"
    response = api(investigator).post(f"/api/v1/adverse-events/{death.pk}/sign-attribution/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["attribution_sign_off"]["status"] == "signed"
    assert response.json()["treatment_related"] is True


def test_a_wrong_password_signs_nothing(death, investigator, api):
    response = api(investigator).post(_sign_url(death), {"password": "wrong", "version": death.version}, format="json")
    assert response.status_code == 403
    death.refresh_from_db()
    assert (death.attribution_signature, ESignature.objects.count()) == (None, 0)


def test_a_coordinator_gets_403_on_the_sign_off(death, coordinator, login, api):
    assert login(coordinator).get(f"/adverse-events/{death.pk}/sign/").status_code == 403
    url = f"/api/v1/adverse-events/{death.pk}/sign-attribution/"
    body = {"password": PASSWORD, "version": death.version}
    assert api(coordinator).post(url, body, format="json").status_code == 403


def test_the_participant_page_shows_the_sign_off_state(death, investigator, coordinator, login, api):
    page = login(coordinator).get(f"/participants/{death.participant.subject_id}/").content.decode()
    assert "pending" in page
    api(investigator).post(_sign_url(death), {"password": PASSWORD, "version": death.version}, format="json")
    page = login(coordinator).get(f"/participants/{death.participant.subject_id}/").content.decode()
    assert f"signed by {investigator.username}" in page


def test_the_dashboard_lists_deaths_awaiting_sign_off(death, investigator, pi, login, api):
    body = login(pi).get("/dashboard/").content.decode()
    awaiting = body[body.index('data-testid="awaiting-sign-off"') :]
    assert death.participant.subject_id in awaiting[:600]
    api(investigator).post(_sign_url(death), {"password": PASSWORD, "version": death.version}, format="json")
    body = login(pi).get("/dashboard/").content.decode()
    awaiting = body[body.index('data-testid="awaiting-sign-off"') :]
    assert "every death" in awaiting[:600]


def test_a_sign_off_binds_to_the_version_read(death, investigator, coordinator, api):
    url = f"/api/v1/adverse-events/{death.pk}/sign-attribution/"
    missing = api(investigator).post(url, {"password": PASSWORD}, format="json")
    assert missing.status_code == 400 and list(missing.json()) == ["version"]
    read = death.version
    update_adverse_event(ae=death, data={"attribution_pd1": "unrelated"}, user=coordinator, reason="Typo")
    stale = api(investigator).post(url, {"password": PASSWORD, "version": read}, format="json")
    assert stale.status_code == 409  # the attribution changed since it was read: nothing is signed
    death.refresh_from_db()
    assert death.attribution_signature is None


@pytest.mark.parametrize(
    ("phase", "counted"), [(Study.Phase.RUN_IN, True), (Study.Phase.RANDOMIZATION, False)], ids=["run-in", "randomized"]
)
def test_the_saved_message_says_an_unsigned_death_counts_only_when_the_rule_counts_it(
    phase, counted, sh01, coordinator, study, login
):
    Study.objects.filter(pk=1).update(phase=phase)
    ae = make_ae(participant=make_participant(site=sh01, user=coordinator), user=coordinator, grade=4)
    today = timezone.localdate().isoformat()
    post = ae_form_post(
        ae,
        grade="5",
        outcome="fatal",
        death_date=today,
        serious="True",
        seriousness_criteria=["death"],
        end_date=today,
        reason_for_change="The patient died of it",
    )
    post.pop("ongoing")
    response = login(coordinator).post(f"/adverse-events/{ae.pk}/edit/", post)
    assert response.status_code == 302 and response.url == f"/adverse-events/{ae.pk}/"
    assert AdverseEvent.objects.get(pk=ae.pk).grade == 5
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    counts = "Its attribution awaits an investigator's sign-off; until then this death counts toward the stopping rule."
    assert (counts in message) is counted
