"""The audit trail keeps old and new values of every tracked field — also those no form edits
(phase, eligibility, treatment-related, voided, arm) — and a void is read from the data."""

from reports.exports import start_export
from safety.services import update_adverse_event, void_adverse_event
from scr_escc.audit import history_entries
from scr_escc.csvexport import read_back
from scr_escc.selectors import get_study
from scr_escc.services import update_study_settings
from tests.factories import make_ae, make_participant


def _changes(entry) -> dict:
    return {c.field: (c.old, c.new) for c in entry.changes}


def test_a_reattribution_shows_treatment_related_changing(sh01, coordinator, study):
    ae = make_ae(participant=make_participant(site=sh01, user=coordinator), user=coordinator, related="possible")
    update_adverse_event(ae=ae, data={"attribution_chemo": "unlikely"}, user=coordinator, reason="Re-attributed")
    latest = history_entries(ae)[0]
    assert _changes(latest)["treatment_related"] == (True, False)
    assert _changes(latest)["attribution_chemo"] == ("possible", "unlikely")


def test_a_void_is_a_void_in_the_history_whatever_its_reason_says(sh01, coordinator, admin_user, study):
    ae = make_ae(participant=make_participant(site=sh01, user=coordinator), user=coordinator)
    void_adverse_event(ae=ae, user=coordinator, reason="Changed: duplicate entry")
    latest = history_entries(ae)[0]
    assert (str(latest.kind), latest.reason) == ("Voided", "Changed: duplicate entry")
    assert _changes(latest)["voided"] == (False, True)
    export = start_export(user=admin_user, dataset="audit", deidentified=False)
    rows = [r for r in read_back(b"".join(export.content)) if r["RECTYPE"] == "adverse_event"]
    assert [r["ACTION"] for r in rows] == ["created", "voided"]
    assert "voided: False → True" in rows[1]["CHANGES"]


def test_the_run_in_count_has_its_own_history_rows_never_under_the_admins_edit(sh01, coordinator, admin_user, study):
    update_study_settings(user=admin_user, data={"safety_contact_emails": "dsmb@example.org"}, reason="DSMB")
    make_participant(site=sh01, user=coordinator)
    update_study_settings(user=admin_user, data={"safety_contact_emails": "dsmb2@example.org"}, reason="New DSMB")
    entries = history_entries(get_study())
    assert [e.reason for e in entries[:3]] == ["New DSMB", "Run-in enrollment: SH01-001", "DSMB"]
    assert _changes(entries[0]) == {"safety_contact_emails": ("dsmb@example.org", "dsmb2@example.org")}
    assert _changes(entries[1]) == {"run_in_enrolled": (0, 1)}
    assert entries[1].user == coordinator.username


def test_the_stopping_rule_count_has_its_own_history_row(sh01, coordinator, study):
    participant = make_participant(site=sh01, user=coordinator)
    make_ae(participant=participant, user=coordinator, grade=5, related="possible", term="Pneumonitis")
    latest = history_entries(get_study())[0]
    assert (latest.user, latest.reason) == (
        coordinator.username,
        "Stopping-rule count recomputed (SH01-001, Pneumonitis).",
    )
    assert _changes(latest) == {"treatment_related_grade5": (0, 1)}
