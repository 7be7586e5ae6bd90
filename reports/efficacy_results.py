"""The Efficacy page's numbers: PFS and OS of the randomized phase (pooled, and by arm for those
allowed to see it) and of the run-in cohort, from the derived time-to-event rows.

The access rule lives here, once: results by arm are computed only for a user whom
`scr_escc.results_access.may_see_by_arm` allows — the page, the API and the curve CSV all call
`efficacy_results()`, so none of them can show what it did not compute.
"""

import csv
import io
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from efficacy.endpoint_data import EndpointRow, endpoint_rows
from enrollment.models import Cohort
from reports import survival
from reports.km_chart import km_svg
from scr_escc.results_access import may_see_by_arm

# Shown on the page and in the charts, in the reader's language.
ENDPOINTS = {"pfs": gettext_lazy("Progression-free survival"), "os": gettext_lazy("Overall survival")}
Y_LABELS = {"pfs": gettext_lazy("Progression-free (%)"), "os": gettext_lazy("Alive (%)")}
ARM_LABELS = {
    "A": gettext_lazy("Arm A (experimental)"),
    "B": gettext_lazy("Arm B (control)"),
    "all": gettext_lazy("All randomized"),
    "run_in": gettext_lazy("Run-in cohort"),
}


@dataclass(frozen=True)
class Analysis:
    endpoint: str
    title: str
    curves: list[survival.Curve]
    comparison: survival.Comparison | None
    times: list[float]
    svg: str


@dataclass(frozen=True)
class EfficacyResults:
    by_arm_visible: bool
    pooled: dict[str, Analysis]  # randomized phase, arms pooled
    by_arm: dict[str, Analysis] | None  # None unless the user may see results by arm
    run_in: dict[str, Analysis]
    randomized_n: int
    run_in_n: int


def _subjects(rows: list[EndpointRow], endpoint: str, *, group=None) -> list[survival.Subject]:
    return [
        survival.Subject(
            group=group or row.arm or "", stratum=row.stratum, days=getattr(row, endpoint).days,
            event=getattr(row, endpoint).event,
        )
        for row in rows
    ]  # fmt: skip


def _times(subjects: list[survival.Subject]) -> list[float]:
    longest = max((s.days for s in subjects), default=0)
    step = 30 if longest <= 180 else 90 if longest <= 720 else 180
    return survival.at_risk_times(longest, step=step)


def _analysis(endpoint: str, subjects, groups: list[str], title: str, *, compare: bool = False) -> Analysis:
    times = _times(subjects)
    curves = [survival.curve(subjects, group, at_risk_times=times) for group in groups]
    comparison = survival.compare(subjects) if compare else None
    x_label = _("Days since randomization") if "run_in" not in groups else _("Days since enrollment")
    y_label = str(Y_LABELS[endpoint])
    svg = km_svg(curves, times=times, title=title, x_label=x_label, y_label=y_label, labels=ARM_LABELS)
    return Analysis(endpoint, title, curves, comparison, times, svg)


def efficacy_results(user) -> EfficacyResults:
    """What `user` may see of the efficacy results; by arm only when the access rule allows it."""
    if not user.has_perm("scr_escc.view_efficacy_results"):
        raise PermissionDenied
    randomized = endpoint_rows(cohort=Cohort.RANDOMIZED)
    run_in = endpoint_rows(cohort=Cohort.RUN_IN)
    visible = may_see_by_arm(user)
    pooled, by_arm, early = {}, {} if visible else None, {}
    for endpoint, name in ENDPOINTS.items():
        names = {"endpoint": name}
        pooled[endpoint] = _analysis(
            endpoint,
            _subjects(randomized, endpoint, group="all"),
            ["all"],
            _("%(endpoint)s: randomized, arms pooled") % names,
        )
        early[endpoint] = _analysis(
            endpoint, _subjects(run_in, endpoint, group="run_in"), ["run_in"], _("%(endpoint)s: run-in cohort") % names
        )
        if visible:
            by_arm[endpoint] = _analysis(
                endpoint, _subjects(randomized, endpoint), ["A", "B"], _("%(endpoint)s by arm") % names, compare=True
            )
    return EfficacyResults(visible, pooled, by_arm, early, len(randomized), len(run_in))


def curves_csv(results: EfficacyResults) -> str:
    """The curve data of every analysis the user may see: one row per step of each curve."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["ENDPOINT", "COHORT", "GROUP", "TIME", "SURVIVAL", "LOWER95", "UPPER95"])
    sets = [("randomized_pooled", results.pooled), ("run_in", results.run_in)]
    if results.by_arm is not None:
        sets.append(("randomized_by_arm", results.by_arm))
    for cohort, analyses in sets:
        for endpoint, analysis in analyses.items():
            for c in analysis.curves:
                for time, surv, lower, upper in c.steps:
                    writer.writerow(
                        [endpoint.upper(), cohort, c.group, f"{time:g}", f"{surv:.6f}", f"{lower:.6f}", f"{upper:.6f}"]
                    )
    return out.getvalue()
