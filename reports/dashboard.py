"""The PI safety dashboard (SPEC §7): one summary from each app's aggregate selectors.

Every figure comes from an aggregate query, so the page costs the same number of queries
with 10 participants or 2,000 and 20,000 AEs.
"""

from dataclasses import dataclass, field
from html import escape

from django.utils.translation import gettext as _

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
    alerts = alerts_needing_attention()
    return DashboardSummary(
        study=study,
        count=study.treatment_related_grade5,
        threshold=study.stopping_threshold,
        level=stopping_rule_level(study.treatment_related_grade5, study.stopping_threshold),
        events=safety.stopping_rule_events(),
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
        grade_counts=safety.ae_counts_by_grade(site=site),
        timeline=enrollment.enrollment_timeline(site=site),
        by_site=enrollment.enrollment_by_site(site=site),
        alerts=list(alerts.order_by("-created_at")[:20]),
        alert_total=alerts.count(),
        site=site,
    )


# --- CONSORT-style flow diagram, drawn as plain SVG ---------------------------------------

BOX_W, BOX_H = 250, 58


def _box(x: int, y: int, lines: list[str], *, href: str = "", strong: bool = False) -> str:
    text = "".join(
        f'<text x="{x + BOX_W / 2}" y="{y + 22 + i * 17}" text-anchor="middle" '
        f'font-weight="{"600" if i == 0 else "400"}" font-size="{13 if i == 0 else 11.5}">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    height = max(BOX_H, 14 + 17 * len(lines))
    rect = (
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{height}" rx="6" fill="{"#e7f1ff" if strong else "#fff"}" '
        f'stroke="#495057" stroke-width="1.2"/>'
    )
    inner = rect + text
    return f'<a href="{escape(href)}">{inner}</a>' if href else inner


def _arrow(x1, y1, x2, y2) -> str:
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#495057" stroke-width="1.4" marker-end="url(#arrow)"/>'
    )


def consort_svg(summary: DashboardSummary, *, links: dict[str, str] | None = None) -> str:
    """Screened → not eligible (per criterion) → run-in / randomized → Arm A / Arm B → outcomes."""
    links = links or {}
    funnel, flow = summary.funnel, summary.flow
    failed = funnel["failed_by_criterion"]
    failed_lines = [_("Not eligible: %(n)s") % {"n": funnel["not_eligible"]}]
    failed_lines += [f"{code}: {n}" for code, n in failed[:8]]
    if len(failed) > 8:
        failed_lines.append(_("other criteria: %(n)s") % {"n": sum(n for _, n in failed[8:])})

    def outcome_lines(group: dict, title: str) -> list[str]:
        return [
            title,
            _("on study %(n)s · completed %(c)s") % {"n": group.get("on_study", 0), "c": group.get("completed", 0)},
            _("withdrawn %(w)s · deceased %(d)s") % {"w": group.get("withdrawn", 0), "d": group.get("deceased", 0)},
        ]

    run_in, randomized = flow.get("run_in", {}), flow.get("randomized", {})
    arm_a, arm_b, waiting = flow.get("A", {}), flow.get("B", {}), flow.get("not_randomized", {})
    parts = []
    cx = 330  # centre column x
    parts.append(
        _box(
            cx,
            10,
            [_("Assessed for eligibility"), _("%(n)s patients screened") % {"n": funnel["screened"]}],
            href=links.get("screened", ""),
            strong=True,
        )
    )
    side_h = max(BOX_H, 14 + 17 * len(failed_lines))
    parts.append(_box(cx + BOX_W + 50, 40, failed_lines, href=links.get("not_eligible", "")))
    parts.append(_arrow(cx + BOX_W, 40, cx + BOX_W + 48, 60))
    y2 = max(110, 40 + side_h + 16)
    parts.append(
        _box(
            cx,
            y2,
            [
                _("Eligible: %(n)s") % {"n": funnel["eligible"]},
                _("not yet enrolled: %(n)s") % {"n": funnel["eligible_not_enrolled"]},
            ],
            href=links.get("eligible", ""),
        )
    )
    parts.append(_arrow(cx + BOX_W / 2, 10 + BOX_H, cx + BOX_W / 2, y2 - 2))
    y3 = y2 + BOX_H + 40
    left_x, right_x = 40, 620
    parts.append(
        _box(
            left_x,
            y3,
            [_("Enrolled, safety run-in: %(n)s") % {"n": run_in.get("total", 0)}, _("LDRT + CFRT + PD-1 + chemo")],
            href=links.get("run_in", ""),
            strong=True,
        )
    )
    parts.append(
        _box(
            right_x,
            y3,
            [
                _("Enrolled, randomized phase: %(n)s") % {"n": randomized.get("total", 0)},
                _("awaiting randomization: %(n)s") % {"n": waiting.get("total", 0)},
            ],
            href=links.get("randomized", ""),
            strong=True,
        )
    )
    parts.append(_arrow(cx + BOX_W / 2, y2 + BOX_H, left_x + BOX_W / 2, y3 - 2))
    parts.append(_arrow(cx + BOX_W / 2, y2 + BOX_H, right_x + BOX_W / 2, y3 - 2))
    y4 = y3 + BOX_H + 40
    parts.append(
        _box(
            right_x - 140,
            y4,
            [_("Arm A: %(n)s") % {"n": arm_a.get("total", 0)}, _("experimental")],
            href=links.get("A", ""),
        )
    )
    parts.append(
        _box(
            right_x + 140, y4, [_("Arm B: %(n)s") % {"n": arm_b.get("total", 0)}, _("control")], href=links.get("B", "")
        )
    )
    parts.append(_arrow(right_x + BOX_W / 2, y3 + BOX_H, right_x - 140 + BOX_W / 2, y4 - 2))
    parts.append(_arrow(right_x + BOX_W / 2, y3 + BOX_H, right_x + 140 + BOX_W / 2, y4 - 2))
    y5 = y4 + BOX_H + 40
    parts.append(_box(left_x, y5, outcome_lines(run_in, _("Run-in outcome")), href=links.get("run_in", "")))
    parts.append(_arrow(left_x + BOX_W / 2, y3 + BOX_H, left_x + BOX_W / 2, y5 - 2))
    parts.append(_box(right_x - 140, y5, outcome_lines(arm_a, _("Arm A outcome")), href=links.get("A", "")))
    parts.append(_box(right_x + 140, y5, outcome_lines(arm_b, _("Arm B outcome")), href=links.get("B", "")))
    parts.append(_arrow(right_x - 140 + BOX_W / 2, y4 + BOX_H, right_x - 140 + BOX_W / 2, y5 - 2))
    parts.append(_arrow(right_x + 140 + BOX_W / 2, y4 + BOX_H, right_x + 140 + BOX_W / 2, y5 - 2))
    width, height = right_x + 140 + BOX_W + 20, y5 + BOX_H + 40
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(_("CONSORT flow diagram"))}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'class="consort" data-testid="consort">'
        # Scoped to this diagram: inline SVG styles apply to the whole page.
        "<style>svg.consort a { text-decoration: none; } "
        "svg.consort a:hover rect { stroke: #0d6efd; stroke-width: 2; }</style>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#495057"/></marker></defs>'
        + "".join(parts)
        + "</svg>"
    )
