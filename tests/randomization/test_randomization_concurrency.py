"""50 concurrent randomizations in 2 strata: entries used in sequence order, no reuse, no gap."""

import threading

import pytest
from django.db import connection

from randomization.lists import generate_allocation_list
from randomization.models import Allocation, AllocationEntry
from randomization.services import randomize
from scr_escc.models import Study
from tests.factories import make_participant, strong_seed


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_randomizations(sh01, coordinator, admin_user, study):
    generate_allocation_list(seed=strong_seed("concurrency"), per_stratum=40, user=admin_user)
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    participants = [make_participant(site=sh01, user=coordinator, ecog=i % 2) for i in range(50)]
    barrier = threading.Barrier(len(participants))
    errors = []

    def worker(participant):
        try:
            barrier.wait(timeout=30)
            randomize(participant=participant, user=coordinator)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in participants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert Allocation.objects.count() == 50
    for stratum in ("ECOG0", "ECOG1"):
        allocations = Allocation.objects.filter(stratum=stratum)
        assert sorted(allocations.values_list("sequence", flat=True)) == list(range(1, 26))
        assert allocations.values("entry").distinct().count() == 25
        for allocation in allocations.select_related("entry"):
            assert allocation.entry.sequence == allocation.sequence and allocation.entry.arm == allocation.arm
        # Per arm: the stratum got exactly the arms of its first 25 entries, and every block the
        # 25 allocations completed holds as many A as B.
        entries = list(
            AllocationEntry.objects.filter(
                stratum__allocation_list__active=True, stratum__code=stratum, sequence__lte=25
            )
        )
        arms = list(allocations.values_list("arm", flat=True))
        expected = [e.arm for e in entries]
        assert (arms.count("A"), arms.count("B")) == (expected.count("A"), expected.count("B"))
        used_by_block = {}
        for allocation in allocations.select_related("entry"):
            used_by_block.setdefault((allocation.entry.block, allocation.entry.block_size), []).append(allocation.arm)
        complete = {key: used for key, used in used_by_block.items() if len(used) == key[1]}
        assert complete, stratum
        for (block, size), used in complete.items():
            assert (used.count("A"), used.count("B")) == (size // 2, size // 2), (stratum, block)
