"""Consistency checks of a screening (SPEC §3): each contradiction is refused on its field, nothing saved."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from enrollment.models import Screening, SiteCounter
from enrollment.services import create_screening
from tests.factories import eligible_screening_data


def _today():
    return timezone.localdate()


# case: (changes to an eligible screening, the field that carries the error)
CASES = {
    "inc1_yes_but_a_minor": (lambda d: {"date_of_birth": d["screening_date"] - timedelta(days=365 * 17)}, "inc1"),
    "inc1_no_but_an_adult": (lambda d: {"inc1": False}, "inc1"),
    "inc3_yes_but_ecog_2": (lambda d: {"ecog": 2}, "inc3"),
    "inc3_no_but_ecog_1": (lambda d: {"inc3": False}, "inc3"),
    "exc6_no_but_pgsga_9": (lambda d: {"pgsga_score": 9}, "exc6"),
    "exc6_yes_but_pgsga_4": (lambda d: {"exc6": True}, "exc6"),
    "exc1_no_but_non_squamous": (lambda d: {"histology": "non_squamous"}, "exc1"),
    "exc1_no_but_mixed": (lambda d: {"histology": "mixed"}, "exc1"),
    "exc1_yes_but_squamous": (lambda d: {"exc1": True}, "exc1"),
    "screening_in_the_future": (lambda d: {"screening_date": _today() + timedelta(days=1)}, "screening_date"),
    "consent_in_the_future": (lambda d: {"consent_date": _today() + timedelta(days=1)}, "consent_date"),
    "birth_in_the_future": (lambda d: {"date_of_birth": _today() + timedelta(days=1)}, "date_of_birth"),
    "consent_after_screening": (lambda d: {"consent_date": d["screening_date"] + timedelta(days=1)}, "consent_date"),
    "ecog_7": (lambda d: {"ecog": 7}, "ecog"),
    "pgsga_negative": (lambda d: {"pgsga_score": -1}, "pgsga_score"),
    "initials_with_digits": (lambda d: {"initials": "Z3L"}, "initials"),
    "age_130": (lambda d: {"date_of_birth": d["screening_date"] - timedelta(days=365 * 131)}, "date_of_birth"),
}


def _case(name):
    changes, field = CASES[name]
    data = eligible_screening_data()
    data.update(changes(data))
    return data, field


def _as_post(data: dict) -> dict:
    def value(v):
        if v is True or v is False:
            return str(v)
        return v.isoformat() if hasattr(v, "isoformat") else v

    return {k: value(v) for k, v in data.items()}


@pytest.mark.parametrize("name", CASES)
def test_service_refuses_on_the_field_and_takes_no_number(name, sh01, coordinator):
    data, field = _case(name)
    with pytest.raises(ValidationError) as refused:
        create_screening(site=sh01, data=data, user=coordinator)
    assert field in refused.value.message_dict
    assert not Screening.objects.exists()
    assert SiteCounter.objects.filter(site=sh01, last_screening__gt=0).count() == 0  # no number burnt


@pytest.mark.parametrize("name", CASES)
def test_api_answers_400_with_the_field_error(name, api, coordinator):
    data, field = _case(name)
    response = api(coordinator).post("/api/v1/screenings/", _as_post(data), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Screening.objects.exists()


@pytest.mark.parametrize("name", CASES)
def test_page_shows_the_message_next_to_the_field(name, login, coordinator, sh01):
    data, field = _case(name)
    post = _as_post(data) | {"site": sh01.pk}
    response = login(coordinator).post("/screenings/new/", post)
    assert response.status_code == 200  # the form again, not a redirect
    form = response.context["form"]
    assert field in form.errors, form.errors
    assert 'class="invalid-feedback' in response.content.decode()
    assert not Screening.objects.exists()


@pytest.mark.parametrize("code", ["inc1", "inc4", "exc12"])
def test_an_unanswered_criterion_is_an_error_not_a_no(code, login, api, coordinator, sh01):
    data = eligible_screening_data()
    post = _as_post(data) | {"site": sh01.pk}
    del post[code]
    response = login(coordinator).post("/screenings/new/", post)
    assert code in response.context["form"].errors
    del data[code]
    assert code in api(coordinator).post("/api/v1/screenings/", _as_post(data), format="json").json()
    assert not Screening.objects.exists()


def test_the_form_has_no_preselected_answer(login, coordinator):
    body = login(coordinator).get("/screenings/new/").content.decode()
    assert body.count('class="criterion') >= 34
    assert "checked" not in body.split('name="inc1"')[1].split(">")[0]
    for code in ("INC1", "EXC6", "EXC12"):
        assert code in body
