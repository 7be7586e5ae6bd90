"""SPEC §6: who may be randomized, once, while randomization is open; clear refusals (409)."""

import pytest

from randomization.models import Allocation
from randomization.services import AlreadyRandomized, RandomizationRefused, randomize
from scr_escc.exceptions import StudyHalted
from scr_escc.models import Alert, Study
from tests.factories import make_participant, strong_seed


def test_randomize_takes_the_first_entry_of_the_stratum(allocation_list, randomized_cohort, coordinator):
    participant = randomized_cohort(ecog=0)
    allocation = randomize(participant=participant, user=coordinator)
    first = allocation_list.strata.get(code="ECOG0").entries.get(sequence=1)
    assert (allocation.stratum, allocation.sequence, allocation.arm) == ("ECOG0", 1, first.arm)
    assert allocation.randomized_by == coordinator


def test_api_randomize_answers_arm_time_and_stratum(allocation_list, randomized_cohort, coordinator, api):
    participant = randomized_cohort(ecog=1)
    response = api(coordinator).post(f"/api/v1/participants/{participant.subject_id}/randomize/")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"arm", "randomized_at", "stratum"}
    first = allocation_list.strata.get(code="ECOG1").entries.get(sequence=1)
    assert (body["arm"], body["stratum"]) == (first.arm, "ECOG1")
    detail = api(coordinator).get(f"/api/v1/participants/{participant.subject_id}/").json()
    assert detail["arm"] == body["arm"]


def test_second_randomize_is_409_and_no_second_record(allocation_list, randomized_cohort, coordinator, api):
    participant = randomized_cohort()
    client = api(coordinator)
    assert client.post(f"/api/v1/participants/{participant.subject_id}/randomize/").status_code == 201
    again = client.post(f"/api/v1/participants/{participant.subject_id}/randomize/")
    assert again.status_code == 409 and "already randomized" in again.json()["detail"]
    assert Allocation.objects.filter(participant=participant).count() == 1
    with pytest.raises(AlreadyRandomized):
        randomize(participant=participant, user=coordinator)
    assert Allocation.objects.count() == 1


@pytest.mark.parametrize("phase", ["run_in", "halted", "terminated"])
def test_randomize_outside_the_randomization_phase_is_409(phase, allocation_list, randomized_cohort, coordinator, api):
    participant = randomized_cohort()
    Study.objects.filter(pk=1).update(phase=phase)
    response = api(coordinator).post(f"/api/v1/participants/{participant.subject_id}/randomize/")
    assert response.status_code == 409
    assert not Allocation.objects.exists()


def test_run_in_participant_cannot_be_randomized(allocation_list, sh01, coordinator, api, study):
    participant = make_participant(site=sh01, user=coordinator)
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    response = api(coordinator).post(f"/api/v1/participants/{participant.subject_id}/randomize/")
    assert response.status_code == 409 and "run-in" in response.json()["detail"]
    assert not Allocation.objects.exists()


def test_withdrawn_participant_cannot_be_randomized(allocation_list, randomized_cohort, coordinator):
    from django.utils import timezone

    from enrollment.services import withdraw_participant

    participant = randomized_cohort()
    withdraw_participant(
        participant=participant, withdrawal_date=timezone.localdate(), reason="consent withdrawn", user=coordinator
    )
    with pytest.raises(RandomizationRefused):
        randomize(participant=participant, user=coordinator)
    assert not Allocation.objects.exists()


def test_halted_refuses_with_study_halted(allocation_list, randomized_cohort, coordinator):
    participant = randomized_cohort()
    Study.objects.filter(pk=1).update(phase=Study.Phase.HALTED)
    with pytest.raises(StudyHalted):
        randomize(participant=participant, user=coordinator)
    assert not Allocation.objects.exists()


