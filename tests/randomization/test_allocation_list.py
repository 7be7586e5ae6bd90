"""SPEC §6: the list is reproducible, balanced in every block, fingerprinted, validated on import."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from randomization import blocks
from randomization.lists import AllocationListLocked, fingerprint_key, generate_allocation_list, import_allocation_list
from randomization.models import AllocationEntry, AllocationList
from randomization.services import randomize
from tests.factories import strong_seed

block_size_sets = st.lists(st.sampled_from([2, 4, 6, 8]), min_size=1, max_size=3, unique=True)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10**9),
    per_stratum=st.integers(min_value=1, max_value=120),
    sizes=block_size_sets,
    n_strata=st.integers(min_value=1, max_value=6),
)
def test_every_block_is_balanced_and_sized_from_the_set(seed, per_stratum, sizes, n_strata):
    strata = [f"S{i}-ECOG{i % 2}" for i in range(n_strata)]
    entries = blocks.generate(seed=seed, strata=strata, per_stratum=per_stratum, block_sizes=sizes)
    again = blocks.generate(seed=seed, strata=strata, per_stratum=per_stratum, block_sizes=sizes)
    assert entries == again
    assert blocks.fingerprint(entries, key=b"k") == blocks.fingerprint(again, key=b"k")
    for stratum in strata:
        mine = [e for e in entries if e.stratum == stratum]
        assert [e.sequence for e in mine] == list(range(1, len(mine) + 1))
        assert per_stratum <= len(mine) < per_stratum + max(sizes)
        for number in {e.block for e in mine}:
            block = [e for e in mine if e.block == number]
            assert len(block) in sizes and block[0].block_size == len(block)
            arms = [e.arm for e in block]
            assert (arms.count("A"), arms.count("B")) == (len(block) // 2, len(block) // 2)
        arms = [e.arm for e in mine]
        assert (arms.count("A"), arms.count("B")) == (len(mine) // 2, len(mine) // 2)
        assert blocks.max_prefix_imbalance([e.arm for e in mine]) <= max(sizes) // 2


def test_different_seeds_give_different_lists():
    a = blocks.generate(seed=1, strata=["ECOG0"], per_stratum=50)
    b = blocks.generate(seed=2, strata=["ECOG0"], per_stratum=50)
    assert blocks.fingerprint(a, key=b"k") != blocks.fingerprint(b, key=b"k")


def test_odd_block_size_is_refused():
    with pytest.raises(ValueError):
        blocks.generate(seed=1, strata=["ECOG0"], per_stratum=10, block_sizes=[3])


def test_simulation_of_10000_participants_never_exceeds_half_the_largest_block():
    """Allocate 10,000 participants over strata as they arrive; check every prefix of every stratum."""
    import random

    strata = blocks.strata_for(["SH01", "SH02", "SH03"])
    entries = blocks.generate(seed="sim", strata=strata, per_stratum=5000, block_sizes=(2, 4))
    queues = {s: [e.arm for e in entries if e.stratum == s] for s in strata}
    arrivals = random.Random(7)
    allocated = {s: [] for s in strata}
    for _ in range(10_000):
        stratum = arrivals.choice(strata)
        allocated[stratum].append(queues[stratum][len(allocated[stratum])])
    assert sum(map(len, allocated.values())) == 10_000
    for arms in allocated.values():
        assert blocks.max_prefix_imbalance(arms) <= 2


def test_generate_command_is_reproducible(db, capsys, admin_user):
    seed = strong_seed("command")
    call_command(
        "generate_allocation_list",
        "--by",
        admin_user.username,
        "--seed",
        seed,
        "--per-stratum",
        "30",
        "--block-sizes",
        "2,4",
    )
    first = AllocationList.objects.get(active=True)
    arms = list(
        AllocationEntry.objects.filter(stratum__allocation_list=first).values_list("stratum__code", "sequence", "arm")
    )
    call_command(
        "generate_allocation_list",
        "--by",
        admin_user.username,
        "--seed",
        seed,
        "--per-stratum",
        "30",
        "--block-sizes",
        "2,4",
    )
    second = AllocationList.objects.get(active=True)
    assert second.pk != first.pk and second.fingerprint == first.fingerprint
    assert arms == list(
        AllocationEntry.objects.filter(stratum__allocation_list=second).values_list("stratum__code", "sequence", "arm")
    )
    assert first.fingerprint in capsys.readouterr().out
    assert sorted(second.strata.values_list("code", flat=True)) == ["ECOG0", "ECOG1"]
    assert set(second.block_sizes) == {2, 4}
    for code in ("ECOG0", "ECOG1"):
        stratum_arms = [arm for stratum, _, arm in arms if stratum == code]
        assert len(stratum_arms) >= 30
        assert stratum_arms.count("A") == stratum_arms.count("B") == len(stratum_arms) // 2, code


def test_stratification_by_site_adds_site_strata(db, admin_user, sh01, sh02, study):
    from scr_escc.services import update_study_settings

    update_study_settings(user=admin_user, data={"stratify_by_site": True}, reason="SAP v2")
    made = generate_allocation_list(seed=strong_seed("s"), per_stratum=4, user=admin_user)
    assert sorted(made.strata.values_list("code", flat=True)) == [
        "SH01-ECOG0",
        "SH01-ECOG1",
        "SH02-ECOG0",
        "SH02-ECOG1",
    ]
    with pytest.raises(ValidationError):
        update_study_settings(user=admin_user, data={"stratify_by_site": False}, reason="back")
    study.refresh_from_db()
    assert study.stratify_by_site is True


GOOD = (
    "stratum,sequence,block,block_size,arm\n"
    "ECOG0,1,1,2,A\nECOG0,2,1,2,B\n"
    "ECOG1,1,1,4,B\nECOG1,2,1,4,A\nECOG1,3,1,4,A\nECOG1,4,1,4,B\n"
)


def test_import_good_file(db, admin_user):
    made = import_allocation_list(text=GOOD, file_name="list.csv", user=admin_user)
    entries = blocks.parse_csv(GOOD, known_strata=["ECOG0", "ECOG1"])[0]
    assert made.fingerprint == blocks.fingerprint(entries, key=fingerprint_key())
    assert AllocationEntry.objects.filter(stratum__allocation_list=made).count() == 6
    per_stratum_arm = {
        (code, arm): AllocationEntry.objects.filter(stratum__allocation_list=made, stratum__code=code, arm=arm).count()
        for code in ("ECOG0", "ECOG1")
        for arm in ("A", "B")
    }
    assert per_stratum_arm == {("ECOG0", "A"): 1, ("ECOG0", "B"): 1, ("ECOG1", "A"): 2, ("ECOG1", "B"): 2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("ECOG0,2,1,2,B", "ECOG0,2,1,2,A"), "Line 2: stratum ECOG0 block 1 is not balanced"),
        (GOOD.replace("ECOG1,1,1,4,B", "ECOG1,1,1,4,C"), "Line 4: arm “C” is not A or B"),
        (GOOD.replace("ECOG0,2,1,2,B", "ECOG0,3,1,2,B"), "sequence 3, expected 2"),
        (GOOD.replace("ECOG1,4,1,4,B", "ECOG2,4,1,4,B"), "Line 7: unknown stratum “ECOG2”"),
        ("stratum,sequence,arm\nECOG0,1,A\n", "Line 1: missing column(s) block"),
    ],
)
def test_bad_file_is_refused_whole_with_line_numbers(db, admin_user, text, message):
    with pytest.raises(ValidationError) as error:
        import_allocation_list(text=text, user=admin_user)
    assert any(message in m for m in error.value.message_dict["file"]), error.value.message_dict
    assert not AllocationList.objects.exists() and not AllocationEntry.objects.exists()


def test_import_command_reports_errors(db, tmp_path, admin_user):
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD.replace("ECOG0,2,1,2,B", "ECOG0,2,1,2,A"))
    with pytest.raises(CommandError, match="not balanced"):
        call_command("import_allocation_list", "--by", admin_user.username, str(bad))
    assert not AllocationList.objects.exists() and not AllocationEntry.objects.exists()


def test_list_is_locked_after_the_first_allocation(allocation_list, randomized_cohort, coordinator, admin_user):
    randomize(participant=randomized_cohort(ecog=0), user=coordinator)
    entries = list(AllocationEntry.objects.order_by("pk").values_list("pk", "stratum__code", "sequence", "arm"))
    with pytest.raises(AllocationListLocked):
        generate_allocation_list(seed=strong_seed("other"), per_stratum=10, user=admin_user)
    with pytest.raises(AllocationListLocked):
        import_allocation_list(text=GOOD, user=admin_user)
    assert AllocationList.objects.get(active=True).pk == allocation_list.pk
    assert AllocationList.objects.count() == 1
    assert list(AllocationEntry.objects.order_by("pk").values_list("pk", "stratum__code", "sequence", "arm")) == entries
