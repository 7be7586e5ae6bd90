"""Progression judged clinically, new anticancer therapy, survival follow-up contacts; the death check."""

from datetime import date

from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from efficacy import records
from efficacy.models import (
    ClinicalProgression,
    FollowUpContact,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
    TumourAssessment,
)
from enrollment.models import Participant

PROGRESSION_FIELDS = ("progression_date", "reason")
THERAPY_FIELDS = ("start_date", "kind", "therapy")
CONTACT_FIELDS = ("contact_date", "method", "notes")


def _check_progression(participant: Participant, record: ClinicalProgression) -> None:
    if record.voided:
        return
    records.raise_errors(_on_study_errors(participant, record.progression_date, "progression_date"))
    if not record.reason.strip():
        records.raise_errors({"reason": [_("Say what showed the progression.")]})


def _check_therapy(participant: Participant, record: NewAnticancerTherapy) -> None:
    if not record.voided:
        records.raise_errors(_on_study_errors(participant, record.start_date, "start_date"))


def _on_study_errors(participant: Participant, day, field: str) -> dict:
    """Progression and new therapy count from the start of PFS: randomization (run-in: enrollment)."""
    start = records.start_of_study_treatment(participant)
    if start is None:
        return {field: [_("%(s)s is not randomized yet: PFS starts at randomization.") % {"s": participant.subject_id}]}
    return records.date_errors(participant, day, field, not_before=start)


def _check_contact(participant: Participant, record: FollowUpContact) -> None:
    if not record.voided:
        records.raise_errors(
            records.date_errors(
                participant, record.contact_date, "contact_date", not_before=participant.enrollment_date
            )
        )


# What each simple record kind is, for the generic pages and API: fields, checks and the reason of a
# first entry in one place.
KINDS = {
    "clinical-progression": (
        ClinicalProgression, PROGRESSION_FIELDS, _check_progression, gettext_lazy("Clinical progression recorded")
    ),
    "new-therapy": (
        NewAnticancerTherapy, THERAPY_FIELDS, _check_therapy, gettext_lazy("New anticancer therapy recorded")
    ),
    "follow-up-contact": (FollowUpContact, CONTACT_FIELDS, _check_contact, gettext_lazy("Follow-up contact recorded")),
}  # fmt: skip


def _record(kind: str, *, participant: Participant, data: dict, user):
    model, fields, check, reason = KINDS[kind]
    return records.create(
        record=model(), participant=participant, data=data, fields=fields, user=user, check=check, reason=str(reason)
    )


def record_clinical_progression(*, participant: Participant, data: dict, user) -> ClinicalProgression:
    return _record("clinical-progression", participant=participant, data=data, user=user)


def record_new_therapy(*, participant: Participant, data: dict, user) -> NewAnticancerTherapy:
    return _record("new-therapy", participant=participant, data=data, user=user)


def record_contact(*, participant: Participant, data: dict, user) -> FollowUpContact:
    return _record("follow-up-contact", participant=participant, data=data, user=user)


def update_simple(*, record, data: dict, user, reason, expected_version=None):
    _model, fields, check, _reason = next(kind for kind in KINDS.values() if isinstance(record, kind[0]))
    return records.update(
        record=record,
        data=data,
        fields=fields,
        user=user,
        reason=reason,
        check=check,
        expected_version=expected_version,
    )


def void_simple(*, record, user, reason, expected_version=None):
    return records.void(record=record, user=user, reason=reason, expected_version=expected_version)


def latest_activity(participant: Participant) -> date | None:
    """The latest date of any treatment, scan, progression, new therapy or contact of the participant.

    A death cannot precede it: each of these records is refused once dated after a death.
    """
    dates = [
        SystemicDose.objects.filter(participant=participant, voided=False)
        .exclude(change="omitted")
        .aggregate(d=Max("administered_on"))["d"],
        RadiotherapyCourse.objects.filter(participant=participant, voided=False).aggregate(d=Max("start_date"))["d"],
        RadiotherapyCourse.objects.filter(participant=participant, voided=False).aggregate(d=Max("end_date"))["d"],
        TumourAssessment.objects.filter(participant=participant, voided=False).aggregate(d=Max("assessment_date"))["d"],
        FollowUpContact.objects.filter(participant=participant, voided=False).aggregate(d=Max("contact_date"))["d"],
        ClinicalProgression.objects.filter(participant=participant, voided=False).aggregate(d=Max("progression_date"))[
            "d"
        ],
        NewAnticancerTherapy.objects.filter(participant=participant, voided=False).aggregate(d=Max("start_date"))["d"],
    ]
    return max(filter(None, dates), default=None)


def death_check(*, participant: Participant, death_date: date) -> dict:
    """Registered with enrollment: a death cannot be dated before a dose, scan or contact of the participant."""
    latest = latest_activity(participant)
    if latest is not None and death_date < latest:
        return {
            "death_date": [
                _(
                    "The participant has treatment, a tumour assessment, a progression, a new therapy or a contact "
                    "on %(d)s; the death cannot be dated before it."
                )
                % {"d": latest.isoformat()}
            ]
        }
    return {}
