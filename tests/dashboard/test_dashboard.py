"""SPEC §7: the PI dashboard — right numbers, fixed query count, who may open it."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.models import Participant, Screening
from randomization.lists import generate_allocation_list
from randomization.services import randomize
from reports.consort import consort_svg
from reports.dashboard import dashboard_summary
from safety.models import AdverseEvent, CtcaeTerm
from scr_escc.models import Study
from scr_escc.selectors import stopping_rule_level
from tests.factories import eligible_screening_data, make_ae, make_participant, make_screening, strong_seed


@pytest.fixture
def known_trial(sh01, sh02, coordinator, coordinator_sh02, admin_user, study):
    """A small trial whose every figure is known.

    Screenings: 3 screen failures (EXC6; EXC6+INC3 ... ) and 6 enrolled: 4 run-in (3 SH01, 1 SH02),
    then randomization opens and 2 are randomized (1 A/B each by the list).
    """
    make_screening(site=sh01, user=coordinator, pgsga_score=12, exc6=True)
    make_screening(site=sh01, user=coordinator, pgsga_score=10, exc6=True, ecog=2, inc3=False)
    make_screening(site=sh02, user=coordinator_sh02, exc11=True, sex="female")
    run_in = [make_participant(site=sh01, user=coordinator) for _ in range(3)]
    run_in.append(make_participant(site=sh02, user=coordinator_sh02))
    make_ae(participant=run_in[0], user=coordinator, grade=5, related="possible", term="Pneumonitis")
    make_ae(
        participant=run_in[1],
        user=coordinator,
        grade=3,
        related="probable",
        term="Esophageal fistula",
        serious=True,
        seriousness_criteria=["hospitalization"],
    )
    make_ae(participant=run_in[1], user=coordinator, grade=1, term="Fatigue")
    make_ae(participant=run_in[2], user=coordinator, grade=3, related="definite", term="Esophageal fistula")
    make_ae(participant=run_in[3], user=coordinator_sh02, grade=2, term="Anemia")
    generate_allocation_list(seed=strong_seed("dash"), per_stratum=10, block_sizes=[2], user=admin_user)
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    randomized = [make_participant(site=sh01, user=coordinator, ecog=0) for _ in range(2)]
    for participant in randomized:
        randomize(participant=participant, user=coordinator)
    return run_in, randomized


def test_numbers_match_the_fixture(known_trial):
    run_in, randomized = known_trial
    s = dashboard_summary()
    assert (s.count, s.threshold, s.level) == (1, 2, "warning")
    assert [e.participant.subject_id for e in s.events] == [run_in[0].subject_id]
    assert s.run_in_enrolled == 4 and s.run_in_observed == 3  # one died
    assert s.funnel["screened"] == 9 and s.funnel["eligible"] == 6 and s.funnel["not_eligible"] == 3
    assert dict(s.funnel["failed_by_criterion"]) == {"EXC6": 2, "INC3": 1, "EXC11": 1}
    assert s.flow["run_in"] == {"on_study": 3, "deceased": 1, "total": 4}
    assert s.flow["randomized"]["total"] == 2
    assert s.arms["A"] + s.arms["B"] == 2 and s.arms["A"] == 1  # a block of 2 is one A and one B
    assert s.max_grades["run_in"] == {5: 1, 3: 2, 2: 1, "total": 4}
    assert s.max_grades["A"] == {0: 1, "total": 1} and s.max_grades["B"] == {0: 1, "total": 1}
    assert s.related_by_term == [("Esophageal fistula", 2, 2), ("Pneumonitis", 1, 1)]
    assert s.grade_counts == {1: 1, 2: 1, 3: 2, 4: 0, 5: 1}
    assert s.sae_total == 2 and s.death_total == 1
    assert {ae.term for ae in s.saes} == {"Pneumonitis", "Esophageal fistula"}


def test_site_filter_narrows_every_figure_but_the_study_wide_rule(known_trial, sh02):
    s = dashboard_summary(site=sh02)
    assert s.count == 1  # the stopping rule is study-wide
    assert s.funnel["screened"] == 2 and s.flow["run_in"]["total"] == 1
    assert s.grade_counts == {1: 0, 2: 1, 3: 0, 4: 0, 5: 0}
    assert s.arms == {"A": 0, "B": 0}


def test_consort_svg_shows_the_flow(known_trial, login, pi):
    svg = consort_svg(dashboard_summary())
    for text in (
        "9 patients screened",
        "Not eligible: 3",
        "EXC6: 2",
        "Enrolled, safety run-in: 4",
        "Enrolled, randomized phase: 2",
        "Arm A: 1",
        "Arm B: 1",
        "withdrawn 0 · deceased 1",
    ):
        assert text in svg, text
    response = login(pi).get("/dashboard/consort.svg")
    assert response["Content-Type"] == "image/svg+xml"
    assert "attachment" in response["Content-Disposition"]
    assert b"9 patients screened" in response.content


@pytest.mark.parametrize(("count", "level"), [(0, "ok"), (1, "warning"), (2, "danger"), (3, "danger")])
def test_stopping_rule_colour(count, level):
    assert stopping_rule_level(count, 2) == level


@pytest.mark.parametrize("role", ["coordinator", "investigator"])
def test_site_staff_get_403(role, request, login):
    assert login(request.getfixturevalue(role)).get("/dashboard/").status_code == 403


@pytest.mark.parametrize("role", ["pi", "monitor", "admin_user"])
def test_pi_monitor_admin_open_it(role, request, login, known_trial):
    response = login(request.getfixturevalue(role)).get("/dashboard/")
    assert response.status_code == 200
    assert 'data-testid="stopping-count"' in response.content.decode()


def test_monitor_sees_no_action_on_the_dashboard(login, monitor, known_trial):
    body = login(monitor).get("/dashboard/").content.decode()
    # Only "Sign out" and the language switcher post; nothing acts on the trial.
    assert body.count('method="post"') == 2
    assert 'action="/accounts/logout/"' in body and 'action="/accounts/language/"' in body
    assert login(monitor).post("/dashboard/").status_code == 405


def test_every_number_links_to_its_list(login, pi, known_trial):
    client = login(pi)
    body = client.get("/dashboard/").content.decode()
    for href in (
        "/participants/?cohort=run_in",
        "/adverse-events/?serious=true",
        "/participants/?arm=A",
        "/screenings/?eligible=false",
        "/adverse-events/?grade=5&amp;treatment_related=true",
    ):
        assert href in body, href
    saes = client.get("/adverse-events/?serious=true&voided=false")
    assert saes.status_code == 200 and "Esophageal fistula" in saes.content.decode()


def _bulk_trial(site, user, participants: int, aes_per_participant: int, start: int = 1000) -> None:
    """Bulk rows for the query-count test (the rules are tested elsewhere; here only volume)."""
    today = timezone.localdate()
    data = eligible_screening_data()
    screenings = Screening.objects.bulk_create(
        Screening(
            site=site,
            sequence=start + i,
            screening_number=f"{site.code}-S{start + i:05d}",
            created_by=user,
            eligible=True,
            **data,
        )
        for i in range(participants)
    )
    people = Participant.objects.bulk_create(
        Participant(
            subject_id=f"{site.code}-{start + i}",
            site=site,
            sequence=start + i,
            screening=s,
            enrollment_date=today - timedelta(days=i % 300),
            cohort="run_in" if i < 25 else "randomized",
            enrolled_by=user,
        )
        for i, s in enumerate(screenings)
    )
    # Bulk rows bypass enroll_participant(), which keeps the study's run-in count.
    Study.objects.filter(pk=1).update(run_in_enrolled=F("run_in_enrolled") + min(participants, 25))
    terms = list(CtcaeTerm.objects.filter(grade_4__gt="-")[:40])
    AdverseEvent.objects.bulk_create(
        AdverseEvent(
            participant=p,
            ctcae_term=terms[(i + k) % len(terms)],
            term=terms[(i + k) % len(terms)].term,
            soc=terms[(i + k) % len(terms)].soc,
            grade=1 + (i + k) % 4,
            onset_date=today,
            ongoing=True,
            serious=k == 0,
            seriousness_criteria=["hospitalization"] if k == 0 else [],
            attribution_pd1="possible" if k % 3 == 0 else "unrelated",
            attribution_chemo="unrelated",
            attribution_ldrt="unrelated",
            attribution_cfrt="unrelated",
            outcome="recovering",
            treatment_related=k % 3 == 0,
            created_by=user,
        )
        for i, p in enumerate(people)
        for k in range(aes_per_participant)
    )


def _dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/dashboard/").status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_data(login, pi, sh01, coordinator, study):
    client = login(pi)
    _bulk_trial(sh01, coordinator, participants=10, aes_per_participant=2)
    small = _dashboard_queries(client)
    _bulk_trial(sh01, coordinator, participants=1990, aes_per_participant=11, start=5000)
    assert Participant.objects.count() == 2000 and AdverseEvent.objects.count() >= 20_000
    large = _dashboard_queries(client)
    assert large == small, f"{small} queries with 10 participants, {large} with 2,000"
    # 28 before the sign-off list, the undelivered-alert banner and the second-factor check; 34 with
    # the data-query counts (two queries, whatever the number of queries)
    assert small <= 34
