"""The ADTTE export and the Efficacy page agree: the same derivation, and the export fed to
lifelines directly gives the page's medians, log-rank and hazard ratio."""

import csv
import io
from datetime import date, timedelta

import pytest

from reports.exports import deidentification_key
from scr_escc.csvexport import date_offset

pytestmark = pytest.mark.django_db


def _csv(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_fed_to_lifelines_gives_the_pages_numbers(admin_user, api, randomized_trial):
    import pandas as pd
    from lifelines import CoxPHFitter, KaplanMeierFitter

    client = api(admin_user)
    rows = [r for r in _csv(client.get("/api/v1/exports/pfs.csv")) if r["COHORT"] == "randomized"]
    assert len(rows) == 16
    frame = pd.DataFrame(
        {
            "days": [int(r["AVAL"]) for r in rows],
            "event": [1 - int(r["CNSR"]) for r in rows],
            "arm_a": [int(r["ARMCD"] == "A") for r in rows],
            "stratum": [r["STRATA"] for r in rows],
        }
    )
    page = client.get("/api/v1/efficacy/results/").json()["by_arm"]["pfs"]
    medians = {c["group"]: c["median_days"] for c in page["curves"]}
    for arm, flag in (("A", 1), ("B", 0)):
        part = frame[frame.arm_a == flag]
        fitted = KaplanMeierFitter().fit(part.days, part.event)
        expected = fitted.median_survival_time_
        assert medians[arm] == (None if expected == float("inf") else pytest.approx(expected))
    cox = CoxPHFitter().fit(frame, duration_col="days", event_col="event", strata=["stratum"])
    summary = cox.summary.loc["arm_a"]
    assert page["comparison"]["hazard_ratio_a_vs_b"] == pytest.approx(summary["exp(coef)"])
    assert page["comparison"]["hazard_ratio_ci95"] == pytest.approx(
        [summary["exp(coef) lower 95%"], summary["exp(coef) upper 95%"]]
    )
    assert page["comparison"]["stratified"] is True


def test_adtte_has_a_row_per_participant_with_the_censoring_rule(admin_user, api, randomized_trial):
    rows = _csv(api(admin_user).get("/api/v1/exports/pfs.csv"))
    first = next(r for r in rows if r["USUBJID"].endswith("SH01-001"))
    # SH01-001: randomized day 1, PD on its second scan 84 days later: ADT = start + 84, AVAL 85.
    start = date.fromisoformat(first["STARTDT"])
    assert (first["PARAMCD"], first["CNSR"], first["EVNTDESC"], first["CNSDTDSC"]) == (
        "PFS", "0", "Progression (RECIST 1.1)", "",
    )  # fmt: skip
    assert (date.fromisoformat(first["ADT"]) - start).days + 1 == int(first["AVAL"]) == 85
    censored = next(r for r in rows if r["USUBJID"].endswith("SH01-002"))
    assert (censored["CNSR"], censored["CNSDTDSC"]) == ("1", "Last adequate assessment")


def test_deidentified_adtte_moves_dates_by_the_participants_offset_and_keeps_aval(admin_user, api, randomized_trial):
    client = api(admin_user)
    plain = {r["USUBJID"]: r for r in _csv(client.get("/api/v1/exports/os.csv"))}
    moved = {r["USUBJID"]: r for r in _csv(client.get("/api/v1/exports/os.csv?deidentified=true"))}
    key = deidentification_key()
    for usubjid, row in plain.items():
        shift = timedelta(days=date_offset(usubjid, key=key))
        assert moved[usubjid]["STARTDT"] == (date.fromisoformat(row["STARTDT"]) + shift).isoformat()
        assert moved[usubjid]["ADT"] == (date.fromisoformat(row["ADT"]) + shift).isoformat()
        assert (moved[usubjid]["AVAL"], moved[usubjid]["CNSR"]) == (row["AVAL"], row["CNSR"])
    assert any(date_offset(u, key=key) != 0 for u in plain)
