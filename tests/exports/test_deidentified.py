"""Issue 18: the export without direct identifiers keeps its promise — no initials, dates of
birth or free text; every date of a participant moved by that participant's own secret
offset, the same across datasets, so intervals stay true; audit reasons redacted."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from deviations.services import record_deviation
from reports.exports import DATASETS, deidentification_key, start_export
from safety.services import void_adverse_event
from scr_escc.csvexport import (
    DATE,
    DATETIME,
    MAX_DATE_SHIFT_DAYS,
    date_offset,
    load_date_offsets,
    patient_pseudonym,
    read_back,
    shift_iso,
    stream_copy,
)
from tests.factories import make_ae, make_participant, make_screening


def _export(user, dataset, deidentified):
    return read_back(b"".join(start_export(user=user, dataset=dataset, deidentified=deidentified).content))


@pytest.fixture
def trial(sh01, coordinator, admin_user, study):
    today = timezone.localdate()
    first = make_participant(site=sh01, user=coordinator, enrollment_date=today - timedelta(days=2))
    second = make_participant(site=sh01, user=coordinator, enrollment_date=today - timedelta(days=1))
    ae = make_ae(participant=first, user=coordinator, onset_date=today - timedelta(days=1))
    void_adverse_event(ae=ae, user=coordinator, reason="Patient Zhang Wei's duplicate")
    make_ae(participant=first, user=coordinator, onset_date=today)
    record_deviation(
        data={"deviation_date": today, "category": "consent", "description": "Mr Zhang signed late"},
        user=coordinator,
        participant=second,
    )
    return first, second


def test_identifiers_and_free_text_are_dropped(trial, admin_user):
    participants = _export(admin_user, "participants", True)
    assert not {"INITIALS", "BRTHDTC", "WDREAS", "DTHCAUS"} & set(participants[0])
    assert "AGE" in participants[0]
    assert not {"DVTERM", "DVACTION", "VOIDRSN"} & set(_export(admin_user, "deviations", True)[0])
    assert "VOIDRSN" not in _export(admin_user, "adverse_events", True)[0]


def test_dates_move_by_one_offset_per_participant_and_intervals_hold(trial, admin_user):
    real = {r["USUBJID"]: r for r in _export(admin_user, "participants", False)}
    shifted = {r["USUBJID"]: r for r in _export(admin_user, "participants", True)}
    offsets = {}
    for subject in real:
        offset = (date.fromisoformat(shifted[subject]["ENRLDTC"]) - date.fromisoformat(real[subject]["ENRLDTC"])).days
        assert -MAX_DATE_SHIFT_DAYS <= offset <= MAX_DATE_SHIFT_DAYS
        offsets[subject] = offset
    for row, hidden in zip(
        _export(admin_user, "adverse_events", False), _export(admin_user, "adverse_events", True), strict=True
    ):
        moved = (date.fromisoformat(hidden["AESTDTC"]) - date.fromisoformat(row["AESTDTC"])).days
        assert moved == offsets[row["USUBJID"]]  # the same participant, the same offset in every dataset
    again = {r["USUBJID"]: r["ENRLDTC"] for r in _export(admin_user, "participants", True)}
    assert again == {s: r["ENRLDTC"] for s, r in shifted.items()}  # and in every export


def test_the_audit_export_redacts_reasons_and_hides_changed_dates(trial, admin_user):
    rows = _export(admin_user, "audit", True)
    assert not any("Zhang" in " ".join(r.values()) for r in rows)
    void = next(r for r in rows if r["ACTION"] == "voided")
    assert void["REASON"] == "(redacted)"
    assert "void_reason: (changed)" in void["CHANGES"] and "voided_at: (changed)" in void["CHANGES"]


def test_the_dictionary_says_what_the_variant_contains(trial, login, coordinator):
    page = login(coordinator).get("/exports/dictionary/").content.decode()
    assert 'data-testid="deidentified-variant"' in page
    assert "shifted per participant" in page and "dropped (free text)" in page


@pytest.mark.parametrize("dataset", ["screening", "participants", "adverse_events", "deviations", "allocations"])
def test_every_date_is_shifted_exactly_by_its_patients_offset(dataset, trial, sh01, coordinator, admin_user):
    """PostgreSQL shifts the dates (in the COPY query); the Python definition is the oracle."""
    make_screening(site=sh01, user=coordinator, ecog=4, inc3=False)  # a screen failure: SCRNUM is its pseudonym
    columns = {c.name: c for c in DATASETS[dataset].columns}
    real, hidden = _export(admin_user, dataset, False), _export(admin_user, dataset, True)
    assert len(real) == len(hidden)
    key = deidentification_key()
    checked = 0
    for row, shifted in zip(real, hidden, strict=True):
        offset = date_offset(patient_pseudonym(row), key=key)
        for name, value in shifted.items():
            if columns[name].type in (DATE, DATETIME):
                assert value == (shift_iso(row[name], offset) or ""), (name, row)
                checked += bool(value)
    assert checked or dataset == "allocations"


def test_a_patient_missing_from_the_offsets_gets_blank_dates_never_real_ones(trial, admin_user):
    dataset = DATASETS["participants"]
    columns = dataset.columns_for(deidentified=True)
    load_date_offsets({})
    content = b"".join(stream_copy([c.name for c in columns], dataset.copy_query(columns, shift_dates=True)))
    rows = read_back(content)
    assert rows and all(row["ENRLDTC"] == "" for row in rows)
