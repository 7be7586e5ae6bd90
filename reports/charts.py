"""Charts for the PI dashboard, written directly as SVG on the server (no JavaScript, no CDN,
prints well), like the CONSORT diagram.

Plain string building, well under a millisecond a chart: the dashboard draws them on every
view, so they always show the data as they stand. (They were drawn with matplotlib, about
60 ms a chart; under steady data entry its cache rarely hit.)

Each chart: a `<title>` and `aria-label` for screen readers, integer axes from zero, and a
legend where colours carry meaning.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from unicodedata import east_asian_width

from django.utils.translation import gettext as _

COLORS = {
    "run_in": "#0d6efd",
    "randomized": "#198754",
    "grade": ["#adb5bd", "#ffc107", "#fd7e14", "#dc3545", "#212529"],
}
TEXT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11" fill="#212529"'
MUTED = "#6c757d"


@dataclass(frozen=True)
class Frame:
    """The plotting area inside the SVG: x from `left` to `right`, y from `bottom` up to `top`."""

    width: int
    height: int
    left: int = 44
    right_margin: int = 12
    top: int = 30
    bottom_margin: int = 48

    @property
    def right(self) -> int:
        return self.width - self.right_margin

    @property
    def bottom(self) -> int:
        return self.height - self.bottom_margin

    def y(self, value: float, maximum: int) -> float:
        return self.bottom - (self.bottom - self.top) * value / maximum


def integer_ticks(highest: int, most: int = 5) -> list[int]:
    """0 … a round number ≥ `highest`, in at most `most` + 1 steps of 1, 2 or 5 × 10ⁿ."""
    highest = max(highest, 1)
    step = 1
    while True:
        for factor in (1, 2, 5):
            if highest <= step * factor * most:
                size = step * factor
                top = -(-highest // size) * size
                return list(range(0, top + 1, size))
        step *= 10


def text_width(text: str, per_char: int = 7) -> int:
    """About how wide `text` is drawn: `per_char` a character, twice that for a CJK (wide) one."""
    return per_char * sum(2 if east_asian_width(ch) in "WF" else 1 for ch in text)


def _frame(width: int, ticks: list[int], **margins) -> Frame:
    """A frame whose left margin fits the widest tick label and the axis title beside it."""
    return Frame(width=width, height=260, left=26 + 7 * len(str(ticks[-1])), **margins)


def _svg(frame: Frame, title: str, body: list[str]) -> str:
    label = escape(title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {frame.width} {frame.height}" '
        f'width="{frame.width}" height="{frame.height}" role="img" aria-label="{label}">'
        f"<title>{label}</title>" + "".join(body) + "</svg>"
    )


def _empty(title: str, message: str) -> str:
    return (
        f'<svg role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" width="360" height="60">'
        f'<text x="10" y="35" font-size="13" fill="{MUTED}">{escape(message)}</text></svg>'
    )


def _y_axis(frame: Frame, ticks: list[int], label: str) -> list[str]:
    parts = []
    for tick in ticks:
        y = frame.y(tick, ticks[-1])
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6" stroke-width="1"/>'
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" {TEXT}>{tick}</text>'
        )
    middle = (frame.top + frame.bottom) / 2
    parts.append(
        f'<text transform="translate(11 {middle:.1f}) rotate(-90)" text-anchor="middle" {TEXT}>{escape(label)}</text>'
    )
    parts.append(
        f'<line x1="{frame.left}" x2="{frame.right}" y1="{frame.bottom}" y2="{frame.bottom}" stroke="{MUTED}"/>'
    )
    return parts


def _legend(frame: Frame, entries: list[tuple[str, str]]) -> list[str]:
    parts, x = [], frame.left
    for label, color in entries:
        parts.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{color}"/>'
            f'<text x="{x + 16}" y="18" {TEXT}>{escape(label)}</text>'
        )
        x += 28 + text_width(label)
    return parts


def cumulative_enrollment(timeline: list[tuple[date, str, int]], *, labels: dict[str, str]) -> str:
    """One step line per cohort: participants enrolled so far, by enrollment date."""
    title = _("Cumulative enrollment by cohort")
    if not timeline:
        return _empty(title, _("No one enrolled yet."))
    per_cohort: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for day, cohort, n in timeline:
        per_cohort[cohort].append((day, n))
    # From zero the day before the first enrollment to the day after the last, so even a
    # single day of enrollment draws a visible step.
    first, last = timeline[0][0] - timedelta(days=1), timeline[-1][0] + timedelta(days=1)
    span = (last - first).days
    totals = {cohort: sum(n for _day, n in points) for cohort, points in per_cohort.items()}
    ticks = integer_ticks(max(totals.values()))
    frame = _frame(620, ticks, bottom_margin=30)

    def x(day: date) -> float:
        return frame.left + (frame.right - frame.left) * (day - first).days / span

    body = _y_axis(frame, ticks, _("participants"))
    steps = min(5, span)
    for i in range(steps + 1):
        day = first + timedelta(days=round(i * span / steps))
        anchor = "start" if i == 0 else "end" if i == steps else "middle"
        body.append(
            f'<line x1="{x(day):.1f}" x2="{x(day):.1f}" y1="{frame.bottom}" y2="{frame.bottom + 4}" stroke="{MUTED}"/>'
            f'<text x="{x(day):.1f}" y="{frame.bottom + 16}" text-anchor="{anchor}" {TEXT}>{day.isoformat()}</text>'
        )
    for cohort, points in sorted(per_cohort.items()):
        path, total = [f"M{x(first):.1f},{frame.bottom}"], 0
        for day, n in points:
            total += n
            path.append(f"H{x(day):.1f}V{frame.y(total, ticks[-1]):.1f}")
        path.append(f"H{x(last):.1f}")
        color = COLORS.get(cohort, MUTED)
        body.append(f'<path d="{"".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>')
    body += _legend(frame, [(labels.get(c, c), COLORS.get(c, MUTED)) for c in sorted(per_cohort)])
    return _svg(frame, title, body)


def _bars(frame: Frame, categories: list[str]) -> tuple[float, float]:
    """The x of the first bar and the distance between bars; bars are 60% of that distance."""
    slot = (frame.right - frame.left) / len(categories)
    return frame.left + slot * 0.2, slot


def enrollment_by_site(rows: list[tuple[str, str, int]], *, labels: dict[str, str]) -> str:
    """Stacked bars: run-in and randomized participants per site."""
    title = _("Enrollment by site")
    if not rows:
        return _empty(title, _("No one enrolled yet."))
    sites = sorted({site for site, _cohort, _n in rows})
    counts = {(site, cohort): 0 for site in sites for cohort in ("run_in", "randomized")}
    for site, cohort, n in rows:
        counts[(site, cohort)] = counts.get((site, cohort), 0) + n
    ticks = integer_ticks(max(sum(counts[(s, c)] for c in ("run_in", "randomized")) for s in sites))
    frame = _frame(300, ticks, bottom_margin=30)
    start, slot = _bars(frame, sites)
    body = _y_axis(frame, ticks, _("participants"))
    for i, site in enumerate(sites):
        x, below = start + i * slot, 0
        for cohort in ("run_in", "randomized"):
            n = counts[(site, cohort)]
            if n:
                top, bottom = frame.y(below + n, ticks[-1]), frame.y(below, ticks[-1])
                body.append(
                    f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.6:.1f}" height="{bottom - top:.1f}" '
                    f'fill="{COLORS[cohort]}"><title>{escape(site)}: {n}</title></rect>'
                )
                below += n
        body.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{frame.bottom + 16}" text-anchor="middle" {TEXT}>{escape(site)}</text>'
        )
    body += _legend(frame, [(labels.get(c, c), COLORS[c]) for c in ("run_in", "randomized")])
    return _svg(frame, title, body)


def aes_by_grade(counts: dict[int, int]) -> str:
    """One bar per CTCAE grade, its count written on top."""
    title = _("Adverse events by CTCAE grade")
    if not any(counts.values()):
        return _empty(title, _("No adverse events recorded."))
    grades = sorted(counts)
    ticks = integer_ticks(max(counts.values()))
    frame = _frame(300, ticks, top=20, bottom_margin=30)
    start, slot = _bars(frame, [str(g) for g in grades])
    body = _y_axis(frame, ticks, _("events"))
    for i, grade in enumerate(grades):
        x, n = start + i * slot, counts[grade]
        top = frame.y(n, ticks[-1])
        color = COLORS["grade"][min(grade, 5) - 1]
        body.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.6:.1f}" height="{frame.bottom - top:.1f}" '
            f'fill="{color}"/>'
            f'<text x="{x + slot * 0.3:.1f}" y="{top - 3:.1f}" text-anchor="middle" {TEXT}>{n}</text>'
            f'<text x="{x + slot * 0.3:.1f}" y="{frame.bottom + 16}" text-anchor="middle" {TEXT}>G{grade}</text>'
        )
    return _svg(frame, title, body)
