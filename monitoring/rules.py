"""Automatic queries: data checks that must not block entry but need a person's look.

Each rule yields (record, field, text) for the records it flags; `raise_automatic_queries` raises
one query per rule and record (never twice, also once closed: a person decided). Run after each
write of a participant's records (on commit) and daily for the whole study (Celery beat).
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from efficacy.models import LesionResult, TumourAssessment
from enrollment.models import Participant
from monitoring.models import Query
from monitoring.queries import _new_query
from monitoring.record_types import RECORD_TYPES, participant_id_of
from safety.models import AdverseEvent
from scr_escc.alerts import study_language

AE_ONSET_BEFORE_ENROLLMENT_DAYS = 14
AE_END_DATE_MISSING_DAYS = 90


def recist_disagreement(participant_ids):
    scans = TumourAssessment.objects.filter(voided=False, baseline=False).exclude(computed_response="")
    scans = scans.exclude(investigator_response=F("computed_response"))
    for scan in _of(scans, participant_ids):
        yield (
            scan,
            "investigator_response",
            _(
                "The investigator's response (%(investigator)s) differs from the response computed from the "
                "measurements under RECIST 1.1 (%(computed)s). Check the measurements and the response."
            )
            % {"investigator": scan.investigator_response, "computed": scan.computed_response},
        )


def ae_onset_before_enrollment(participant_ids):
    aes = AdverseEvent.objects.filter(voided=False).select_related("participant")
    aes = aes.filter(onset_date__lt=F("participant__enrollment_date") - timedelta(days=AE_ONSET_BEFORE_ENROLLMENT_DAYS))
    for ae in _of(aes, participant_ids):
        yield (
            ae,
            "onset_date",
            _(
                "The onset (%(onset)s) is more than %(days)d days before enrollment (%(enrollment)s). "
                "Is this an adverse event on study, or medical history?"
            )
            % {
                "onset": ae.onset_date,
                "days": AE_ONSET_BEFORE_ENROLLMENT_DAYS,
                "enrollment": ae.participant.enrollment_date,
            },
        )


def ae_end_date_missing(participant_ids):
    cutoff = timezone.localdate() - timedelta(days=AE_END_DATE_MISSING_DAYS)
    aes = AdverseEvent.objects.filter(voided=False, end_date__isnull=True, onset_date__lte=cutoff).exclude(grade=5)
    for ae in _of(aes, participant_ids):
        yield (
            ae,
            "end_date",
            _(
                "No end date %(days)d days after the onset (%(onset)s). Has the event resolved? "
                "If it is still ongoing, say so in the answer."
            )
            % {"days": AE_END_DATE_MISSING_DAYS, "onset": ae.onset_date},
        )


def _of(queryset, participant_ids):
    if participant_ids is not None:
        queryset = queryset.filter(participant_id__in=participant_ids)
    return queryset.order_by("pk")


RULES = {
    "recist-disagreement": ("assessment", recist_disagreement),
    "ae-onset-before-enrollment": ("ae", ae_onset_before_enrollment),
    "ae-end-date-missing": ("ae", ae_end_date_missing),
}


def raise_automatic_queries(participant_ids=None) -> int:
    """Raise the rules' queries not raised before; returns how many were raised. Their text is in
    the study's default language, whoever's write (or the daily task) set the check off."""
    with translation.override(study_language()):
        return _raise(participant_ids)


def _raise(participant_ids) -> int:
    raised = 0
    for rule, (code, check) in RULES.items():
        flagged = list(check(participant_ids))
        done = set(
            Query.objects.filter(rule=rule, record_id__in=[r.pk for r, _f, _t in flagged]).values_list(
                "record_id", flat=True
            )
        )
        for record, field, text in flagged:
            if record.pk in done:
                continue
            try:
                with transaction.atomic():
                    _new_query(RECORD_TYPES[code], record, field=field, text=text, user=None, rule=rule)
                raised += 1
            except IntegrityError:  # raised meanwhile by another worker
                continue
    return raised


# The rows whose change can change what a rule sees: AEs, scans and their measurements, and the
# participant (the enrollment date). Other writes (doses, screenings, deviations) check nothing.
CHECKED = (AdverseEvent, TumourAssessment, LesionResult, Participant)


def sweep_after_commit(instance, *, user, reason: str) -> None:
    """Change listener: check the written record's participant once the transaction commits
    (a rolled-back write checks nothing). A transaction that writes several rows of one
    participant checks them several times: a few indexed queries each, and always right."""
    if not isinstance(instance, CHECKED):
        return
    participant_id = participant_id_of(instance)
    if participant_id is not None:
        transaction.on_commit(lambda: raise_automatic_queries([participant_id]), robust=True)
