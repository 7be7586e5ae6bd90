"""CSV exports (SPEC §8, issue 7): who may export, what comes out, and that every export is audited."""

import csv
import io
from datetime import UTC, timedelta

import pytest
from django.db.models import CharField, IntegerField, Value
from django.utils import timezone

from deviations.services import record_deviation
from efficacy.assessments import record_baseline, record_follow_up
from efficacy.models import Agent
from efficacy.treatment import record_cycle
from enrollment.models import Participant, Screening
from enrollment.services import update_screening, withdraw_participant
from monitoring.queries import raise_query
from monitoring.sdv import verify
from randomization.lists import generate_allocation_list
from randomization.models import Allocation, AllocationEntry
from randomization.services import randomize
from reports.exports import DATASETS, ORDER, start_export
from reports.models import ExportRecord
from safety.models import AdverseEvent
from safety.services import void_adverse_event
from scr_escc import csvexport
from scr_escc.models import Alert, PhaseTransition, Study, User
from tests.factories import make_ae, make_participant, make_screening, strong_seed

HYPERLINK = '=HYPERLINK("http://x","y")'
CHINESE = "放射性食管炎伴吞咽困难"


def read(response) -> tuple[bytes, list[dict[str, str]]]:
    body = b"".join(response.streaming_content)
    return body, csvexport.read_back(body)


@pytest.fixture
def trial(sh01, sh02, coordinator, coordinator_sh02, admin_user, monitor, study):
    """Two sites; an ineligible screening; run-in participants with AEs (one voided, one free-text
    formula, one Chinese); then randomization with two allocations; a withdrawal."""
    today = timezone.localdate()
    failed = make_screening(site=sh01, user=coordinator, inc3=False, ecog=2, exc9=True)
    run_in = [
        make_participant(site=sh01, user=coordinator, initials="ZWL"),
        make_participant(site=sh02, user=coordinator_sh02, initials="LIH"),
    ]
    make_ae(
        participant=run_in[0],
        user=coordinator,
        term="Pneumonitis",
        grade=3,
        related="probable",
        serious=True,
        seriousness_criteria=["hospitalization"],
    )
    formula = make_ae(
        participant=run_in[0],
        user=coordinator,
        term="Cardiac disorders - Other, specify",
        other_specify=HYPERLINK,
        grade=2,
    )
    chinese = make_ae(
        participant=run_in[1],
        user=coordinator_sh02,
        term="Gastrointestinal disorders - Other, specify",
        other_specify=CHINESE,
        grade=1,
    )
    void_adverse_event(ae=chinese, user=coordinator_sh02, reason="Entered for the wrong patient")
    update_screening(
        screening=run_in[0].screening, data={"notes": "checked"}, user=coordinator, reason="Source verified"
    )
    withdraw_participant(
        participant=run_in[1], user=coordinator_sh02, withdrawal_date=today, reason="-patient moved away"
    )
    record_deviation(
        data={"deviation_date": today, "category": "visit_schedule", "description": "=CT on day 50"},
        user=coordinator,
        participant=run_in[0],
    )
    Study.objects.filter(pk=1).update(phase=Study.Phase.RANDOMIZATION)
    generate_allocation_list(seed=strong_seed("export-seed"), per_stratum=8, user=admin_user)
    randomized = [make_participant(site=sh01, user=coordinator, ecog=e) for e in (0, 1)]
    allocations = [randomize(participant=p, user=coordinator) for p in randomized]
    _efficacy_data(randomized[0], coordinator, today)
    raise_query(user=admin_user, record=run_in[0], field="enrollment_date", text="=Date as in the clinic note?")
    verify(user=monitor, record=run_in[0].screening)
    return {
        "failed": failed,
        "run_in": run_in,
        "formula": formula,
        "chinese": chinese,
        "randomized": randomized,
        "allocations": allocations,
    }


def _efficacy_data(participant, user, today):
    """A cycle, a baseline and a follow-up scored PD (a new lesion): rows in EX, TR, RS and DS."""
    dose = {"administered_on": today, "change": "as_planned", "unit": "mg"}
    record_cycle(participant=participant, cycle=1, doses={a: {**dose, "dose": 200} for a in Agent}, user=user)
    record_baseline(
        participant=participant,
        data={"assessment_date": today - timedelta(days=3), "method": "ct"},
        targets=[{"organ": "liver", "location": "=segment VII", "lymph_node": False, "diameter_mm": 40}],
        non_targets=[{"organ": "bone", "location": "T8", "lymph_node": False}],
        user=user,
    )
    record_follow_up(
        participant=participant,
        data={
            "assessment_date": today,
            "method": "ct",
            "new_lesion": "yes",
            "new_lesion_description": "brain",
            "investigator_response": "PD",
        },
        targets={"T1": 38},
        non_targets={"NT1": "present"},
        user=user,
    )


