"""Eligibility (SPEC §1, §3): each of the 17 criteria alone makes a patient ineligible, with exactly its code."""

from datetime import timedelta

import pytest

from enrollment.eligibility import CRITERIA, evaluate
from enrollment.models import Screening
from tests.factories import eligible_screening_data

CODES = [c.code for c in CRITERIA]


def failing_only(code: str) -> dict:
    """A screening meeting every criterion but `code`, with supporting values that agree (SPEC §3 checks)."""
    criterion = next(c for c in CRITERIA if c.code == code)
    data = eligible_screening_data(**{criterion.field: criterion.failing_answer})
    screened = data["screening_date"]
    supporting = {
        "INC1": {"date_of_birth": screened - timedelta(days=365 * 17)},
        "INC3": {"ecog": 2},
        "EXC1": {"histology": "non_squamous"},
        "EXC6": {"pgsga_score": 12},
        "EXC11": {"sex": "female"},
    }
    data.update(supporting.get(code, {}))
    return data


def answers(data: dict) -> dict:
    return {c.field: data[c.field] for c in CRITERIA}


def api_payload(data: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()}


def test_there_are_17_criteria_in_protocol_order():
    assert CODES == [f"INC{i}" for i in range(1, 6)] + [f"EXC{i}" for i in range(1, 13)]


def test_all_criteria_met_is_eligible():
    data = eligible_screening_data()
    verdict = evaluate(answers(data), consent_date=data["consent_date"], screening_date=data["screening_date"])
    assert verdict.eligible and verdict.failed_criteria == ()


@pytest.mark.parametrize("code", CODES)
def test_failing_only_one_criterion_lists_exactly_that_code(code):
    data = failing_only(code)
    verdict = evaluate(answers(data), consent_date=data["consent_date"], screening_date=data["screening_date"])
    assert not verdict.eligible
    assert verdict.failed_criteria == (code,)


@pytest.mark.parametrize("code", CODES)
def test_an_unanswered_criterion_is_never_a_silent_pass(code):
    data = eligible_screening_data()
    given = answers(data)
    given[next(c.field for c in CRITERIA if c.code == code)] = None
    verdict = evaluate(given, consent_date=data["consent_date"], screening_date=data["screening_date"])
    assert not verdict.eligible and verdict.failed_criteria == (code,)


def test_consent_after_screening_is_not_eligible():
    data = eligible_screening_data()
    verdict = evaluate(
        answers(data), consent_date=data["screening_date"] + timedelta(days=1), screening_date=data["screening_date"]
    )
    assert not verdict.eligible and verdict.failed_criteria == ("CONSENT",)


@pytest.mark.parametrize("code", CODES)
def test_the_api_answers_the_same_verdict(code, api, coordinator):
    response = api(coordinator).post("/api/v1/screenings/", api_payload(failing_only(code)), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["eligible"] is False and body["failed_criteria"] == [code]
    assert body["screening_number"] == "SH01-S0001"
    stored = Screening.objects.get(pk=body["id"])
    assert stored.failed_criteria == [code] and stored.eligible is False


def test_the_api_says_eligible_when_every_criterion_is_met(api, coordinator):
    response = api(coordinator).post("/api/v1/screenings/", api_payload(eligible_screening_data()), format="json")
    assert response.status_code == 201
    assert response.json()["eligible"] is True and response.json()["failed_criteria"] == []


@pytest.mark.parametrize("code", ["INC2", "EXC6", "EXC12"])
def test_the_page_shows_the_failed_criterion_in_words(code, login, coordinator, sh01):
    data = failing_only(code)
    post = {k: ("True" if v is True else "False" if v is False else v) for k, v in api_payload(data).items()}
    post["site"] = sh01.pk
    response = login(coordinator).post("/screenings/new/", post, follow=True)
    body = response.content.decode()
    criterion = next(c for c in CRITERIA if c.code == code)
    assert "NOT ELIGIBLE" in body and code in body and str(criterion.text)[:40] in body.replace("&#x27;", "'")
    assert Screening.objects.get().failed_criteria == [code]
