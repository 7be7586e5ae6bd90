"""Unused list entries are visible to admins only: pages, API, exports, errors (SPEC §6)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from randomization.models import AllocationEntry, Stratum
from randomization.selectors import list_usage_for_admin
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


NEXT_PER_STRATUM = 4  # the unused entries that would tell a site the next arms of a stratum


def next_unused_entries():
    entries = []
    for stratum in Stratum.objects.filter(allocation_list__active=True):
        unused = stratum.entries.filter(allocation__isnull=True).order_by("sequence")
        entries += list(unused.select_related("stratum")[:NEXT_PER_STRATUM])
    return entries


def entry_row(entry) -> str:
    """An entry as the admin's list page renders it."""
    return (
        f"<td>{entry.stratum.code}</td><td>{entry.sequence}</td><td>{entry.block}</td>"
        f"<td>{entry.block_size}</td><td>{entry.arm}</td>"
    )


def usage_row(usage) -> str:
    """A stratum's entries, used and left, as the admin's randomization page renders them."""
    return f"<td>{usage.code}</td><td>{usage.total}</td><td>{usage.used}</td><td>{usage.unused}</td>"


def json_objects(value):
    if isinstance(value, dict):
        yield value
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from json_objects(item)


def leaks(response, entries, usages) -> list[str]:
    """The concealed facts (next entries, entries left per stratum) that a response shows, as HTML or JSON."""
    text = response.content.decode()
    found = [f"entry {e.stratum.code} #{e.sequence}" for e in entries if entry_row(e) in text]
    found += [f"{u.code}: {u.unused} left" for u in usages if usage_row(u) in text]
    if response.get("Content-Type", "").startswith("application/json"):
        for obj in json_objects(response.json()):
            code = obj.get("stratum") or obj.get("code")
            found += [
                f"entry {e.stratum.code} #{e.sequence} (JSON)"
                for e in entries
                if code == e.stratum.code and obj.get("sequence") == e.sequence
            ]
            found += [
                f"{u.code}: {u.unused} left (JSON)"
                for u in usages
                if code == u.code and u.unused in (obj.get("unused"), obj.get("left"), obj.get("remaining"))
            ]
    return found


# pi holds view_balance_report, so the randomization page opens for the PI (balance only).
@pytest.mark.parametrize(
    "role, overview_status", [("coordinator", 403), ("investigator", 403), ("pi", 200), ("monitor", 403)]
)
def test_no_role_but_admin_sees_the_list(
    role, overview_status, request, allocation_list, randomized_cohort, coordinator, admin_user, login, api
):
    user = request.getfixturevalue(role)
    participant = randomized_cohort(ecog=0)
    randomize(participant=participant, user=coordinator)
    waiting = randomized_cohort(ecog=0)  # the next ECOG0 entry would be theirs
    entries = next_unused_entries()
    usages = list_usage_for_admin(admin_user)
    assert {e.stratum.code for e in entries} == {"ECOG0", "ECOG1"} and len(entries) == 2 * NEXT_PER_STRATUM
    client = login(user)
    assert client.get(reverse("allocation-list")).status_code == 403
    page = client.get("/randomization/")
    assert page.status_code == overview_status
    body = page.content.decode()
    assert "Allocation list (data manager only)" not in body
    assert "Left" not in body
    records = [
        f"/participants/{participant.subject_id}/",
        f"/participants/{waiting.subject_id}/",
        f"/participants/{waiting.subject_id}/randomize/",
        f"/api/v1/participants/{participant.subject_id}/",
        f"/api/v1/participants/{waiting.subject_id}/",
    ]
    for path in PAGES + records:
        response = (api(user) if path.startswith("/api/") else client).get(path)
        text = response.content.decode()
        assert "ECOG0,2," not in text and "block_size" not in text.replace("block_sizes", ""), path
        assert leaks(response, entries, usages) == [], path


def test_the_admin_sees_the_concealed_values_the_others_must_not(
    allocation_list, randomized_cohort, coordinator, admin_user, login
):
    """Positive control of the leak check above: it finds the values where the admin is shown them."""
    randomize(participant=randomized_cohort(ecog=0), user=coordinator)
    entries = next_unused_entries()
    usages = list_usage_for_admin(admin_user)
    client = login(admin_user)
    list_page = client.get(reverse("allocation-list"))
    assert list_page.status_code == 200
    assert leaks(list_page, entries, []) == [f"entry {e.stratum.code} #{e.sequence}" for e in entries]
    overview = client.get("/randomization/")
    assert overview.status_code == 200
    assert sorted(leaks(overview, [], usages)) == ["ECOG0: 39 left", "ECOG1: 40 left"]


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
