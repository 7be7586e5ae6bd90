"""The stopping-rule table and the deaths list show each death's days from the first dose."""

from datetime import timedelta

import pytest
from django.utils import timezone

from efficacy.models import Agent
from efficacy.treatment import record_cycle
from tests.factories import make_ae, make_participant

pytestmark = pytest.mark.django_db


def _cycle_1(participant, user, day):
    dose = {"administered_on": day, "change": "as_planned", "dose": 200, "unit": "mg", "change_reason": ""}
    record_cycle(participant=participant, cycle=1, doses={a.value: dict(dose) for a in Agent}, user=user)


def _cells(html: str, testid: str) -> list[str]:
    import re

    return re.findall(rf'data-testid="{testid}">(.*?)</td>', html)


def test_each_run_in_death_shows_its_days_from_the_first_dose(sh01, coordinator, pi, login, study):
    today = timezone.localdate()
    treated = make_participant(site=sh01, user=coordinator, enrollment_date=today - timedelta(days=30))
    _cycle_1(treated, coordinator, today - timedelta(days=17))
    make_ae(participant=treated, user=coordinator, grade=5, related="possible", onset_date=today - timedelta(days=2))
    untreated = make_participant(site=sh01, user=coordinator, enrollment_date=today - timedelta(days=3))
    make_ae(participant=untreated, user=coordinator, grade=5, related="possible", onset_date=today - timedelta(days=1))

    html = login(pi).get("/dashboard/").content.decode()

    days = _cells(html, "days-from-first-dose")
    assert sorted(days) == ["17", '<span class="text-muted">no dose recorded</span>']
