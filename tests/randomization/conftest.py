import pytest

from randomization.lists import generate_allocation_list
from scr_escc.models import Study
from tests.factories import make_participant, strong_seed


@pytest.fixture
def randomization_open(study):
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)


@pytest.fixture
def allocation_list(db, admin_user):
    return generate_allocation_list(seed=strong_seed("trial-seed"), per_stratum=40, user=admin_user)


@pytest.fixture
def randomized_cohort(randomization_open, sh01, coordinator):
    """Make a randomized-cohort participant with the given ECOG."""

    def make(ecog=1, site=None, user=None):
        return make_participant(site=site or sh01, user=user or coordinator, ecog=ecog)

    return make
