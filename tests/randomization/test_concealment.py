"""Unused list entries are visible to admins only: pages, API, exports, errors (SPEC §6)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from randomization.models import AllocationEntry
from randomization.services import randomize

PAGES = [
    "/",
    "/randomization/",
    "/participants/",
    "/screenings/",
    "/adverse-events/",
    "/alerts/",
    "/study/decisions/",
    "/api/v1/participants/",
    "/api/v1/alerts/",
    "/api/v1/schema/",
]


@pytest.mark.parametrize("role", ["coordinator", "investigator", "pi", "monitor"])
def test_no_role_but_admin_sees_the_list(role, request, allocation_list, randomized_cohort, coordinator, login, api):
    user = request.getfixturevalue(role)
    participant = randomized_cohort(ecog=0)
    randomize(participant=participant, user=coordinator)
    client = login(user)
    assert client.get(reverse("allocation-list")).status_code == 403
    page = client.get("/randomization/")
    assert page.status_code in (200, 403)
    body = page.content.decode()
    assert "Allocation list (data manager only)" not in body
    assert "Left" not in body
    for path in PAGES + [f"/participants/{participant.subject_id}/"]:
        response = (api(user) if path.startswith("/api/") else client).get(path)
        text = response.content.decode()
        assert "ECOG0,2," not in text and "block_size" not in text.replace("block_sizes", ""), path


def test_admin_sees_entries(allocation_list, admin_user, login):
    response = login(admin_user).get(reverse("allocation-list"))
    assert response.status_code == 200
    first = AllocationEntry.objects.get(stratum__code="ECOG0", sequence=1)
    assert f"<td>ECOG0</td><td>1</td><td>{first.block}</td>" in response.content.decode()


def test_selectors_refuse_non_admins(allocation_list, pi):
    from randomization.selectors import list_entries_for_admin, list_usage_for_admin

    with pytest.raises(PermissionDenied):
        list_entries_for_admin(pi)
    with pytest.raises(PermissionDenied):
        list_usage_for_admin(pi)


@pytest.mark.parametrize("role", ["coordinator", "investigator", "pi", "monitor"])
def test_exports_of_allocations_are_admin_only(
    role, request, allocation_list, randomized_cohort, coordinator, login, api
):
    user = request.getfixturevalue(role)
    randomize(participant=randomized_cohort(ecog=0), user=coordinator)
    assert login(user).get("/exports/allocations.csv").status_code == 403
    assert api(user).get("/api/v1/exports/allocations.csv").status_code == 403


def test_the_admins_allocations_export_holds_only_allocations_made(
    allocation_list, randomized_cohort, coordinator, admin_user, api
):
    from scr_escc.csvexport import read_back

    allocation = randomize(participant=randomized_cohort(ecog=1), user=coordinator)
    response = api(admin_user).get("/api/v1/exports/allocations.csv")
    rows = read_back(b"".join(response.streaming_content))
    assert [(r["STRATUM"], r["RANDSEQ"], r["ARMCD"]) for r in rows] == [
        (allocation.stratum, str(allocation.sequence), allocation.arm)
    ]
    assert AllocationEntry.objects.count() > 1
