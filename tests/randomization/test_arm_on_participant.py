"""The arm lives on the participant (set once, inside the randomization transaction), so the
apps below randomization read it without importing it; its history records the randomization."""

from enrollment.models import Participant
from randomization.models import Allocation
from randomization.services import randomize


def test_randomize_stores_the_arm_and_time_on_the_participant(allocation_list, randomized_cohort, coordinator):
    participant = randomized_cohort(ecog=1)
    allocation = randomize(participant=participant, user=coordinator)
    stored = Participant.objects.get(pk=participant.pk)
    assert (stored.arm, stored.randomized_at) == (allocation.arm, allocation.randomized_at)
    latest = stored.history.latest("history_date")
    assert (latest.history_user, latest.history_change_reason) == (coordinator, f"Randomized to arm {allocation.arm}")


def test_participant_api_shows_the_stored_arm(allocation_list, randomized_cohort, coordinator, api):
    participant = randomized_cohort(ecog=0)
    before = api(coordinator).get(f"/api/v1/participants/{participant.subject_id}/").json()["arm"]
    allocation = randomize(participant=participant, user=coordinator)
    after = api(coordinator).get(f"/api/v1/participants/{participant.subject_id}/").json()["arm"]
    assert (before, after) == (None, allocation.arm)


def test_arm_filter_of_the_participant_list_reads_the_stored_arm(
    allocation_list, randomized_cohort, coordinator, login
):
    first, second = randomized_cohort(ecog=1), randomized_cohort(ecog=1)
    arms = {p.subject_id: randomize(participant=p, user=coordinator).arm for p in (first, second)}
    for arm in ("A", "B"):
        page = login(coordinator).get(f"/participants/?arm={arm}").content.decode()
        shown = {subject for subject in arms if f">{subject}<" in page}
        assert shown == {s for s, a in arms.items() if a == arm}
    assert Allocation.objects.count() == 2
