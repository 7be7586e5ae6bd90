"""Eligibility (SPEC §1, §3): eligible iff every INC is yes and every EXC is no; each failure is named by its code."""

from datetime import timedelta

import pytest
from django.utils import timezone

from enrollment.eligibility import CRITERIA, CRITERIA_BY_CODE, consistency_errors, evaluate
from enrollment.models import Screening
from enrollment.services import create_screening
from tests.factories import eligible_screening_data

CODES = [f"INC{i}" for i in range(1, 6)] + [f"EXC{i}" for i in range(1, 13)]

# A failing answer must agree with the value it rests on, or the consistency checks refuse it.
SUPPORTING_VALUES = {
    "INC1": lambda data: {"date_of_birth": data["screening_date"] - timedelta(days=365 * 17)},
    "INC3": lambda data: {"ecog": 2},
    "EXC1": lambda data: {"histology": "non_squamous"},
    "EXC6": lambda data: {"pgsga_score": 12},
}


def failing_only(code: str) -> dict:
    """A complete, consistent screening that fails exactly the criterion `code`."""
    criterion = CRITERIA_BY_CODE[code]
    data = eligible_screening_data(**{criterion.field: criterion.failing_answer})
    data.update(SUPPORTING_VALUES.get(code, lambda data: {})(data))
    return data


def verdict_of(data: dict):
    return evaluate(
        {c.field: data.get(c.field) for c in CRITERIA},
        consent_date=data["consent_date"],
        screening_date=data["screening_date"],
    )


def api_payload(data: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()} | {"site": "SH01"}


def test_the_protocol_has_17_criteria_with_its_own_codes():
    """The codes are the protocol's numbering, in protocol order (forms, API and exports use them)."""
    assert [c.code for c in CRITERIA] == CODES
    assert [c.field for c in CRITERIA] == [code.lower() for code in CODES]
    assert all(c.inclusion for c in CRITERIA[:5]) and not any(c.inclusion for c in CRITERIA[5:])


# --- the pure function ---


def test_all_criteria_met_is_eligible():
    verdict = verdict_of(eligible_screening_data())
    assert verdict.eligible is True
    assert verdict.failed_criteria == ()


@pytest.mark.parametrize("code", CODES)
def test_failing_one_criterion_is_not_eligible_and_names_only_it(code):
    data = failing_only(code)
    assert consistency_errors(data, today=timezone.localdate()) == {}  # a genuine failure, not a contradiction
    verdict = verdict_of(data)
    assert verdict.eligible is False
    assert list(verdict.failed_criteria) == [code]


def test_several_failures_are_all_listed_in_protocol_order():
    data = eligible_screening_data(exc11=True, inc4=False, ecog=3, inc3=False, exc4=True)
    assert list(verdict_of(data).failed_criteria) == ["INC3", "INC4", "EXC4", "EXC11"]


@pytest.mark.parametrize("code", ["INC2", "EXC7"])
def test_an_unanswered_criterion_is_never_assumed_met(code):
    data = eligible_screening_data()
    data[code.lower()] = None
    assert verdict_of(data).failed_criteria == (code,)


def test_consent_after_screening_makes_the_patient_not_eligible():
    """SPEC §3: eligibility also needs consent signed on or before the screening date."""
    data = eligible_screening_data()
    same_day = verdict_of(data | {"consent_date": data["screening_date"]})
    assert same_day.eligible is True
    late = verdict_of(data | {"consent_date": data["screening_date"] + timedelta(days=1)})
    assert late.eligible is False and late.failed_criteria == ("CONSENT",)


# --- through the service and the API: the stored verdict ---


def test_service_stores_eligible_with_no_failed_criteria(sh01, coordinator):
    screening = create_screening(site=sh01, data=eligible_screening_data(), user=coordinator)
    screening.refresh_from_db()
    assert screening.eligible is True and screening.failed_criteria == []


@pytest.mark.parametrize("code", CODES)
def test_service_stores_the_single_failed_criterion(code, sh01, coordinator):
    screening = create_screening(site=sh01, data=failing_only(code), user=coordinator)
    screening.refresh_from_db()
    assert screening.eligible is False
    assert screening.failed_criteria == [code]


def test_api_answers_eligible_with_no_failed_criteria(api, coordinator):
    response = api(coordinator).post("/api/v1/screenings/", api_payload(eligible_screening_data()), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["eligible"] is True and body["failed_criteria"] == []
    assert body["screening_number"] == "SH01-S0001"
    assert Screening.objects.get(pk=body["id"]).eligible is True


@pytest.mark.parametrize("code", CODES)
def test_api_answers_the_single_failed_criterion(code, api, coordinator):
    response = api(coordinator).post("/api/v1/screenings/", api_payload(failing_only(code)), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["eligible"] is False
    assert body["failed_criteria"] == [code]
    assert api(coordinator).get(f"/api/v1/screenings/{body['id']}/").json()["failed_criteria"] == [code]
