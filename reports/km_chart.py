"""Kaplan–Meier curves as server-side SVG, in the manner of reports/charts.py: no JavaScript,
no CDN, a `<title>` and `aria-label` for screen readers.

One step line per group, told apart by colour *and* dash pattern (so a grey printout still
reads), censored subjects as short vertical ticks, the y axis 0–100 %, x ticks at the given
times and under the plot the number at risk at those same times, one row per group.
"""

from collections.abc import Sequence
from html import escape

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from reports.charts import MUTED, TEXT, Frame, _empty, _svg, text_width
from reports.survival import Curve

WIDTH = 640  # fits a half-width card at 1366 px (about 630 px inside) without shrinking the 12 px text
PLOT_HEIGHT = 250
ROW = 17  # height of a legend or number-at-risk row
# Dark enough to tell from the grid, apart in hue, and each with its own dash for grey print.
STYLES = [("#0b5ed7", ""), ("#b02a37", "7 4"), ("#146c43", "2 3"), ("#6f42c1", "9 3 2 3"), ("#495057", "4 2")]
FONT = TEXT.replace('font-size="11" fill="#212529"', 'font-size="12"')
LABEL = FONT + ' fill="#212529"'
AXIS = LABEL  # tick labels and axis titles: 12 px too (reports/charts.py uses 11 px)
MAX_LABEL = 24  # characters of a group label in the number-at-risk table


def _fmt(days: float | None) -> str:
    return pgettext("median survival not reached", "NR") if days is None else f"{days:g}"


def _legend_text(curve: Curve, label: str) -> str:
    if curve.median is None:
        median = _("median %(median)s") % {"median": _fmt(curve.median)}
    else:
        median = _("median %(median)s (95%% CI %(lower)s–%(upper)s)") % {
            "median": _fmt(curve.median),
            "lower": _fmt(curve.median_lower),
            "upper": _fmt(curve.median_upper),
        }
    return _("%(label)s: n=%(n)s, %(events)s events, %(median)s") % {
        "label": label,
        "n": curve.n,
        "events": curve.events,
        "median": median,
    }


def _short(label: str) -> str:
    """At most MAX_LABEL characters (a wide CJK character counting two)."""
    if text_width(label, 1) <= MAX_LABEL:
        return label
    while text_width(label, 1) > MAX_LABEL - 1:
        label = label[:-1]
    return label + "…"


def _legend(frame: Frame, entries: list[tuple[str, tuple[str, str]]]) -> list[str]:
    """A sample of each line (colour and dash) with its text, one row per group above the plot."""
    parts = []
    for i, (text, (color, dash)) in enumerate(entries):
        y = 18 + i * ROW
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.left + 30}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" '
            f'stroke-width="2.5" stroke-dasharray="{dash or "none"}"/>'
            f'<text x="{frame.left + 38}" y="{y}" {LABEL}>{escape(text)}</text>'
        )
    return parts


def _axes(frame: Frame, times: Sequence[float], x, x_label: str, y_label: str) -> list[str]:
    parts = []
    for pct in (0, 25, 50, 75, 100):
        y = frame.y(pct, 100)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dee2e6"/>'
            f'<text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end" {AXIS}>{pct}</text>'
        )
    middle = (frame.top + frame.bottom) / 2
    rotate = f"translate({frame.left - 40} {middle:.1f}) rotate(-90)"
    parts.append(
        f'<text transform="{rotate}" text-anchor="middle" {AXIS}>{escape(y_label)}</text>'
        f'<line x1="{frame.left}" x2="{frame.right}" y1="{frame.bottom}" y2="{frame.bottom}" stroke="{MUTED}"/>'
        f'<line x1="{frame.left}" x2="{frame.left}" y1="{frame.top}" y2="{frame.bottom}" stroke="{MUTED}"/>'
    )
    for t in times:
        parts.append(
            f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{frame.bottom}" y2="{frame.bottom + 4}" stroke="{MUTED}"/>'
            f'<text x="{x(t):.1f}" y="{frame.bottom + 16}" text-anchor="middle" class="x-tick" {AXIS}>{t:g}</text>'
        )
    parts.append(
        f'<text x="{(frame.left + frame.right) / 2:.1f}" y="{frame.bottom + 32}" text-anchor="middle" {AXIS}>'
        f"{escape(x_label)}</text>"
    )
    return parts


