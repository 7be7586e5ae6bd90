"""Monitoring fixtures: a participant of SH01 with an AE, their casebook signed or locked, and the
people who raise, answer, verify, sign and lock. Each test changes only what it is about."""

import pytest

from monitoring import casebook, queries
from tests.efficacy.conftest import enrolled
from tests.factories import UserFactory, make_ae


@pytest.fixture
def monitor_no_site(monitor):
    """The study's monitor, assigned to no site (reads every site, as monitors do)."""
    assert not monitor.sites.exists()
    return monitor


@pytest.fixture
def monitor_sh01(sh01):
    """A second monitor, assigned to SH01: still no one to answer queries there."""
    return UserFactory(username="monitor_sh01", role="monitor", sites=[sh01])


@pytest.fixture
def participant(sh01, coordinator, study):
    """A run-in participant of SH01, enrolled 60 days ago."""
    return enrolled(site=sh01, user=coordinator, days_ago=60)


@pytest.fixture
def participant_sh02(sh02, coordinator_sh02, study):
    return enrolled(site=sh02, user=coordinator_sh02, days_ago=60)


@pytest.fixture
def ae(participant, coordinator):
    """A Grade 2 pneumonitis of `participant`, unrelated, onset yesterday."""
    return make_ae(participant=participant, user=coordinator, grade=2)


@pytest.fixture
def grade_query(ae, monitor):
    """The monitor's open query on the AE's grade."""
    return queries.raise_query(user=monitor, record=ae, field="grade", text="Source says grade 3?")


@pytest.fixture
def signed_casebook(participant, ae, investigator, password):
    """The investigator's current signature over the participant's casebook (with the AE)."""
    return casebook.sign(participant=participant, user=investigator, password=password)


@pytest.fixture
def locked_casebook(signed_casebook, participant, admin_user):
    """The casebook signed and locked by the data manager."""
    return casebook.lock(participant=participant, user=admin_user)
