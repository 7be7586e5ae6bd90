"""Reads of the trial-wide core."""

from dataclasses import dataclass

from django.db.models import QuerySet

from scr_escc.models import Site, Study
from scr_escc.scoping import scope_to_user


def get_study() -> Study:
    """The study row; created with the protocol's defaults by the first migration."""
    return Study.objects.get(pk=1)


def sites_visible_to(user) -> QuerySet[Site]:
    return scope_to_user(Site.objects.all(), user, site_field="pk")


@dataclass(frozen=True)
class StudyStatus:
    protocol: str
    phase: str
    phase_label: str
    run_in_enrolled: int
    run_in_min: int
    run_in_max: int
    treatment_related_grade5: int
    stopping_threshold: int
    stopping_level: str
    resume_requested: bool


def stopping_rule_level(count: int, threshold: int) -> str:
    """How close the count is to the threshold, for its colour: ok, caution, warning, danger."""
    if count >= threshold:
        return "danger"
    if count and count >= threshold - 1:
        return "warning"
    return "ok" if count == 0 else "caution"


def study_status() -> StudyStatus:
    """The figures of GET /api/v1/study/ and of the phase banner, all from the study row."""
    study = get_study()
    return StudyStatus(
        protocol=study.protocol,
        phase=study.phase,
        phase_label=study.get_phase_display(),
        run_in_enrolled=study.run_in_enrolled,
        run_in_min=study.run_in_min,
        run_in_max=study.run_in_max,
        treatment_related_grade5=study.treatment_related_grade5,
        stopping_threshold=study.stopping_threshold,
        stopping_level=stopping_rule_level(study.treatment_related_grade5, study.stopping_threshold),
        resume_requested=study.resume_requested_at is not None,
    )
