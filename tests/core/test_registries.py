"""The core and enrollment cannot import the apps above them; those apps register what they
add (menu pages, participant-page panels, settings checks) in AppConfig.ready()."""

import pytest
from django.core.exceptions import ValidationError

from enrollment.panels import render_participant_panels
from randomization.lists import generate_allocation_list
from scr_escc.navigation import menu_for
from scr_escc.selectors import get_study
from scr_escc.services import update_study_settings
from tests.factories import make_participant, strong_seed


def test_each_role_gets_the_pages_the_apps_registered_for_it(coordinator, admin_user):
    assert [label for label, _url in menu_for(coordinator)] == [
        "Worklist",
        "Screenings",
        "Participants",
        "Adverse events",
        "Deviations",
        "Queries",
    ]
    assert [url for _label, url in menu_for(admin_user)] == [
        "/screenings/",
        "/participants/",
        "/adverse-events/",
        "/deviations/",
        "/monitoring/queries/",
        "/monitoring/sdv/",
        "/dashboard/",
        "/efficacy/",
        "/randomization/",
        "/alerts/",
        "/study/decisions/",
        "/exports/",
        "/study/settings/",
        "/accounts/users/",
    ]


def test_the_participant_page_shows_the_panels_of_the_apps_above_enrollment(sh01, coordinator, study, rf):
    participant = make_participant(site=sh01, user=coordinator)
    request = rf.get("/")
    request.user = coordinator
    panels = render_participant_panels(request, participant)
    assert len(panels) == 5
    assert 'data-testid="new-ae"' in panels[0]
    assert panels[1] == ""  # the randomization panel shows nothing for the run-in cohort
    assert 'data-testid="efficacy-panel"' in panels[2]
    assert 'data-testid="deviations-panel"' in panels[3]
    assert 'data-testid="monitoring-panel"' in panels[4]


def test_efficacy_registers_the_worklist_as_the_home_page_of_site_staff(sh01, coordinator, pi, login, study):
    assert 'data-testid="worklist"' in login(coordinator).get("/").content.decode()
    assert 'data-testid="worklist"' not in login(pi).get("/").content.decode()


def test_randomization_registers_its_stratification_check_with_the_core(admin_user, study):
    generate_allocation_list(seed=strong_seed("registry-seed"), per_stratum=4, user=admin_user)
    with pytest.raises(ValidationError) as refusal:
        update_study_settings(user=admin_user, data={"stratify_by_site": True}, reason="Add site")
    assert list(refusal.value.message_dict) == ["stratify_by_site"]
    assert get_study().stratify_by_site is False
