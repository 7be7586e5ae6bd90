"""A voided record is kept as it was: a change is refused the same way on pages and API
(a refusal of the record's state — a message on the record's page, 409 in the API), and
nothing changes."""

import pytest
from django.contrib.messages import get_messages

from safety.models import AdverseEvent
from safety.services import void_adverse_event
from tests.factories import make_ae, make_participant
from tests.safety.ae_payloads import ae_form_post


@pytest.fixture
def voided_ae(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    ae = make_ae(participant=participant, user=coordinator, grade=2)
    return void_adverse_event(ae=ae, user=coordinator, reason="Entered for the wrong patient")


def _unchanged(ae) -> tuple:
    return AdverseEvent.objects.filter(pk=ae.pk).values_list("grade", "version", "voided", "void_reason").get()


def test_edit_page_of_a_voided_ae_shows_the_refusal_on_the_ae_page(voided_ae, coordinator, login):
    before = _unchanged(voided_ae)
    response = login(coordinator).get(f"/adverse-events/{voided_ae.pk}/edit/")
    assert response.status_code == 302 and response.url == f"/adverse-events/{voided_ae.pk}/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "This adverse event is voided; a voided record cannot be changed."
    ]
    assert _unchanged(voided_ae) == before


def test_posting_an_edit_of_a_voided_ae_changes_nothing(voided_ae, coordinator, login):
    before = _unchanged(voided_ae)
    post = ae_form_post(voided_ae, grade=3, reason_for_change="Late correction", version=voided_ae.version)
    response = login(coordinator).post(f"/adverse-events/{voided_ae.pk}/edit/", post)
    assert response.status_code == 302 and response.url == f"/adverse-events/{voided_ae.pk}/"
    assert _unchanged(voided_ae) == before


def test_api_patch_of_a_voided_ae_is_409_and_changes_nothing(voided_ae, coordinator, api):
    before = _unchanged(voided_ae)
    response = api(coordinator).patch(
        f"/api/v1/adverse-events/{voided_ae.pk}/",
        {"grade": 3, "reason_for_change": "Late correction", "version": 2},
        format="json",
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "This adverse event is voided; a voided record cannot be changed."}
    assert _unchanged(voided_ae) == before


def test_voiding_twice_is_refused_the_same_way_on_page_and_api(voided_ae, coordinator, login, api):
    before = _unchanged(voided_ae)
    page = login(coordinator).post(f"/adverse-events/{voided_ae.pk}/void/", {"reason": "Again", "version": 2})
    assert page.status_code == 302 and page.url == f"/adverse-events/{voided_ae.pk}/"
    response = api(coordinator).post(f"/api/v1/adverse-events/{voided_ae.pk}/void/", {"reason": "Again"}, format="json")
    assert response.status_code == 409
    assert _unchanged(voided_ae) == before
