"""Charts for the PI dashboard, drawn on the server as SVG (no JavaScript, no CDN, prints well).

Drawing with matplotlib takes about 100 ms a chart, so each SVG is kept in the cache under a
hash of exactly what it shows (its data and labels): the same data is never drawn twice, and
a new enrollment or AE changes the key, so a chart is never stale.
"""

import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from functools import wraps
from html import escape

import matplotlib
from django.core.cache import cache

matplotlib.use("Agg")
from matplotlib import dates as mdates  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

COLORS = {
    "run_in": "#0d6efd",
    "randomized": "#198754",
    "grade": ["#adb5bd", "#ffc107", "#fd7e14", "#dc3545", "#212529"],
}
plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "axes.spines.top": False, "axes.spines.right": False})


CACHE_SECONDS = 7 * 24 * 3600
DRAWING_VERSION = 1  # raise it when a chart's drawing code changes, so cached SVGs are redrawn


def cached_by_data(draw: Callable[..., str]) -> Callable[..., str]:
    """Keep the SVG `draw(*data)` returns under a hash of the data itself."""

    @wraps(draw)
    def wrapper(*args, **kwargs) -> str:
        shown = json.dumps([draw.__name__, DRAWING_VERSION, args, kwargs], default=str, sort_keys=True)
        key = "chart:" + hashlib.sha256(shown.encode()).hexdigest()
        svg = cache.get(key)
        if svg is None:
            svg = draw(*args, **kwargs)
            cache.set(key, svg, CACHE_SECONDS)
        return svg

    return wrapper


def _svg(figure: Figure, title: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None, "Title": title})
    plt.close(figure)
    text = buffer.getvalue()
    start = text.find("<svg")
    return text[start:].replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)


def _empty(title: str, message: str) -> str:
    return (
        f'<svg role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" width="360" height="60">'
        f'<text x="10" y="35" font-size="13" fill="#6c757d">{escape(message)}</text></svg>'
    )


@cached_by_data
def cumulative_enrollment(timeline: list[tuple[date, str, int]], *, labels: dict[str, str]) -> str:
    title = "Cumulative enrollment by cohort"
    if not timeline:
        return _empty(title, "No one enrolled yet.")
    per_cohort: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for day, cohort, n in timeline:
        per_cohort[cohort].append((day, n))
    # From zero the day before the first enrollment to the day after the last, so even a
    # single day of enrollment draws a visible step.
    first, last = timeline[0][0] - timedelta(days=1), timeline[-1][0] + timedelta(days=1)
    figure, axes = plt.subplots(figsize=(6.2, 2.6))
    for cohort, points in sorted(per_cohort.items()):
        days, total, values = [first], 0, [0]
        for day, n in points:
            total += n
            days.append(day)
            values.append(total)
        days.append(last)
        values.append(total)
        axes.step(days, values, where="post", label=labels.get(cohort, cohort), color=COLORS.get(cohort), linewidth=2)
    axes.set_xlim(first, last)
    axes.set_ylim(bottom=0)
    span = (last - first).days
    axes.set_ylabel("participants")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    # One tick per day over a short span (AutoDateLocator would repeat a date at 12-hour ticks).
    locator = mdates.DayLocator(interval=max(1, span // 7 + 1)) if span <= 21 else mdates.AutoDateLocator(maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    axes.legend(frameon=False, loc="upper left")
    axes.grid(axis="y", alpha=0.3)
    figure.autofmt_xdate()
    return _svg(figure, title)


@cached_by_data
def enrollment_by_site(rows: list[tuple[str, str, int]], *, labels: dict[str, str]) -> str:
    title = "Enrollment by site"
    if not rows:
        return _empty(title, "No one enrolled yet.")
    sites = sorted({site for site, _, _ in rows})
    figure, axes = plt.subplots(figsize=(3.4, 2.6))
    bottom = [0] * len(sites)
    for cohort in ("run_in", "randomized"):
        values = [sum(n for s, c, n in rows if s == site and c == cohort) for site in sites]
        axes.bar(sites, values, bottom=bottom, label=labels.get(cohort, cohort), color=COLORS[cohort])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_ylabel("participants")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)
    return _svg(figure, title)


@cached_by_data
def aes_by_grade(counts: dict[int, int]) -> str:
    title = "Adverse events by CTCAE grade"
    if not any(counts.values()):
        return _empty(title, "No adverse events recorded.")
    figure, axes = plt.subplots(figsize=(3.4, 2.6))
    grades = sorted(counts)
    bars = axes.bar([f"G{g}" for g in grades], [counts[g] for g in grades], color=COLORS["grade"][: len(grades)])
    axes.bar_label(bars, padding=2)
    axes.set_ylabel("events")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    return _svg(figure, title)
