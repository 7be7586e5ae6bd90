"""The site of a new screening is decided in the service, for page and API alike: a
re-screening's site, the site named, or the user's only site; never a site the user does
not belong to (404, nothing saved)."""

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from enrollment.models import Screening
from enrollment.services import create_screening
from tests.factories import UserFactory, eligible_screening_data, make_screening


def test_a_one_site_user_screens_at_their_site_without_naming_it(coordinator, sh01, study):
    screening = create_screening(data=eligible_screening_data(), user=coordinator)
    assert screening.site == sh01


def test_a_user_of_two_sites_must_name_the_site(sh01, sh02, study):
    both = UserFactory(username="both", role="coordinator", sites=[sh01, sh02])
    with pytest.raises(ValidationError) as refusal:
        create_screening(data=eligible_screening_data(), user=both)
    assert list(refusal.value.message_dict) == ["site"]
    assert Screening.objects.count() == 0


def test_a_site_the_user_does_not_belong_to_is_404_and_saves_nothing(coordinator, sh02, study):
    with pytest.raises(Http404):
        create_screening(site=sh02, data=eligible_screening_data(), user=coordinator)
    assert Screening.objects.count() == 0


def test_a_re_screening_stays_at_the_site_of_the_earlier_screening(coordinator, sh01, sh02, study):
    failed = make_screening(site=sh01, user=coordinator, exc6=True, pgsga_score=12)
    again = create_screening(data=eligible_screening_data(), user=coordinator, previous_screening=failed)
    assert (again.site, again.previous_screening) == (sh01, failed)


def test_the_api_refuses_a_site_the_user_does_not_belong_to_on_the_site_field(coordinator_sh02, sh01, api, study):
    body = {k: str(v) if hasattr(v, "isoformat") else v for k, v in eligible_screening_data().items()}
    response = api(coordinator_sh02).post("/api/v1/screenings/", {**body, "site": "SH01"}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["site"]
    assert Screening.objects.count() == 0
