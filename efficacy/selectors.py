"""Reads of the efficacy data: scoped records, one participant's summary, progression, the schedule."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from efficacy import recist, schedule
from efficacy.models import (
    Agent,
    ClinicalProgression,
    FollowUpContact,
    LesionResult,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
    TumourAssessment,
)
from efficacy.treatment import first_doses
from enrollment.models import Cohort, Participant
from safety.models import AdverseEvent
from scr_escc.scoping import get_scoped_or_404
from scr_escc.selectors import get_study

RECORD_MODELS = {
    "dose": SystemicDose,
    "radiotherapy": RadiotherapyCourse,
    "assessment": TumourAssessment,
    "clinical-progression": ClinicalProgression,
    "new-therapy": NewAnticancerTherapy,
    "follow-up-contact": FollowUpContact,
}


def record_get_for_user(model, user, pk):
    """One efficacy record of a participant the user may see; 404 otherwise."""
    return get_scoped_or_404(
        model.objects.select_related("participant", "participant__site", "created_by"),
        user,
        site_field="participant__site",
        pk=pk,
    )


def schedule_settings(study=None) -> schedule.ScheduleSettings:
    study = study or get_study()
    return schedule.ScheduleSettings(
        assessment_interval_days=study.assessment_interval_weeks * 7,
        window_days=study.assessment_window_days,
        followup_interval_days=study.followup_interval_weeks * 7,
        cycle_length_days=study.cycle_length_days,
    )


def schedule_anchor(participant: Participant) -> date | None:
    """Tumour assessments are counted from randomization; for the run-in, from enrollment."""
    if participant.cohort == Cohort.RUN_IN:
        return participant.enrollment_date
    return timezone.localdate(participant.randomized_at) if participant.randomized_at else None


@dataclass(frozen=True)
class Progression:
    date: date
    source: str  # "recist" (first computed PD) or "clinical"
    record: object


def progression_from(first_pd: TumourAssessment | None, clinical: ClinicalProgression | None) -> Progression | None:
    """The date of progression: the earlier of the first scan scored PD and a clinical progression."""
    candidates = []
    if first_pd is not None:
        candidates.append(Progression(first_pd.assessment_date, "recist", first_pd))
    if clinical is not None:
        candidates.append(Progression(clinical.progression_date, "clinical", clinical))
    return min(candidates, key=lambda p: (p.date, p.source != "recist"), default=None)


def progression_of(participant: Participant) -> Progression | None:
    first_pd = (
        TumourAssessment.objects.filter(participant=participant, voided=False, computed_response=recist.Response.PD)
        .order_by("assessment_date")
        .first()
    )
    clinical = (
        ClinicalProgression.objects.filter(participant=participant, voided=False).order_by("progression_date").first()
    )
    return progression_from(first_pd, clinical)


def off_study_date(participant: Participant) -> date | None:
    return min(
        filter(None, (participant.death_date, participant.withdrawal_date, participant.completion_date)), default=None
    )


def visits_of(
    participant: Participant,
    *,
    assessment_dates,
    contact_dates,
    progression: date | None,
    today: date,
    settings: schedule.ScheduleSettings,
) -> list[schedule.Visit]:
    """Tumour assessments from the anchor until progression; then survival follow-up from progression."""
    anchor = schedule_anchor(participant)
    if anchor is None:
        return []
    off = off_study_date(participant)
    stop = min(filter(None, (progression, off)), default=None)
    found = schedule.visits(
        kind=schedule.VisitKind.TUMOUR_ASSESSMENT,
        anchor=anchor,
        interval_days=settings.assessment_interval_days,
        done_dates=assessment_dates,
        today=today,
        settings=settings,
        stop=stop,
    )
    if progression is not None and (off is None or off > progression):
        found += schedule.visits(
            kind=schedule.VisitKind.SURVIVAL_FOLLOW_UP,
            anchor=progression,
            interval_days=settings.followup_interval_days,
            done_dates=contact_dates,
            today=today,
            settings=settings,
            stop=off,
        )
    return found


def first_date_by_participant(queryset, date_field: str) -> dict[int, date]:
    """The earliest `date_field` of each participant's rows in `queryset` (one grouped query)."""
    rows = queryset.values("participant_id").annotate(first=Min(date_field)).values_list("participant_id", "first")
    return dict(rows)


def latest_record_dates(participant_ids) -> dict[int, list[date]]:
    """Per participant, the latest date of each kind of record (one grouped query per kind)."""
    found: dict[int, list[date]] = defaultdict(list)
    live = {"participant_id__in": participant_ids, "voided": False}
    grouped = (
        (SystemicDose.objects.filter(**live).exclude(change="omitted"), ("administered_on",)),
        (RadiotherapyCourse.objects.filter(**live), ("start_date", "end_date")),
        (TumourAssessment.objects.filter(**live), ("assessment_date",)),
        (FollowUpContact.objects.filter(**live), ("contact_date",)),
        (ClinicalProgression.objects.filter(**live), ("progression_date",)),
        (NewAnticancerTherapy.objects.filter(**live), ("start_date",)),
        (AdverseEvent.objects.filter(**live), ("onset_date", "end_date")),
    )
    for queryset, fields in grouped:
        maxima = {f"m{i}": Max(field) for i, field in enumerate(fields)}
        for participant_id, *days in (
            queryset.values("participant_id").annotate(**maxima).values_list("participant_id", *maxima)
        ):
            found[participant_id].extend(day for day in days if day is not None)
    return found


