"""The site worklist: what a coordinator has to do this week, for the participants of their sites.

Computed in a fixed number of queries (one per record kind), then by the pure schedule rules.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

from django.db.models import Max, Q
from django.utils import timezone

from efficacy import recist, schedule
from efficacy.models import ClinicalProgression, FollowUpContact, SystemicDose, TumourAssessment
from efficacy.selectors import first_date_by_participant, off_study_date, schedule_settings, visits_of
from enrollment.models import Participant, ParticipantStatus, Screening
from safety.models import AdverseEvent, Outcome
from scr_escc.scoping import scope_to_user

STALE_AE_DAYS = 30
SOON_DAYS = 7


@dataclass(frozen=True)
class Due:
    participant: Participant
    visit: schedule.Visit | None = None
    cycle: int | None = None
    cycle_due: date | None = None
    missed: int = 0
    has_baseline: bool = True  # without one, the next step is the baseline scan
    today: date | None = None  # the worklist's day (a cycle is overdue after its due date)

    @property
    def overdue(self) -> bool:
        if self.visit is not None:
            return self.visit.status == schedule.VisitStatus.OVERDUE
        return self.cycle_due is not None and self.cycle_due < (self.today or timezone.localdate())


@dataclass
class Worklist:
    today: date
    assessments: list[Due] = field(default_factory=list)
    follow_ups: list[Due] = field(default_factory=list)
    cycles: list[Due] = field(default_factory=list)
    stale_aes: list = field(default_factory=list)
    screenings: list = field(default_factory=list)

    @property
    def overdue_count(self) -> int:
        return sum(1 for item in self.assessments + self.follow_ups + self.cycles if item.overdue)

    limit: int = 200  # rows shown per section (the home page shows fewer)

    @property
    def visits(self) -> list[Due]:
        return self.assessments + self.follow_ups

    def shown(self, section: str) -> list:
        return getattr(self, section)[: self.limit]

    def hidden(self, section: str) -> int:
        return max(0, len(getattr(self, section)) - self.limit)

    @cached_property
    def sections(self) -> dict:
        """Per section, the rows to show and how many more there are (templates read these)."""
        names = ("visits", "cycles", "stale_aes", "screenings")
        return {name: {"rows": self.shown(name), "more": self.hidden(name)} for name in names}

    @property
    def empty(self) -> bool:
        return not (self.assessments or self.follow_ups or self.cycles or self.stale_aes or self.screenings)


def _dates_by_participant(queryset, date_field: str) -> dict[int, list[date]]:
    found: dict[int, list[date]] = defaultdict(list)
    for participant_id, day in queryset.values_list("participant_id", date_field):
        found[participant_id].append(day)
    return found


def worklist_for(user, *, today: date | None = None, site=None) -> Worklist:
    """Due and overdue assessments and follow-up contacts, cycles due, stale AEs, screenings to enroll."""
    today = today or timezone.localdate()
    participants = scope_to_user(
        Participant.objects.filter(status=ParticipantStatus.ON_STUDY).select_related("site"), user
    )
    if site is not None:
        participants = participants.filter(site=site)
    # The participants as a subquery, not a list of ids: hundreds of parameters per query cost more.
    live = {"participant_id__in": participants.values("pk"), "voided": False}
    participants = list(participants.order_by("subject_id"))
    scans = TumourAssessment.objects.filter(baseline=False, **live)
    with_baseline = set(TumourAssessment.objects.filter(baseline=True, **live).values_list("participant_id", flat=True))
    assessed = _dates_by_participant(scans, "assessment_date")
    first_pd = first_date_by_participant(scans.filter(computed_response=recist.Response.PD), "assessment_date")
    clinical = first_date_by_participant(ClinicalProgression.objects.filter(**live), "progression_date")
    contacts = _dates_by_participant(FollowUpContact.objects.filter(**live), "contact_date")
    cycles = {
        row[0]: row[1:]
        for row in SystemicDose.objects.filter(**live)
        .values("participant_id")
        .annotate(last=Max("administered_on", filter=~Q(change="omitted")), n=Max("cycle"))
        .values_list("participant_id", "last", "n")
    }
    settings = schedule_settings()
    work = Worklist(today=today)
    soon = today + timedelta(days=SOON_DAYS)
    for participant in participants:
        progression = min(filter(None, (first_pd.get(participant.pk), clinical.get(participant.pk))), default=None)
        visits = visits_of(
            participant,
            assessment_dates=assessed.get(participant.pk, []),
            contact_dates=contacts.get(participant.pk, []),
            progression=progression,
            today=today,
            settings=settings,
        )
        missed = schedule.missed_count(visits)
        for visit in visits:
            wanted = visit.status in (schedule.VisitStatus.DUE, schedule.VisitStatus.OVERDUE) or (
                visit.status == schedule.VisitStatus.UPCOMING and visit.window_start <= soon
            )
            if wanted:
                target = work.assessments if visit.kind == schedule.VisitKind.TUMOUR_ASSESSMENT else work.follow_ups
                has_baseline = participant.pk in with_baseline
                target.append(Due(participant, visit=visit, missed=missed, has_baseline=has_baseline))
        stop = min(filter(None, (progression, off_study_date(participant))), default=None)
        last_day, highest = cycles.get(participant.pk, (None, 0))
        next_day = schedule.next_cycle_due(cycle_dates=[last_day] if last_day else [], settings=settings, stop=stop)
        if next_day is not None and next_day <= soon:
            number = highest + 1
            work.cycles.append(Due(participant, cycle=number, cycle_due=next_day, today=today))
    work.assessments.sort(key=lambda d: d.visit.target)
    work.follow_ups.sort(key=lambda d: d.visit.target)
    work.cycles.sort(key=lambda d: d.cycle_due)
    work.stale_aes = list(_stale_aes(user, site=site, today=today))
    work.screenings = list(_screenings_to_enroll(user, site=site))
    return work


def _stale_aes(user, *, site, today: date):
    """Ongoing AEs (no end date, not fatal) nobody has updated for 30 days."""
    cutoff = timezone.now() - timedelta(days=STALE_AE_DAYS)
    aes = AdverseEvent.objects.filter(voided=False, end_date__isnull=True, updated_at__lt=cutoff).exclude(
        outcome=Outcome.FATAL
    )
    aes = aes.filter(participant__status=ParticipantStatus.ON_STUDY)
    aes = scope_to_user(aes.select_related("participant"), user, site_field="participant__site")
    if site is not None:
        aes = aes.filter(participant__site=site)
    return aes.order_by("updated_at")[:200]


def _screenings_to_enroll(user, *, site):
    screenings = Screening.objects.filter(eligible=True, voided=False, participant__isnull=True)
    screenings = scope_to_user(screenings.select_related("site"), user)
    if site is not None:
        screenings = screenings.filter(site=site)
    return screenings.order_by("screening_date")[:200]
