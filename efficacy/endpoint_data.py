"""Every participant's PFS and OS, derived by `efficacy.endpoints` from the stored records.

One grouped query per kind of record, whatever the number of participants; the derivation is the
pure function, the same for the Efficacy page, the API and the ADTTE export.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from efficacy import endpoints, recist
from efficacy.models import (
    ClinicalProgression,
    NewAnticancerTherapy,
    TumourAssessment,
)
from efficacy.selectors import first_date_by_participant, known_alive, latest_record_dates, schedule_settings
from enrollment.models import Cohort, Participant
from randomization.models import Allocation


@dataclass(frozen=True)
class EndpointRow:
    subject_id: str
    site: str
    cohort: str
    arm: str | None
    stratum: str
    pfs: endpoints.TimeToEvent
    os: endpoints.TimeToEvent


def _start(participant: Participant) -> date | None:
    """Randomization date; for the run-in cohort, the enrollment date (reported separately)."""
    if participant.cohort == Cohort.RUN_IN:
        return participant.enrollment_date
    return timezone.localdate(participant.randomized_at) if participant.randomized_at else None


def _scans(ids) -> dict[int, list[endpoints.Scan]]:
    found: dict[int, list[endpoints.Scan]] = defaultdict(list)
    rows = TumourAssessment.objects.filter(participant_id__in=ids, voided=False, baseline=False)
    for participant_id, day, response in rows.values_list("participant_id", "assessment_date", "computed_response"):
        adequate = response not in ("", recist.Response.NE)
        found[participant_id].append(endpoints.Scan(day, adequate, response == recist.Response.PD))
    return found


def endpoint_rows(*, cohort: str) -> list[EndpointRow]:
    """PFS and OS of every participant of `cohort` with a start date (randomized: once randomized)."""
    participants = Participant.objects.filter(cohort=cohort).select_related("site").order_by("subject_id")
    if cohort == Cohort.RANDOMIZED:
        participants = participants.filter(randomized_at__isnull=False)
    participants = list(participants)
    ids = [p.pk for p in participants]
    scans, alive = _scans(ids), latest_record_dates(ids)
    live = {"participant_id__in": ids, "voided": False}
    clinical = first_date_by_participant(ClinicalProgression.objects.filter(**live), "progression_date")
    therapy = first_date_by_participant(NewAnticancerTherapy.objects.filter(**live), "start_date")
    strata = dict(Allocation.objects.filter(participant_id__in=ids).values_list("participant_id", "stratum"))
    settings = schedule_settings()
    rows = []
    for p in participants:
        start = _start(p)
        timeline = endpoints.Timeline(
            start=start,
            scans=scans.get(p.pk, []),
            clinical_progression=clinical.get(p.pk),
            death=p.death_date,
            new_therapy=therapy.get(p.pk),
            last_known_alive=known_alive(p, alive.get(p.pk, [])),
            interval_days=settings.assessment_interval_days,
            window_days=settings.window_days,
        )
        stratum = strata.get(p.pk, "")
        pfs, os_ = endpoints.derive_pfs(timeline), endpoints.derive_os(timeline)
        rows.append(EndpointRow(p.subject_id, p.site.code, p.cohort, p.arm, stratum, pfs, os_))
    return rows