def known_alive(participant: Participant, record_dates: list[date]) -> date:
    """The latest date the participant is known alive, from any record (the death date once deceased)."""
    if participant.death_date:
        return participant.death_date
    dates = [*record_dates, participant.enrollment_date, participant.withdrawal_date, participant.completion_date]
    if participant.randomized_at:
        dates.append(timezone.localdate(participant.randomized_at))
    return max(day for day in dates if day is not None)


def last_known_alive(participant: Participant) -> date:
    return known_alive(participant, latest_record_dates([participant.pk]).get(participant.pk, []))


@dataclass
class EfficacySummary:
    participant: Participant
    first_doses: dict
    start_of_treatment: date | None
    doses: list
    courses: list
    assessments: list
    lesions: list
    results: dict  # (assessment pk, lesion code) -> LesionResult
    best: recist.BestResponse
    progression: Progression | None
    clinical_progressions: list
    new_therapies: list
    contacts: list
    visits: list = field(default_factory=list)
    missed: int = 0
    next_visit: schedule.Visit | None = None
    next_cycle: date | None = None
    next_cycle_number: int = 1
    last_known_alive: date | None = None

    @property
    def has_follow_up(self) -> bool:
        return any(not a.baseline and not a.voided for a in self.assessments)

    @property
    def cycles(self) -> list[tuple[int, list]]:
        grouped: dict[int, list] = {}
        for dose in self.doses:
            grouped.setdefault(dose.cycle, []).append(dose)
        return sorted(grouped.items())


def efficacy_summary(participant: Participant, *, today: date | None = None) -> EfficacySummary:
    today = today or timezone.localdate()
    of = {"participant": participant}
    assessments = list(TumourAssessment.objects.filter(**of).order_by("assessment_date", "pk"))
    live = [a for a in assessments if not a.voided]
    baseline = next((a for a in live if a.baseline), None)
    lesions = list(baseline.lesions.order_by("-target", "number")) if baseline else []
    found = LesionResult.objects.filter(assessment__in=live).select_related("lesion")
    results = {(r.assessment_id, r.lesion.code): r for r in found}
    follow_ups = [a for a in live if not a.baseline]
    clinical = list(ClinicalProgression.objects.filter(**of).order_by("progression_date", "pk"))
    first_pd = next((a for a in follow_ups if a.computed_response == recist.Response.PD), None)
    progression = progression_from(first_pd, next((c for c in clinical if not c.voided), None))
    contacts = list(FollowUpContact.objects.filter(**of).order_by("contact_date", "pk"))
    agents = list(Agent.values)  # the order of the protocol: PD-1 inhibitor, paclitaxel, platinum
    doses = sorted(SystemicDose.objects.filter(**of), key=lambda d: (d.cycle, agents.index(d.agent), d.pk))
    live_doses = [d for d in doses if not d.voided]
    settings = schedule_settings()
    firsts = first_doses(participant)
    summary = EfficacySummary(
        participant=participant,
        first_doses=firsts,
        start_of_treatment=min(filter(None, firsts.values()), default=None),
        doses=doses,
        courses=list(RadiotherapyCourse.objects.filter(**of).order_by("start_date", "pk")),
        assessments=assessments,
        lesions=lesions,
        results=results,
        best=recist.best_overall_response(
            [(a.assessment_date, recist.Response(a.computed_response)) for a in follow_ups if a.computed_response],
            # RECIST 1.1 §4.6.3: the minimum duration of SD counts from study entry.
            baseline_date=schedule_anchor(participant) or (baseline.assessment_date if baseline else today),
        ),
        progression=progression,
        clinical_progressions=clinical,
        new_therapies=list(NewAnticancerTherapy.objects.filter(**of).order_by("start_date", "pk")),
        contacts=contacts,
    )
    summary.visits = visits_of(
        participant,
        assessment_dates=[a.assessment_date for a in follow_ups],
        contact_dates=[c.contact_date for c in contacts if not c.voided],
        progression=progression.date if progression else None,
        today=today,
        settings=settings,
    )
    summary.missed = schedule.missed_count(summary.visits)
    summary.next_visit = schedule.next_visit(summary.visits)
    cycle_days = sorted({d.administered_on for d in live_doses})
    stop = min(filter(None, (progression.date if progression else None, off_study_date(participant))), default=None)
    summary.next_cycle = schedule.next_cycle_due(cycle_dates=cycle_days, settings=settings, stop=stop)
    summary.next_cycle_number = max((d.cycle for d in live_doses), default=0) + 1
    summary.last_known_alive = last_known_alive(participant)
    return summary


def records_of(model, participant: Participant) -> QuerySet:
    return model.objects.filter(participant=participant).order_by("pk")


def treatment_starts(participant_ids) -> dict[int, date]:
    """The first dose of any study treatment per participant, in two aggregate queries."""
    starts: dict[int, date] = {}
    doses = SystemicDose.objects.filter(participant_id__in=participant_ids, voided=False).exclude(change="omitted")
    courses = RadiotherapyCourse.objects.filter(participant_id__in=participant_ids, voided=False)
    for queryset, day in ((doses, "administered_on"), (courses, "start_date")):
        rows = queryset.values("participant_id").annotate(first=Min(day)).values_list("participant_id", "first")
        for participant_id, first in rows:
            starts[participant_id] = min(first, starts.get(participant_id, first))
    return starts
