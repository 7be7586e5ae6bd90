"""Issue 16: randomization that cannot be guessed or starved. The seed is the server's (or a
typed one as strong), the fingerprint an HMAC under a server secret, a stratum running low
is extended by the data manager even after the first allocation (audited), a site added
later gets its strata, and the low-list alert never says how many entries are left."""

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from randomization import blocks
from randomization.lists import extend_stratum, fingerprint_key, generate_allocation_list
from randomization.models import Allocation, AllocationEntry, AllocationList, AllocationListChange
from randomization.services import RandomizationRefused, randomize
from scr_escc.models import Alert, Study
from scr_escc.services import create_site, update_study_settings
from tests.factories import UserFactory, make_participant


def _entries(code: str) -> list[tuple]:
    return list(
        AllocationEntry.objects.filter(stratum__allocation_list__active=True, stratum__code=code)
        .order_by("sequence")
        .values_list("sequence", "block", "block_size", "arm")
    )


def test_without_a_typed_seed_the_server_draws_a_strong_one(admin_user, study):
    first = generate_allocation_list(per_stratum=4, user=admin_user)
    second = generate_allocation_list(per_stratum=4, user=admin_user)
    assert blocks.seed_entropy_bits(first.seed) >= 128 and len(first.seed) >= 43
    assert first.seed != second.seed


@pytest.mark.parametrize("seed", ["a secret seed", "trial-seed", "42", "a" * 64])
def test_a_guessable_typed_seed_is_refused_and_no_list_is_made(seed, admin_user, study):
    with pytest.raises(ValidationError) as refusal:
        generate_allocation_list(seed=seed, per_stratum=4, user=admin_user)
    assert list(refusal.value.message_dict) == ["seed"]
    with pytest.raises(CommandError):
        call_command("generate_allocation_list", "--by", admin_user.username, "--seed", seed, "--per-stratum", "4")
    assert AllocationList.objects.count() == 0


def test_a_weak_seed_on_the_page_is_a_field_error(admin_user, login, study):
    response = login(admin_user).post(
        "/randomization/", {"action": "generate", "seed": "trial-seed", "per_stratum": 4, "block_sizes": "2,4"}
    )
    assert response.status_code == 200
    assert "too easy to guess" in response.context["generate_form"].errors["seed"][0]
    assert AllocationList.objects.count() == 0


def test_the_fingerprint_is_an_hmac_a_guessed_seed_cannot_be_checked_against(admin_user, study):
    made = generate_allocation_list(per_stratum=4, user=admin_user)
    entries = blocks.generate(seed=made.seed, strata=["ECOG0", "ECOG1"], per_stratum=4)
    plain = hashlib.sha256(blocks.to_csv(entries).encode()).hexdigest()
    assert made.fingerprint == blocks.fingerprint(entries, key=fingerprint_key())
    assert made.fingerprint != plain


def test_a_stratum_is_extended_after_the_first_allocation_and_used_entries_stay(
    allocation_list, randomized_cohort, coordinator, admin_user
):
    randomize(participant=randomized_cohort(ecog=1), user=coordinator)
    before = _entries("ECOG1")
    fingerprint_before = AllocationList.objects.get(active=True).fingerprint
    change = extend_stratum(code="ECOG1", entries=6, reason="Running low after the amendment", user=admin_user)
    after = _entries("ECOG1")
    assert after[: len(before)] == before
    added = after[len(before) :]
    assert [s for s, *_ in added] == list(range(len(before) + 1, len(after) + 1))
    assert sum(1 for *_, arm in added if arm == "A") == sum(1 for *_, arm in added if arm == "B")
    assert min(b for _, b, *_ in added) == before[-1][1] + 1
    assert (change.by, change.reason, change.entries_added, change.strata) == (
        admin_user,
        "Running low after the amendment",
        len(added),
        ["ECOG1"],
    )
    assert change.fingerprint == AllocationList.objects.get(active=True).fingerprint != fingerprint_before


def test_an_exhausted_stratum_randomizes_again_once_extended(randomization_open, admin_user, sh01, coordinator):
    generate_allocation_list(per_stratum=2, block_sizes=[2], user=admin_user)
    people = [make_participant(site=sh01, user=coordinator, ecog=1) for _ in range(3)]
    for participant in people[:2]:
        randomize(participant=participant, user=coordinator)
    with pytest.raises(RandomizationRefused):
        randomize(participant=people[2], user=coordinator)
    extend_stratum(code="ECOG1", entries=2, reason="Exhausted", user=admin_user)
    assert randomize(participant=people[2], user=coordinator).sequence == 3


def test_only_a_data_manager_extends_a_stratum(allocation_list, pi, login):
    before = AllocationEntry.objects.count()
    response = login(pi).post("/randomization/", {"action": "extend", "stratum": "ECOG1", "entries": 4, "reason": "x"})
    assert response.status_code == 403
    assert AllocationEntry.objects.count() == before


def test_a_site_added_later_gets_its_strata(admin_user, sh01, sh02, coordinator, study):
    update_study_settings(user=admin_user, data={"stratify_by_site": True}, reason="SAP v2")
    generate_allocation_list(per_stratum=4, user=admin_user)
    site = create_site(code="SH03", name="Third hospital", user=admin_user)
    codes = set(AllocationList.objects.get(active=True).strata.values_list("code", flat=True))
    assert {"SH03-ECOG0", "SH03-ECOG1"} <= codes
    assert AllocationListChange.objects.filter(action="strata_added", by=admin_user).count() == 1
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    staff = UserFactory(username="coord3", role="coordinator", sites=[site])
    participant = make_participant(site=site, user=staff, ecog=0)
    assert randomize(participant=participant, user=staff).stratum == "SH03-ECOG0"


def test_the_low_list_alert_says_low_never_how_many_are_left(randomization_open, admin_user, sh01, coordinator):
    generate_allocation_list(per_stratum=6, block_sizes=[2], user=admin_user)
    for _ in range(3):
        randomize(participant=make_participant(site=sh01, user=coordinator, ecog=1), user=coordinator)
    alert = Alert.objects.get(kind="allocation_list_low")
    assert "running low" in alert.body
    assert "3" not in alert.body.replace("SCR-ESCC-01", "") and "three" not in alert.body
    assert Allocation.objects.count() == 3


def test_list_changes_are_in_the_audit_export_with_who_did_them(allocation_list, admin_user):
    from reports.exports import start_export
    from scr_escc.csvexport import read_back

    extend_stratum(code="ECOG0", entries=2, reason="Low", user=admin_user)
    rows = read_back(b"".join(start_export(user=admin_user, dataset="audit", deidentified=False).content))
    changes = [(r["ACTION"], r["USERNAME"], r["REASON"]) for r in rows if r["RECTYPE"] == "allocation_list"]
    assert changes == [
        ("allocation_list_generated", admin_user.username, ""),
        ("allocation_list_stratum_extended", admin_user.username, "Low"),
    ]


def test_the_command_names_the_data_manager_in_the_audit_trail(admin_user, coordinator, study):
    with pytest.raises(CommandError):
        call_command("generate_allocation_list", "--by", coordinator.username, "--per-stratum", "4")
    call_command("generate_allocation_list", "--by", admin_user.username, "--per-stratum", "4")
    assert AllocationListChange.objects.get().by == admin_user
