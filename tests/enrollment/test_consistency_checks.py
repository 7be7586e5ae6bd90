"""Consistency checks (SPEC §3): a contradictory screening is refused on the right field, and nothing is saved."""

import re
from datetime import date, timedelta
from html import unescape

import pytest
from django.utils import timezone

from enrollment.eligibility import CRITERIA, consistency_errors
from enrollment.models import Screening, SiteCounter
from tests.factories import eligible_screening_data, make_screening


def _today() -> date:
    return timezone.localdate()


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# name: (changes to an eligible screening, the field that must carry the error, words of the message).
# The 17-year-old turns 18 between screening and today: age counts at the screening date, not today.
CONTRADICTIONS = {
    "inc1_yes_but_17_at_screening": (
        lambda d: {"date_of_birth": _years_before(d["screening_date"], 18) + timedelta(days=1)},
        "inc1",
        "INC1 answered yes",
    ),
    "inc1_no_but_an_adult": (lambda d: {"inc1": False}, "inc1", "INC1 answered no"),
    "inc3_yes_but_ecog_2": (lambda d: {"ecog": 2}, "inc3", "ECOG is 2"),
    "inc3_no_but_ecog_0": (lambda d: {"ecog": 0, "inc3": False}, "inc3", "ECOG is 0"),
    "exc6_no_but_pgsga_9": (lambda d: {"pgsga_score": 9}, "exc6", "PG-SGA score is 9"),
    "exc6_yes_but_pgsga_8": (lambda d: {"pgsga_score": 8, "exc6": True}, "exc6", "PG-SGA score is 8"),
    "exc1_no_but_non_squamous": (lambda d: {"histology": "non_squamous"}, "exc1", "histology"),
    "exc1_no_but_mixed": (lambda d: {"histology": "mixed"}, "exc1", "histology"),
    "exc1_yes_but_squamous": (lambda d: {"exc1": True}, "exc1", "squamous"),
    "screening_date_tomorrow": (
        lambda d: {"screening_date": _today() + timedelta(days=1)},
        "screening_date",
        "future",
    ),
    "consent_date_tomorrow": (lambda d: {"consent_date": _today() + timedelta(days=1)}, "consent_date", "future"),
    "birth_date_tomorrow": (lambda d: {"date_of_birth": _today() + timedelta(days=1)}, "date_of_birth", "future"),
    "consent_after_screening": (
        lambda d: {"consent_date": d["screening_date"] + timedelta(days=1)},
        "consent_date",
        "on or before the screening date",
    ),
}
IMPOSSIBLE_VALUES = {
    "ecog_7": (lambda d: {"ecog": 7}, "ecog", None),
    "pgsga_minus_1": (lambda d: {"pgsga_score": -1}, "pgsga_score", None),
    "initials_with_digits": (lambda d: {"initials": "Z3L"}, "initials", "letters"),
}
CASES = CONTRADICTIONS | IMPOSSIBLE_VALUES


def case(name: str) -> tuple[dict, str, str | None]:
    changes, field, words = CASES[name]
    data = eligible_screening_data()
    data.update(changes(data))
    return data, field, words


def form_post(data: dict, site) -> dict:
    def value(v):
        if isinstance(v, bool):
            return str(v)
        return v.isoformat() if hasattr(v, "isoformat") else v

    return {k: value(v) for k, v in data.items()} | {"site": site.pk}


def api_post(data: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()} | {"site": "SH01"}