@pytest.mark.parametrize("role", ["coordinator", "investigator", "pi", "monitor"])
def test_only_admins_export_pages_and_api(request, role, login, api, trial):
    user = request.getfixturevalue(role)
    client = login(user)
    assert client.get("/exports/").status_code == 403
    for dataset in ORDER:
        assert client.get(f"/exports/{dataset}.csv").status_code == 403
        response = api(user).get(f"/api/v1/exports/{dataset}.csv")
        assert response.status_code == 403 and response["Content-Type"].startswith("application/json")
    assert not ExportRecord.objects.exists()


def test_anonymous_is_sent_to_login_or_gets_401(client, trial):
    assert client.get("/exports/adverse_events.csv")["Location"].startswith("/accounts/login/")
    assert client.get("/api/v1/exports/adverse_events.csv").status_code == 401


def test_unknown_dataset_is_404(login, api, admin_user, trial):
    assert login(admin_user).get("/exports/passwords.csv").status_code == 404
    response = api(admin_user).get("/api/v1/exports/passwords.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}


def test_formula_is_neutralised_and_chinese_is_intact_with_a_bom(api, admin_user, trial):
    response = api(admin_user).get("/api/v1/exports/adverse_events.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body, rows = read(response)
    assert body.startswith(b"\xef\xbb\xbf")  # a spreadsheet opens the file as UTF-8
    terms = {row["AEID"]: row["AETERM"] for row in rows}
    assert terms[str(trial["formula"].pk)] == "'" + HYPERLINK
    assert terms[str(trial["chinese"].pk)] == CHINESE
    # Read back the way Python's csv module reads a file saved by the browser.
    with io.StringIO(body.decode("utf-8-sig"), newline="") as handle:
        assert CHINESE in [r["AETERM"] for r in csv.DictReader(handle)]


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_prefix_is_neutralised_in_sql_and_python(text, db):
    assert csvexport.neutralize(text) == "'" + text
    cell = (
        Study.objects.annotate(t=Value(text, output_field=CharField()))
        .annotate(safe=csvexport.safe_text("t"))
        .values_list("safe", flat=True)
        .get()
    )
    assert cell == "'" + text


def test_negative_numbers_stay_numbers_and_plain_text_is_untouched(db):
    dataset = csvexport.Dataset(
        name="n",
        title="n",
        description="",
        queryset=lambda: Study.objects.annotate(
            n=Value(-3, output_field=IntegerField()),
            t=Value("-3", output_field=CharField()),
            plain=Value("3 mg", output_field=CharField()),
        ),
        columns=(
            csvexport.Column("N", "", csvexport.INTEGER, "n"),
            csvexport.Column("T", "", csvexport.TEXT, csvexport.safe_text("t")),
            csvexport.Column("P", "", csvexport.TEXT, csvexport.safe_text("plain")),
        ),
    )
    columns = list(dataset.columns)
    content = b"".join(csvexport.stream_copy([c.name for c in columns], dataset.copy_query(columns)))
    assert csvexport.read_back(content) == [{"N": "-3", "T": "'-3", "P": "3 mg"}]


def _dictionary(client) -> str:
    return client.get("/exports/dictionary/").content.decode()


@pytest.mark.parametrize("dataset", ORDER)
def test_columns_match_the_data_dictionary(dataset, login, admin_user, trial):
    client = login(admin_user)
    _body, rows = read(client.get(f"/exports/{dataset}.csv"))
    assert rows, dataset
    documented = [c.name for c in DATASETS[dataset].columns]
    assert list(rows[0]) == documented
    page = _dictionary(client)
    for name in documented:
        assert f'<code translate="no">{name}</code>' in page, name


def test_screening_values_match_the_database(login, admin_user, trial):
    _body, rows = read(login(admin_user).get("/exports/screening.csv"))
    assert len(rows) == Screening.objects.count()
    by_number = {row["SCRNUM"]: row for row in rows}
    failed = by_number[trial["failed"].screening_number]
    assert failed["ELIGFL"] == "N" and failed["FAILCRIT"] == "INC3;EXC9"
    assert failed["INC3"] == "N" and failed["EXC9"] == "Y" and failed["ECOG"] == "2"
    enrolled = by_number[trial["run_in"][0].screening.screening_number]
    screening = trial["run_in"][0].screening
    assert enrolled["ELIGFL"] == "Y" and enrolled["FAILCRIT"] == "" and enrolled["SUBJID"] == "SH01-001"
    assert enrolled["BRTHDTC"] == screening.date_of_birth.isoformat()
    assert enrolled["RFICDTC"] == screening.consent_date.isoformat()
    assert enrolled["AGE"] == "60" and enrolled["INITIALS"] == "ZWL" and enrolled["STUDYID"] == "SCR-ESCC-01"
    assert enrolled["CRTDTC"] == screening.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_participants_values_match_the_database(login, admin_user, trial):
    _body, rows = read(login(admin_user).get("/exports/participants.csv"))
    assert [r["SUBJID"] for r in rows] == list(
        Participant.objects.order_by("site__code", "sequence").values_list("subject_id", flat=True)
    )
    by_id = {row["SUBJID"]: row for row in rows}
    withdrawn = by_id[trial["run_in"][1].subject_id]
    assert withdrawn["STATUS"] == "withdrawn" and withdrawn["WDREAS"] == "'-patient moved away"
    assert withdrawn["USUBJID"] == f"SCR-ESCC-01-{withdrawn['SUBJID']}" and withdrawn["ARMCD"] == ""
    for participant, allocation in zip(trial["randomized"], trial["allocations"], strict=True):
        row = by_id[participant.subject_id]
        assert row["COHORT"] == "randomized" and row["ARMCD"] == allocation.arm
        assert row["ARM"].startswith(f"Arm {allocation.arm} (")
        assert row["ENRLDTC"] == participant.enrollment_date.isoformat()


def test_adverse_events_values_match_the_database(login, admin_user, trial):
    _body, rows = read(login(admin_user).get("/exports/adverse_events.csv"))
    assert len(rows) == AdverseEvent.objects.count() == 3  # voided ones included, flagged
    for row in rows:
        ae = AdverseEvent.objects.select_related("participant", "ctcae_term").get(pk=row["AEID"])
        assert row["USUBJID"].endswith(ae.participant.subject_id)
        assert row["AETOXGR"] == str(ae.grade) and row["AEBODSYS"] == ae.soc
        assert row["AESER"] == ("Y" if ae.serious else "N")
        assert row["AEREL"] == ("RELATED" if ae.treatment_related else "NOT RELATED")
        assert row["AERELCHM"] == ae.attribution_chemo and row["AERELPD1"] == ae.attribution_pd1
        assert row["AESTDTC"] == ae.onset_date.isoformat() and row["AEOUT"] == ae.outcome
        assert row["VOIDFL"] == ("Y" if ae.voided else "N")
        if ae.ctcae_term.is_other_specify:
            assert row["AEDECOD"] == "" and row["AELLTCD"] == ""
        else:
            assert row["AEDECOD"] == ae.ctcae_term.term and row["AELLTCD"] == ae.ctcae_term.meddra_code
    pneumonitis = next(r for r in rows if r["AETERM"] == "Pneumonitis")
    assert pneumonitis["AESHOSP"] == "Y" and pneumonitis["AESDTH"] == "N" and pneumonitis["AEREL"] == "RELATED"
    voided = next(r for r in rows if r["AEID"] == str(trial["chinese"].pk))
    assert voided["VOIDRSN"] == "Entered for the wrong patient"


def test_allocations_never_contain_unused_entries(login, admin_user, trial):
    _body, rows = read(login(admin_user).get("/exports/allocations.csv"))
    assert len(rows) == Allocation.objects.count() == 2 < AllocationEntry.objects.count()
    for row, allocation in zip(rows, trial["allocations"], strict=True):
        assert row["ARMCD"] == allocation.arm and row["RANDSEQ"] == str(allocation.sequence)
        assert row["STRATUM"] == allocation.stratum and row["RANDBY"] == "coord1"


def test_alerts_export_lists_the_outbox(login, admin_user, trial):
    Alert.objects.create(kind="sae_reported", key="test-1", subject="@mention", body="b", recipients=["pi@x.org"])
    _body, rows = read(login(admin_user).get("/exports/alerts.csv"))
    assert len(rows) == Alert.objects.count()
    row = next(r for r in rows if r["KEY"] == "test-1")
    assert row["STATUS"] == "pending" and row["SUBJECT"] == "'@mention" and row["SENTDTC"] == ""


def test_audit_export_has_changes_reasons_voids_phase_changes_and_exports(login, admin_user, pi, trial):
    PhaseTransition.objects.create(from_phase="run_in", to_phase="randomization", by=pi, reason="Run-in safe")
    client = login(admin_user)
    read(client.get("/exports/screening.csv"))
    _body, rows = read(client.get("/exports/audit.csv"))
    changed = [r for r in rows if r["RECTYPE"] == "screening" and r["ACTION"] == "changed"]
    assert any(r["REASON"] == "Source verified" and "notes:  → checked" in r["CHANGES"] for r in changed)
    voids = [r for r in rows if r["ACTION"] == "voided"]
    assert [v["RECID"] for v in voids] == [str(trial["chinese"].pk)]
    assert any(r["ACTION"] == "exported" and r["RECLABEL"] == "screening" and "rows" in r["REASON"] for r in rows)
    assert any(
        r["ACTION"] == "phase_changed" and r["USERNAME"] == "pi" and "phase: run_in → randomization" in r["CHANGES"]
        for r in rows
    )


def test_a_formula_like_username_is_neutralised_too(login, admin_user, trial):
    User.objects.filter(pk=trial["allocations"][0].randomized_by_id).update(username="=cmd|calc")
    client = login(admin_user)
    _body, rows = read(client.get("/exports/allocations.csv"))
    assert rows[0]["RANDBY"] == "'=cmd|calc"
    _body, rows = read(client.get("/exports/audit.csv"))
    assert "=cmd|calc" not in {r["USERNAME"] for r in rows} and "'=cmd|calc" in {r["USERNAME"] for r in rows}


def test_deidentified_export_drops_initials_and_birth_date(login, admin_user, trial):
    client = login(admin_user)
    for dataset in ("screening", "participants"):
        _body, rows = read(client.get(f"/exports/{dataset}.csv?deidentified=1"))
        assert "INITIALS" not in rows[0] and "BRTHDTC" not in rows[0] and rows[0]["AGE"].isdigit()
    screening = trial["run_in"][0].screening
    update_screening(screening=screening, data={"initials": "WLZ"}, user=screening.created_by, reason="Typo")
    body, _rows = read(client.get("/exports/audit.csv?deidentified=true"))
    assert b"initials: (changed)" in body and b"WLZ" not in body and b"ZWL" not in body
    assert b"notes: (changed)" in body and b"checked" not in body  # free text that may name the patient


def test_every_export_is_recorded_with_who_what_options_and_rows(login, api, admin_user, trial):
    read(login(admin_user).get("/exports/adverse_events.csv?deidentified=1"))
    read(api(admin_user).get("/api/v1/exports/participants.csv"))
    page, via_api = ExportRecord.objects.order_by("pk")
    assert (page.user, page.dataset, page.options, page.row_count, page.channel) == (
        admin_user,
        "adverse_events",
        {"deidentified": True},
        3,
        "page",
    )
    assert (via_api.dataset, via_api.options, via_api.row_count, via_api.channel) == (
        "participants",
        {"deidentified": False},
        Participant.objects.count(),
        "api",
    )
    assert page.completed_at >= page.started_at


def test_an_interrupted_download_stays_recorded_as_incomplete(login, admin_user, trial):
    export = start_export(user=admin_user, dataset="screening", deidentified=False)
    next(export.content)  # the header only; then the client goes away and the server closes the stream
    export.content.close()
    record = ExportRecord.objects.get()
    assert record.row_count is None and record.completed_at is None
    assert "incomplete" in login(admin_user).get("/exports/").content.decode()


def test_a_download_closed_in_the_middle_of_copy_leaves_the_connection_usable(login, admin_user, trial, monkeypatch):
    monkeypatch.setattr(csvexport, "COPY_CHUNK_BYTES", 1)  # one chunk per row
    export = start_export(user=admin_user, dataset="screening", deidentified=False)
    header, first_row = next(export.content), next(export.content)
    assert header.startswith(b"\xef\xbb\xbfSTUDYID,") and first_row.count(b"\n") == 1
    export.content.close()  # the client went away while PostgreSQL was still sending rows
    assert ExportRecord.objects.get().completed_at is None  # the same connection answers again
    assert Screening.objects.count() > 1


def test_rows_stream_in_chunks(login, admin_user, trial, monkeypatch):
    monkeypatch.setattr(csvexport, "CHUNK_ROWS", 1)
    chunks = list(csvexport.stream_csv(["A"], iter([("1",), ("2",), ("3",)]), chunk_rows=1))
    assert len(chunks) == 4 and chunks[0] == "\ufeffA\r\n".encode()


def test_exports_page_lists_every_dataset_with_its_row_count(login, admin_user, trial):
    body = login(admin_user).get("/exports/").content.decode()
    for dataset in ORDER:
        assert f'href="/exports/{dataset}.csv"' in body and f'href="/exports/{dataset}.csv?deidentified=1"' in body
    assert f'data-testid="count-adverse_events">{AdverseEvent.objects.count()}<' in body
    assert f'data-testid="count-screening">{Screening.objects.count()}<' in body


def test_dates_are_iso_8601(login, admin_user, trial):
    _body, rows = read(login(admin_user).get("/exports/adverse_events.csv"))
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert {r["AESTDTC"] for r in rows} == {yesterday}
