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


def study_status() -> StudyStatus:
    """The figures of GET /api/v1/study/ and of the phase banner."""
    from enrollment.selectors import run_in_enrolled_count

    study = get_study()
    return StudyStatus(
        protocol=study.protocol,
        phase=study.phase,
        phase_label=study.get_phase_display(),
        run_in_enrolled=run_in_enrolled_count(),
        run_in_min=study.run_in_min,
        run_in_max=study.run_in_max,
        treatment_related_grade5=study.treatment_related_grade5,
        stopping_threshold=study.stopping_threshold,
    )