def error_next_to(html: str, field: str) -> str:
    """The error text crispy renders inside the field's own block (id_<field>_error), or ''."""
    found = re.search(rf'<div id="id_{field}_error" class="invalid-feedback">(.*?)</div>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", " ", found.group(1))) if found else ""


@pytest.fixture
def counts(sh01, coordinator):
    """One saved screening, so "nothing saved" is a count that stays at 1 and a counter that stays at 1."""
    make_screening(site=sh01, user=coordinator)

    def _counts():
        return Screening.objects.count(), SiteCounter.objects.get(site=sh01).last_screening

    assert _counts() == (1, 1)
    return _counts


@pytest.mark.parametrize("name", CONTRADICTIONS)
def test_pure_check_names_the_contradicted_field(name):
    data, field, words = case(name)
    errors = consistency_errors(data, today=_today())
    assert field in errors, errors
    assert words in " ".join(errors[field])


@pytest.mark.parametrize("name", CASES)
def test_page_re_renders_the_form_with_the_error_next_to_the_field(name, login, coordinator, sh01, counts):
    data, field, words = case(name)
    response = login(coordinator).post("/screenings/new/", form_post(data, sh01))
    assert response.status_code == 200  # the form again, not a redirect to a saved screening
    assert field in response.context["form"].errors, response.context["form"].errors
    shown = error_next_to(response.content.decode(), field)
    assert shown.strip(), f"no error rendered next to {field}"
    if words:
        assert words in shown
    assert counts() == (1, 1)


@pytest.mark.parametrize("name", CASES)
def test_api_answers_400_with_the_error_on_the_field(name, api, coordinator, counts):
    data, field, words = case(name)
    response = api(coordinator).post("/api/v1/screenings/", api_post(data), format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert isinstance(body.get(field), list) and body[field], body
    assert all(isinstance(message, str) for message in body[field])
    if words:
        assert words in " ".join(body[field])
    assert counts() == (1, 1)


def test_page_refuses_each_unanswered_criterion_on_its_own_field(login, coordinator, sh01, counts):
    post = form_post(eligible_screening_data(), sh01)
    for criterion in CRITERIA:
        del post[criterion.field]
    response = login(coordinator).post("/screenings/new/", post)
    assert response.status_code == 200
    html = response.content.decode()
    for criterion in CRITERIA:
        assert f"Answer {criterion.code}: yes or no." in error_next_to(html, criterion.field), criterion.code
    assert counts() == (1, 1)


@pytest.mark.parametrize("field", [c.field for c in CRITERIA])
def test_page_refuses_a_single_unanswered_criterion(field, login, coordinator, sh01, counts):
    post = form_post(eligible_screening_data(), sh01)
    del post[field]
    response = login(coordinator).post("/screenings/new/", post)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert counts() == (1, 1)


@pytest.mark.parametrize("how", ["missing", "null"])
def test_api_refuses_each_unanswered_criterion_on_its_own_field(how, api, coordinator, counts):
    payload = api_post(eligible_screening_data())
    for criterion in CRITERIA:
        if how == "missing":
            del payload[criterion.field]
        else:
            payload[criterion.field] = None
    response = api(coordinator).post("/api/v1/screenings/", payload, format="json")
    assert response.status_code == 400
    assert sorted(response.json()) == sorted(c.field for c in CRITERIA)
    assert counts() == (1, 1)


def test_service_refuses_an_unanswered_criterion(sh01, coordinator, counts):
    """Even below the form and the API a missing answer is an error, never stored as "no"."""
    from django.core.exceptions import ValidationError

    from enrollment.services import create_screening

    data = eligible_screening_data()
    del data["exc12"]
    with pytest.raises(ValidationError) as refused:
        create_screening(site=sh01, data=data, user=coordinator)
    assert "exc12" in refused.value.message_dict
    assert counts() == (1, 1)


def test_the_new_screening_form_preselects_no_answer(login, coordinator):
    html = login(coordinator).get("/screenings/new/").content.decode()
    for criterion in CRITERIA:
        radios = re.findall(rf'<input[^>]*name="{criterion.field}"[^>]*>', html)
        assert len(radios) == 2, criterion.code
        assert not any("checked" in radio for radio in radios), criterion.code


# Values right at the thresholds are consistent: the checks must not refuse them.
BOUNDARIES = {
    "18th_birthday_on_screening_day": (
        {"screening_date": date(2024, 3, 15), "consent_date": date(2024, 3, 15), "date_of_birth": date(2006, 3, 15)},
        True,
    ),
    "17_the_day_before_18th_birthday": (
        {
            "screening_date": date(2024, 3, 14),
            "consent_date": date(2024, 3, 14),
            "date_of_birth": date(2006, 3, 15),
            "inc1": False,
        },
        False,
    ),
    "ecog_1_meets_inc3": ({"ecog": 1}, True),
    "ecog_2_fails_inc3": ({"ecog": 2, "inc3": False}, False),
    "pgsga_8_not_excluded": ({"pgsga_score": 8}, True),
    "pgsga_9_excludes": ({"pgsga_score": 9, "exc6": True}, False),
    "mixed_histology_excludes": ({"histology": "mixed", "exc1": True}, False),
}


@pytest.mark.parametrize("name", BOUNDARIES)
def test_values_at_the_thresholds_are_accepted_via_the_api(name, api, coordinator):
    changes, eligible = BOUNDARIES[name]
    response = api(coordinator).post("/api/v1/screenings/", api_post(eligible_screening_data(**changes)), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["eligible"] is eligible


def test_consent_and_screening_today_are_not_in_the_future(api, coordinator):
    changes = {"screening_date": _today(), "consent_date": _today()}
    response = api(coordinator).post("/api/v1/screenings/", api_post(eligible_screening_data(**changes)), format="json")
    assert response.status_code == 201, response.content
    assert response.json()["eligible"] is True


def test_correcting_a_screening_into_a_contradiction_is_refused_and_changes_nothing(login, coordinator, sh01):
    screening = make_screening(site=sh01, user=coordinator)
    data = eligible_screening_data(ecog=3)
    post = form_post(data, sh01) | {"reason_for_change": "ECOG re-assessed", "version": screening.version}
    response = login(coordinator).post(f"/screenings/{screening.pk}/edit/", post)
    assert response.status_code == 200
    assert "ECOG is 3" in error_next_to(response.content.decode(), "inc3")
    screening.refresh_from_db()
    assert (screening.ecog, screening.version, screening.history.count()) == (1, 1, 1)
