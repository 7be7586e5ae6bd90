"""Issue 22, exports: the `queries` and `sdv` datasets, with and without direct identifiers."""

from datetime import UTC

import pytest
from django.core.exceptions import PermissionDenied

from monitoring import sdv
from monitoring.models import Query
from monitoring.queries import answer_query, close_query, raise_query, reopen_query
from monitoring.rules import raise_automatic_queries
from reports.exports import DATASETS, deidentification_key, start_export
from safety.services import update_adverse_event
from scr_escc.csvexport import DATETIME, date_offset, patient_pseudonym, read_back, shift_iso
from tests.efficacy.conftest import ago, enrolled
from tests.factories import UserFactory, make_ae, make_screening

PROTOCOL = "SCR-ESCC-01"


def _export(user, dataset, deidentified=False):
    return read_back(b"".join(start_export(user=user, dataset=dataset, deidentified=deidentified).content))


def _utc(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""


@pytest.fixture
def thread(grade_query, coordinator, investigator, monitor, sh01, sh02, coordinator_sh02):
    """A query answered, re-opened, answered again and closed; a formula-like question on a
    screening never enrolled; an automatic query at SH02."""
    answer_query(query=grade_query, user=coordinator, text="Grade 2 on the source")
    reopen_query(query=grade_query, user=monitor, text="CT report says 3")
    answer_query(query=grade_query, user=investigator, text="Grade 3", correction={"grade": 3})
    close_query(query=grade_query, user=monitor, text="Thanks")
    failed = make_screening(site=sh01, user=coordinator, ecog=4, inc3=False)
    on_screening = raise_query(user=monitor, record=failed, field="ecog", text="=ECOG 4 on the source?")
    far = enrolled(site=sh02, user=coordinator_sh02, days_ago=100)
    make_ae(participant=far, user=coordinator_sh02, onset_date=ago(95))
    raise_automatic_queries()
    automatic = Query.objects.get(rule="ae-end-date-missing")
    return {"answered": grade_query, "screening": on_screening, "failed": failed, "automatic": automatic, "far": far}


def test_the_queries_dataset(thread, admin_user, participant):
    rows = _export(admin_user, "queries")
    assert list(rows[0]) == [
        "STUDYID",
        "USUBJID",
        "SCRNUM",
        "SITEID",
        "QRYID",
        "RECTYPE",
        "RECID",
        "FIELD",
        "QRYTEXT",
        "QRYSTAT",
        "AUTOFL",
        "QRYRULE",
        "RAISEDBY",
        "RAISEDTC",
        "ANS1DTC",
        "ANSTEXT",
        "CLOSEDTC",
    ]
    answered = thread["answered"]
    answered.refresh_from_db()
    first, last = answered.steps.filter(action="answered").order_by("at")
    screening = thread["screening"]
    automatic = thread["automatic"]
    assert rows == [
        {
            "STUDYID": PROTOCOL,
            "USUBJID": f"{PROTOCOL}-{participant.subject_id}",
            "SCRNUM": "",
            "SITEID": "SH01",
            "QRYID": str(answered.pk),
            "RECTYPE": "ae",
            "RECID": str(answered.record_id),
            "FIELD": "grade",
            "QRYTEXT": "Source says grade 3?",
            "QRYSTAT": "closed",
            "AUTOFL": "N",
            "QRYRULE": "",
            "RAISEDBY": "monitor",
            "RAISEDTC": _utc(answered.raised_at),
            "ANS1DTC": _utc(first.at),
            "ANSTEXT": "Grade 3",
            "CLOSEDTC": _utc(answered.closed_at),
        },
        {
            "STUDYID": PROTOCOL,
            "USUBJID": "",
            "SCRNUM": thread["failed"].screening_number,
            "SITEID": "SH01",
            "QRYID": str(screening.pk),
            "RECTYPE": "screening",
            "RECID": str(thread["failed"].pk),
            "FIELD": "ecog",
            "QRYTEXT": "'=ECOG 4 on the source?",
            "QRYSTAT": "open",
            "AUTOFL": "N",
            "QRYRULE": "",
            "RAISEDBY": "monitor",
            "RAISEDTC": _utc(screening.raised_at),
            "ANS1DTC": "",
            "ANSTEXT": "",
            "CLOSEDTC": "",
        },
        {
            "STUDYID": PROTOCOL,
            "USUBJID": f"{PROTOCOL}-{thread['far'].subject_id}",
            "SCRNUM": "",
            "SITEID": "SH02",
            "QRYID": str(automatic.pk),
            "RECTYPE": "ae",
            "RECID": str(automatic.record_id),
            "FIELD": "end_date",
            "QRYTEXT": automatic.text,
            "QRYSTAT": "open",
            "AUTOFL": "Y",
            "QRYRULE": "ae-end-date-missing",
            "RAISEDBY": "",
            "RAISEDTC": _utc(automatic.raised_at),
            "ANS1DTC": "",
            "ANSTEXT": "",
            "CLOSEDTC": "",
        },
    ]
    assert last.text == "Grade 3"


def test_the_queries_dataset_without_identifiers_drops_free_text_and_shifts_every_date(thread, admin_user):
    real, hidden = _export(admin_user, "queries"), _export(admin_user, "queries", deidentified=True)
    assert not {"QRYTEXT", "ANSTEXT"} & set(hidden[0])
    key = deidentification_key()
    columns = {c.name: c for c in DATASETS["queries"].columns}
    checked = 0
    for row, shifted in zip(real, hidden, strict=True):
        offset = date_offset(patient_pseudonym(row), key=key)
        for name, value in shifted.items():
            if columns[name].type == DATETIME:
                assert value == (shift_iso(row[name], offset) or ""), (name, row)
                checked += bool(value)
            else:
                assert value == row[name]
    assert checked == 5  # raised ×3, and the first answer and the close of one


def test_the_sdv_dataset(participant, ae, monitor, coordinator, admin_user):
    screening_mark = sdv.verify(user=monitor, record=participant.screening)
    ae_mark = sdv.verify(user=monitor, record=ae)
    update_adverse_event(ae=ae, data={"grade": 3, "outcome": "recovering"}, user=coordinator, reason="Source")
    ae_mark.refresh_from_db()
    rows = _export(admin_user, "sdv")
    usubjid = f"{PROTOCOL}-{participant.subject_id}"
    assert rows == [
        {
            "STUDYID": PROTOCOL,
            "USUBJID": usubjid,
            "SITEID": "SH01",
            "RECTYPE": "screening",
            "RECID": str(participant.screening_id),
            "SDVLEVEL": "key",
            "SDVSTAT": "verified",
            "VERIFBY": "monitor",
            "VERIFDTC": _utc(screening_mark.verified_at),
            "CHANGEDTC": "",
            "CHGFIELD": "",
        },
        {
            "STUDYID": PROTOCOL,
            "USUBJID": usubjid,
            "SITEID": "SH01",
            "RECTYPE": "participant",
            "RECID": str(participant.pk),
            "SDVLEVEL": "key",
            "SDVSTAT": "unverified",
            "VERIFBY": "",
            "VERIFDTC": "",
            "CHANGEDTC": "",
            "CHGFIELD": "",
        },
        {
            "STUDYID": PROTOCOL,
            "USUBJID": usubjid,
            "SITEID": "SH01",
            "RECTYPE": "ae",
            "RECID": str(ae.pk),
            "SDVLEVEL": "all",
            "SDVSTAT": "changed",
            "VERIFBY": "monitor",
            "VERIFDTC": _utc(ae_mark.verified_at),
            "CHANGEDTC": _utc(ae_mark.changed_at),
            "CHGFIELD": "grade;outcome",
        },
    ]
    assert list(rows[0]) == [c.name for c in DATASETS["sdv"].columns]


def test_the_sdv_dataset_without_identifiers_shifts_its_dates_by_the_participants_offset(
    participant, ae, monitor, coordinator, admin_user
):
    sdv.verify(user=monitor, record=ae)
    update_adverse_event(ae=ae, data={"grade": 3}, user=coordinator, reason="Source")
    real, hidden = _export(admin_user, "sdv"), _export(admin_user, "sdv", deidentified=True)
    offset = date_offset(f"{PROTOCOL}-{participant.subject_id}", key=deidentification_key())
    (real_ae,) = [r for r in real if r["RECTYPE"] == "ae"]
    (hidden_ae,) = [r for r in hidden if r["RECTYPE"] == "ae"]
    assert hidden_ae["VERIFDTC"] == shift_iso(real_ae["VERIFDTC"], offset)
    assert hidden_ae["CHANGEDTC"] == shift_iso(real_ae["CHANGEDTC"], offset)
    assert {k: v for k, v in hidden_ae.items() if "DTC" not in k} == {
        k: v for k, v in real_ae.items() if "DTC" not in k
    }


def test_a_formula_like_username_is_neutralised_in_the_sdv_dataset(participant, admin_user):
    verifier = UserFactory(username="+monitor", role="monitor")
    sdv.verify(user=verifier, record=participant)
    (row,) = [r for r in _export(admin_user, "sdv") if r["RECTYPE"] == "participant"]
    assert row["VERIFBY"] == "'+monitor"


def test_both_datasets_count_their_rows_for_the_exports_page(thread, participant, ae, db):
    assert DATASETS["queries"].row_count() == 3
    assert DATASETS["sdv"].row_count() == len(_export(UserFactory(role="admin"), "sdv"))


@pytest.mark.parametrize("role", ["monitor", "pi", "coordinator"])
def test_only_data_managers_export(request, role, db):
    with pytest.raises(PermissionDenied):
        start_export(user=request.getfixturevalue(role), dataset="queries", deidentified=False)