def test_exhausted_stratum_refuses_and_low_list_alerts_once(randomization_open, admin_user, sh01, coordinator):
    from randomization.lists import generate_allocation_list

    generate_allocation_list(seed=strong_seed("small"), per_stratum=6, block_sizes=[2], user=admin_user)
    participants = [make_participant(site=sh01, user=coordinator, ecog=0) for _ in range(7)]
    for participant in participants[:6]:
        randomize(participant=participant, user=coordinator)
    assert Alert.objects.filter(kind="allocation_list_low").count() == 1
    # Blocks of 2: after three complete blocks the stratum is exactly 3 A and 3 B, each block one of each.
    used = list(Allocation.objects.filter(stratum="ECOG0").order_by("sequence").values_list("arm", flat=True))
    assert (used.count("A"), used.count("B")) == (3, 3)
    assert [sorted(used[i : i + 2]) for i in (0, 2, 4)] == [["A", "B"]] * 3
    with pytest.raises(RandomizationRefused, match="exhausted"):
        randomize(participant=participants[6], user=coordinator)
    assert Allocation.objects.count() == 6 and not Allocation.objects.filter(participant=participants[6]).exists()


def test_monitor_and_pi_cannot_randomize(allocation_list, randomized_cohort, monitor, pi, api, login):
    participant = randomized_cohort()
    for user in (monitor, pi):
        assert api(user).post(f"/api/v1/participants/{participant.subject_id}/randomize/").status_code == 403
        assert login(user).post(f"/participants/{participant.subject_id}/randomize/").status_code == 403
    assert not Allocation.objects.exists()


def test_other_site_gets_404(allocation_list, randomized_cohort, coordinator_sh02, api, login):
    participant = randomized_cohort()
    assert api(coordinator_sh02).post(f"/api/v1/participants/{participant.subject_id}/randomize/").status_code == 404
    assert login(coordinator_sh02).get(f"/participants/{participant.subject_id}/randomize/").status_code == 404
    assert login(coordinator_sh02).post(f"/participants/{participant.subject_id}/randomize/").status_code == 404
    assert not Allocation.objects.exists()


def test_page_asks_for_confirmation_then_shows_the_arm(allocation_list, randomized_cohort, coordinator, login):
    participant = randomized_cohort()
    client = login(coordinator)
    confirm = client.get(f"/participants/{participant.subject_id}/randomize/")
    assert b"cannot be undone" in confirm.content and not Allocation.objects.exists()
    response = client.post(f"/participants/{participant.subject_id}/randomize/", follow=True)
    allocation = Allocation.objects.get(participant=participant)
    assert f"Arm {allocation.arm} (" in response.content.decode()


def test_allocation_is_immutable(allocation_list, randomized_cohort, coordinator):
    from django.core.exceptions import ValidationError

    allocation = randomize(participant=randomized_cohort(), user=coordinator)
    arm = allocation.arm
    allocation.arm = "B" if arm == "A" else "A"
    with pytest.raises(ValidationError):
        allocation.save()
    with pytest.raises(ValidationError):
        allocation.delete()
    assert list(Allocation.objects.values_list("pk", "arm")) == [(allocation.pk, arm)]


def test_balance_report_counts(allocation_list, randomized_cohort, coordinator, pi, login):
    from randomization.selectors import balance_report

    for ecog in (0, 0, 1):
        randomize(participant=randomized_cohort(ecog=ecog), user=coordinator)
    # The seeded list says which arm each of them got: ECOG0 entries 1–2 and ECOG1 entry 1.
    arms = {
        code: [e.arm for e in allocation_list.strata.get(code=code).entries.order_by("sequence")[:n]]
        for code, n in (("ECOG0", 2), ("ECOG1", 1))
    }
    by_stratum = {code: {"A": taken.count("A"), "B": taken.count("B")} for code, taken in arms.items()}
    overall = {arm: by_stratum["ECOG0"][arm] + by_stratum["ECOG1"][arm] for arm in ("A", "B")}
    report = balance_report()
    assert report.total == overall
    assert dict(report.by_stratum) == by_stratum
    assert dict(report.by_site) == {"SH01": overall}
    page = login(pi).get("/randomization/")
    assert page.status_code == 200
    body = page.content.decode()
    for code, counts in by_stratum.items():
        assert f"<td>{code}</td><td>{counts['A']}</td><td>{counts['B']}</td>" in body
    assert f"<td>SH01</td><td>{overall['A']}</td><td>{overall['B']}</td>" in body
