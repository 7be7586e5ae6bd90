"""The records a monitor can query, verify and sign off, one row each (monitoring sits above the
clinical apps, so it may name their models and services).

A record type says where its site and participant are, which fields can be queried, which are
its key fields for source-data verification, where its page is, and which service corrects it
(None: answered without a correction here; the site corrects it on its own page).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Model
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from deviations import services as deviation_services
from deviations.models import ProtocolDeviation
from efficacy import assessments, followup, treatment
from efficacy.models import (
    ClinicalProgression,
    FollowUpContact,
    Lesion,
    LesionResult,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
    TumourAssessment,
)
from enrollment import services as enrollment_services
from enrollment.models import Participant, Screening
from safety import services as safety_services
from safety.models import AdverseEvent


@dataclass(frozen=True)
class RecordType:
    code: str
    label: object
    model: type[Model]
    site_path: str  # the ORM path from the record to its site
    participant_path: str | None  # the ORM path to the participant's pk (None: the record is one)
    fields: tuple[str, ...]  # fields a query may name
    key_fields: tuple[str, ...]  # SDV "key fields"
    url: Callable[[Model], str]
    correct: Callable[..., Model] | None = None  # (record, data, user, reason, expected_version)

    def field_label(self, field: str) -> str:
        if not field:
            return str(_("whole record"))
        return str(self.model._meta.get_field(field).verbose_name)

    def field_choices(self) -> list[tuple[str, str]]:
        return [("", _("The whole record"))] + [(f, capfirst(self.field_label(f))) for f in self.fields]


def _ae_correct(record, **kwargs):
    return safety_services.update_adverse_event(ae=record, **kwargs)


def _screening_correct(record, **kwargs):
    return enrollment_services.update_screening(screening=record, **kwargs)


def _dose_correct(record, **kwargs):
    return treatment.update_dose(dose=record, **kwargs)


def _course_correct(record, **kwargs):
    return treatment.update_course(course=record, **kwargs)


def _assessment_correct(record, **kwargs):
    return assessments.update_assessment(assessment=record, targets={}, non_targets={}, **kwargs)


def _simple_correct(record, **kwargs):
    return followup.update_simple(record=record, **kwargs)


def _deviation_correct(record, **kwargs):
    return deviation_services.update_deviation(deviation=record, **kwargs)


def _efficacy_url(kind: str):
    return lambda record: reverse("efficacy-record", args=[kind, record.pk])


ATTRIBUTIONS = ("attribution_pd1", "attribution_chemo", "attribution_ldrt", "attribution_cfrt")

RECORD_TYPES: dict[str, RecordType] = {
    t.code: t
    for t in (
        RecordType(
            "screening",
            _("Screening"),
            Screening,
            "site",
            None,
            tuple(enrollment_services.SCREENING_FIELDS),
            ("initials", "date_of_birth", "sex", "consent_date", "screening_date", "ecog", "histology"),
            lambda record: reverse("screening-detail", args=[record.pk]),
            _screening_correct,
        ),
        RecordType(
            "participant",
            _("Participant"),
            Participant,
            "site",
            "pk",
            (
                "enrollment_date",
                "status",
                "withdrawal_date",
                "withdrawal_reason",
                "completion_date",
                "death_date",
                "death_cause",
                "arm",
            ),
            ("enrollment_date", "withdrawal_date", "completion_date", "death_date"),
            lambda record: reverse("participant-detail", args=[record.subject_id]),
        ),
        RecordType(
            "ae",
            _("Adverse event"),
            AdverseEvent,
            "participant__site",
            "participant_id",
            (
                "ctcae_term",
                "grade",
                "onset_date",
                "end_date",
                "ongoing",
                "serious",
                "seriousness_criteria",
                *ATTRIBUTIONS,
                "action_taken",
                "outcome",
                "death_date",
            ),
            ("ctcae_term", "grade", "onset_date", "end_date", "serious", *ATTRIBUTIONS, "outcome", "death_date"),
            lambda record: reverse("ae-detail", args=[record.pk]),
            _ae_correct,
        ),
        RecordType(
            "dose",
            _("Systemic therapy dose"),
            SystemicDose,
            "participant__site",
            "participant_id",
            treatment.DOSE_FIELDS,
            ("cycle", "agent", "administered_on", "dose", "unit", "change"),
            _efficacy_url("dose"),
            _dose_correct,
        ),
        RecordType(
            "radiotherapy",
            _("Radiotherapy course"),
            RadiotherapyCourse,
            "participant__site",
            "participant_id",
            treatment.COURSE_FIELDS,
            ("modality", "start_date", "end_date", "total_dose_gy", "fractions"),
            _efficacy_url("radiotherapy"),
            _course_correct,
        ),
        RecordType(
            "assessment",
            _("Tumour assessment"),
            TumourAssessment,
            "participant__site",
            "participant_id",
            ("assessment_date", "method", "new_lesion", "new_lesion_description", "investigator_response", "comments"),
            ("assessment_date", "method", "new_lesion", "investigator_response"),
            lambda record: reverse("assessment-detail", args=[record.pk]),
            _assessment_correct,
        ),
        RecordType(
            "clinical-progression",
            _("Clinical progression"),
            ClinicalProgression,
            "participant__site",
            "participant_id",
            followup.KINDS["clinical-progression"][1],
            ("progression_date",),
            _efficacy_url("clinical-progression"),
            _simple_correct,
        ),
        RecordType(
            "new-therapy",
            _("New anticancer therapy"),
            NewAnticancerTherapy,
            "participant__site",
            "participant_id",
            followup.KINDS["new-therapy"][1],
            ("start_date", "kind"),
            _efficacy_url("new-therapy"),
            _simple_correct,
        ),
        RecordType(
            "follow-up-contact",
            _("Follow-up contact"),
            FollowUpContact,
            "participant__site",
            "participant_id",
            followup.KINDS["follow-up-contact"][1],
            ("contact_date",),
            _efficacy_url("follow-up-contact"),
            _simple_correct,
        ),
        RecordType(
            "deviation",
            _("Protocol deviation"),
            ProtocolDeviation,
            "site",
            "participant_id",
            deviation_services.DEVIATION_FIELDS,
            ("deviation_date", "category", "important"),
            lambda record: reverse("deviation-detail", args=[record.pk]),
            _deviation_correct,
        ),
    )
}

BY_MODEL: dict[type[Model], RecordType] = {t.model: t for t in RECORD_TYPES.values()}


def type_of(record) -> RecordType | None:
    return BY_MODEL.get(type(record))


def owner_of(record) -> tuple[RecordType, int] | None:
    """The queryable record a written row belongs to: itself, or the tumour assessment of a lesion
    or a lesion measurement (their changes count as the assessment's). None: not a trial record."""
    if isinstance(record, LesionResult):
        return RECORD_TYPES["assessment"], record.assessment_id
    if isinstance(record, Lesion):
        return RECORD_TYPES["assessment"], record.baseline_id
    record_type = type_of(record)
    return (record_type, record.pk) if record_type is not None else None


def participant_id_of(record) -> int | None:
    """The pk of the participant whose casebook holds `record` (None: a screening not enrolled)."""
    if isinstance(record, Participant):
        return record.pk
    if isinstance(record, Screening):
        return Participant.objects.filter(screening_id=record.pk).values_list("pk", flat=True).first()
    if isinstance(record, LesionResult | Lesion):
        # A scan's participant never changes: read once per row object (the guard and the
        # listeners all ask about each lesion measurement a scan writes).
        if "_participant_id" not in record.__dict__:
            scan = record.assessment_id if isinstance(record, LesionResult) else record.baseline_id
            record.__dict__["_participant_id"] = (
                TumourAssessment.objects.filter(pk=scan).values_list("participant_id", flat=True).first()
            )
        return record.__dict__["_participant_id"]
    return getattr(record, "participant_id", None) if type_of(record) is not None else None


def site_id_of(record) -> int:
    record_type = type_of(record)
    obj = record
    for part in record_type.site_path.split("__")[:-1]:
        obj = getattr(obj, part)
    return getattr(obj, f"{record_type.site_path.split('__')[-1]}_id")


def summary(record) -> str:
    """A few words that tell one record from its neighbours on a list (e.g. "Nausea, grade 2, onset
    2026-11-20"): what a monitor needs beside the record's number to find it in the hospital file."""
    if isinstance(record, Screening):
        return record.screening_number
    if isinstance(record, Participant):
        return record.subject_id
    if isinstance(record, AdverseEvent):
        return _("%(term)s, grade %(grade)d, onset %(onset)s") % {
            "term": record.term,
            "grade": record.grade,
            "onset": record.onset_date.isoformat(),
        }
    if isinstance(record, SystemicDose):
        return _("cycle %(cycle)d, %(agent)s, %(day)s") % {
            "cycle": record.cycle,
            "agent": record.get_agent_display(),
            "day": record.administered_on.isoformat(),
        }
    if isinstance(record, TumourAssessment):
        day = record.assessment_date.isoformat()
        return _("baseline, %(day)s") % {"day": day} if record.baseline else day
    day = {
        RadiotherapyCourse: "start_date",
        ClinicalProgression: "progression_date",
        NewAnticancerTherapy: "start_date",
        FollowUpContact: "contact_date",
        ProtocolDeviation: "deviation_date",
    }.get(type(record))
    return getattr(record, day).isoformat() if day else ""