def _curve(frame: Frame, curve: Curve, x, style: tuple[str, str], label: str) -> list[str]:
    """The step line (down only, from 100 % at 0) and a tick at each censored time."""
    color, dash = style
    path = [f"M{x(0):.1f},{frame.y(100, 100):.1f}"]
    for t, s, _lower, _upper in curve.steps[1:]:
        path.append(f"H{x(t):.1f}V{frame.y(s * 100, 100):.1f}")
    dashes = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [
        f'<path d="{"".join(path)}" fill="none" stroke="{color}" stroke-width="2.5"{dashes}>'
        f"<title>{escape(_legend_text(curve, label))}</title></path>"
    ]
    if curve.censored:
        ticks = "".join(f"M{x(t):.1f},{frame.y(s * 100, 100) - 5:.1f}v10" for t, s in curve.censored)
        parts.append(f'<path d="{ticks}" stroke="{color}" stroke-width="1.5" class="censored"/>')
    return parts


def _at_risk(frame: Frame, curves: Sequence[Curve], times: Sequence[float], x, labels: list[str]) -> list[str]:
    top = frame.bottom + 56
    title = escape(_("Number at risk"))
    parts = [f'<text x="8" y="{top}" font-weight="600" {LABEL}>{title}</text>']
    for i, (curve, label) in enumerate(zip(curves, labels, strict=True)):
        y = top + (i + 1) * ROW
        color = STYLES[i % len(STYLES)][0]
        parts.append(f'<text x="8" y="{y}" fill="{color}" font-weight="600" {FONT}>{escape(_short(label))}</text>')
        for t, n in zip(times, curve.at_risk, strict=False):
            parts.append(f'<text x="{x(t):.1f}" y="{y}" text-anchor="middle" class="at-risk" {LABEL}>{n}</text>')
    return parts


def km_svg(
    curves: Sequence[Curve],
    *,
    times: Sequence[float],
    title: str,
    x_label: str | None = None,
    y_label: str | None = None,
    labels: dict[str, str] | None = None,
) -> str:
    """Kaplan–Meier curves with a legend and a number-at-risk table aligned to the x ticks."""
    if not curves or not any(c.n for c in curves):
        return _empty(title, _("No participants to plot yet."))
    x_label = _("Days since randomization") if x_label is None else x_label
    y_label = _("Progression-free (%)") if y_label is None else y_label
    names = [str((labels or {}).get(c.group, c.group)) for c in curves]
    left = max(56, min(32 + max(text_width(_short(n)) for n in names), 200))  # room for the row labels
    top = 22 + ROW * len(curves)
    height = top + PLOT_HEIGHT + 56 + ROW * (len(curves) + 1) + 8
    frame = Frame(
        width=WIDTH, height=height, left=left, right_margin=24, top=top, bottom_margin=height - top - PLOT_HEIGHT
    )
    last = max([*times, *(t for c in curves for t, *_rest in c.steps), *(t for c in curves for t, _s in c.censored)])
    span = last or 1.0

    def x(t: float) -> float:
        return frame.left + (frame.right - frame.left) * t / span

    styles = [STYLES[i % len(STYLES)] for i in range(len(curves))]
    body = _axes(frame, times, x, x_label, y_label)
    for curve, style, name in zip(curves, styles, names, strict=True):
        body += _curve(frame, curve, x, style, name)
    body += _legend(frame, [(_legend_text(c, n), s) for c, n, s in zip(curves, names, styles, strict=True)])
    body += _at_risk(frame, curves, times, x, names)
    return _svg(frame, title, body)
