"""The PI safety dashboard (SPEC §7): one summary from each app's aggregate selectors.

Every figure comes from an aggregate query, so the page costs the same number of queries
with 10 participants or 2,000 and 20,000 AEs.
"""

from dataclasses import dataclass, field

from efficacy.selectors import treatment_starts
from enrollment import selectors as enrollment
from randomization import selectors as randomization
from safety import selectors as safety
from scr_escc.alerts import alerts_needing_attention
from scr_escc.selectors import get_study, stopping_rule_level


@dataclass
class DashboardSummary:
    study: object
    count: int
    threshold: int
    level: str
    events: list
    run_in_enrolled: int
    run_in_observed: int
    funnel: dict
    flow: dict
    arms: dict
    max_grades: dict
    related_by_term: list
    saes: list
    sae_total: int
    deaths: list
    death_total: int
    awaiting_sign_off: list
    grade_counts: dict
    timeline: list
    by_site: list
    alerts: list
    alert_total: int
    site: object = None
    charts: dict = field(default_factory=dict)


def dashboard_summary(*, site=None) -> DashboardSummary:
    study = get_study()
    flow = enrollment.participant_flow(site=site)
    run_in = flow.get("run_in", {})
    sae_rows, sae_total = safety.sae_listing(site=site)
    death_rows, death_total = safety.deaths(site=site)
    events = safety.stopping_rule_events()
    _days_from_first_dose([*events, *death_rows])
    alerts = alerts_needing_attention()
    return DashboardSummary(
        study=study,
        count=study.treatment_related_grade5,
        threshold=study.stopping_threshold,
        level=stopping_rule_level(study.treatment_related_grade5, study.stopping_threshold),
        events=events,
        run_in_enrolled=study.run_in_enrolled,
        run_in_observed=run_in.get("on_study", 0),
        funnel=enrollment.screening_funnel(site=site),
        flow=flow,
        arms=randomization.arm_counts(site=site),
        max_grades=safety.max_grade_by_group(site=site),
        related_by_term=safety.related_grade3plus_by_term(site=site),
        saes=sae_rows,
        sae_total=sae_total,
        deaths=death_rows,
        death_total=death_total,
        awaiting_sign_off=safety.deaths_awaiting_sign_off(site=site),
        grade_counts=safety.ae_counts_by_grade(site=site),
        timeline=enrollment.enrollment_timeline(site=site),
        by_site=enrollment.enrollment_by_site(site=site),
        alerts=list(alerts.order_by("-created_at")[:20]),
        alert_total=alerts.count(),
        site=site,
    )


def _days_from_first_dose(deaths) -> None:
    """Each death's days from the participant's first dose (None: no dose recorded)."""
    starts = treatment_starts({ae.participant_id for ae in deaths})
    for ae in deaths:
        start = starts.get(ae.participant_id)
        ae.days_from_first_dose = (ae.death_date - start).days if start and ae.death_date else None


# Sections the apps above reports add to the dashboard (e.g. monitoring's query counts):
# `render(request, site) -> str` (HTML, "" for nothing), in `order`.
_PANELS: dict[str, tuple[int, object]] = {}


def register_dashboard_panel(*, name: str, order: int, render) -> None:
    _PANELS[name] = (order, render)


def dashboard_panels(request, site) -> list[str]:
    rendered = (render(request, site) for _order, render in sorted(_PANELS.values(), key=lambda p: p[0]))
    return [html for html in rendered if html]
