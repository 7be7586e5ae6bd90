"""The CONSORT-style flow diagram of the PI dashboard, drawn as plain SVG (SPEC §7).

The diagram is data: `consort_boxes()` says what each box shows and where, `ARROWS` which
box leads to which; `consort_svg()` only draws them.
"""

from dataclasses import dataclass
from html import escape

from django.utils.translation import gettext as _

BOX_W, BOX_H = 250, 58
LINE_H = 17
CENTRE_X, LEFT_X, RIGHT_X, ARM_OFFSET = 330, 40, 620, 140
GAP = 40
SHOWN_CRITERIA = 8


@dataclass(frozen=True)
class Box:
    key: str
    x: int
    y: int
    lines: list[str]
    link: str = ""  # key of the dashboard link the box opens
    strong: bool = False

    @property
    def height(self) -> int:
        return max(BOX_H, 14 + LINE_H * len(self.lines))


# (from, to, side): a side arrow leaves the right edge, the others go down.
ARROWS = (
    ("screened", "not_eligible", True),
    ("screened", "eligible", False),
    ("eligible", "run_in", False),
    ("eligible", "randomized", False),
    ("randomized", "A", False),
    ("randomized", "B", False),
    ("run_in", "run_in_outcome", False),
    ("A", "A_outcome", False),
    ("B", "B_outcome", False),
)


def _failed_lines(funnel: dict) -> list[str]:
    failed = funnel["failed_by_criterion"]
    lines = [_("Not eligible: %(n)s") % {"n": funnel["not_eligible"]}]
    lines += [f"{code}: {n}" for code, n in failed[:SHOWN_CRITERIA]]
    if len(failed) > SHOWN_CRITERIA:
        lines.append(_("other criteria: %(n)s") % {"n": sum(n for _code, n in failed[SHOWN_CRITERIA:])})
    return lines


def _outcome_lines(group: dict, title: str) -> list[str]:
    return [
        title,
        _("on study %(n)s · completed %(c)s") % {"n": group.get("on_study", 0), "c": group.get("completed", 0)},
        _("withdrawn %(w)s · deceased %(d)s") % {"w": group.get("withdrawn", 0), "d": group.get("deceased", 0)},
    ]


def consort_boxes(funnel: dict, flow: dict) -> list[Box]:
    """Screened → not eligible (per criterion) → run-in / randomized → Arm A / Arm B → outcomes."""
    run_in, randomized = flow.get("run_in", {}), flow.get("randomized", {})
    arm_a, arm_b, waiting = flow.get("A", {}), flow.get("B", {}), flow.get("not_randomized", {})
    not_eligible = Box("not_eligible", CENTRE_X + BOX_W + 50, 40, _failed_lines(funnel), "not_eligible")
    y_eligible = max(110, not_eligible.y + not_eligible.height + 16)
    y_cohort = y_eligible + BOX_H + GAP
    y_arm = y_cohort + BOX_H + GAP
    y_outcome = y_arm + BOX_H + GAP
    arm_a_x, arm_b_x = RIGHT_X - ARM_OFFSET, RIGHT_X + ARM_OFFSET
    screened = [_("Assessed for eligibility"), _("%(n)s patients screened") % {"n": funnel["screened"]}]
    eligible = [
        _("Eligible: %(n)s") % {"n": funnel["eligible"]},
        _("not yet enrolled: %(n)s") % {"n": funnel["eligible_not_enrolled"]},
    ]
    run_in_lines = [
        _("Enrolled, safety run-in: %(n)s") % {"n": run_in.get("total", 0)},
        _("LDRT + CFRT + PD-1 + chemo"),
    ]
    randomized_lines = [
        _("Enrolled, randomized phase: %(n)s") % {"n": randomized.get("total", 0)},
        _("awaiting randomization: %(n)s") % {"n": waiting.get("total", 0)},
    ]
    return [
        Box("screened", CENTRE_X, 10, screened, "screened", strong=True),
        not_eligible,
        Box("eligible", CENTRE_X, y_eligible, eligible, "eligible"),
        Box("run_in", LEFT_X, y_cohort, run_in_lines, "run_in", strong=True),
        Box("randomized", RIGHT_X, y_cohort, randomized_lines, "randomized", strong=True),
        Box("A", arm_a_x, y_arm, [_("Arm A: %(n)s") % {"n": arm_a.get("total", 0)}, _("experimental")], "A"),
        Box("B", arm_b_x, y_arm, [_("Arm B: %(n)s") % {"n": arm_b.get("total", 0)}, _("control")], "B"),
        Box("run_in_outcome", LEFT_X, y_outcome, _outcome_lines(run_in, _("Run-in outcome")), "run_in"),
        Box("A_outcome", arm_a_x, y_outcome, _outcome_lines(arm_a, _("Arm A outcome")), "A"),
        Box("B_outcome", arm_b_x, y_outcome, _outcome_lines(arm_b, _("Arm B outcome")), "B"),
    ]


def _draw_box(box: Box, href: str) -> str:
    text = "".join(
        f'<text x="{box.x + BOX_W / 2}" y="{box.y + 22 + i * LINE_H}" text-anchor="middle" '
        f'font-weight="{"600" if i == 0 else "400"}" font-size="{13 if i == 0 else 11.5}">{escape(line)}</text>'
        for i, line in enumerate(box.lines)
    )
    rect = (
        f'<rect x="{box.x}" y="{box.y}" width="{BOX_W}" height="{box.height}" rx="6" '
        f'fill="{"#e7f1ff" if box.strong else "#fff"}" stroke="#495057" stroke-width="1.2"/>'
    )
    return f'<a href="{escape(href)}">{rect}{text}</a>' if href else rect + text


def _draw_arrow(source: Box, target: Box, side: bool) -> str:
    if side:
        x1, y1, x2, y2 = source.x + BOX_W, source.y + 30, target.x - 2, target.y + 20
    else:
        x1, y1 = source.x + BOX_W / 2, source.y + BOX_H
        x2, y2 = target.x + BOX_W / 2, target.y - 2
    return (
        f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#495057" stroke-width="1.4" marker-end="url(#arrow)"/>'
    )


def consort_svg(summary, *, links: dict[str, str] | None = None) -> str:
    """The diagram for a dashboard summary; each box links to its list when `links` are given."""
    links = links or {}
    boxes = {box.key: box for box in consort_boxes(summary.funnel, summary.flow)}
    parts = [_draw_box(box, links.get(box.link, "")) for box in boxes.values()]
    parts += [_draw_arrow(boxes[a], boxes[b], side) for a, b, side in ARROWS]
    width = RIGHT_X + ARM_OFFSET + BOX_W + 20
    height = max(box.y + box.height for box in boxes.values()) + GAP
    label = escape(_("CONSORT flow diagram"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{label}" font-family="DejaVu Sans, Arial, sans-serif" '
        f'class="consort" data-testid="consort">'
        # Scoped to this diagram: inline SVG styles apply to the whole page.
        "<style>svg.consort a { text-decoration: none; } "
        "svg.consort a:hover rect { stroke: #0d6efd; stroke-width: 2; }</style>"
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#495057"/></marker></defs>'
        + "".join(parts)
        + "</svg>"
    )
