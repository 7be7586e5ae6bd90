"""The dashboard's SVG charts: what they draw is what the data say (bar heights, steps, labels)."""

import re
from datetime import date
from xml.etree import ElementTree

import pytest

from reports.charts import aes_by_grade, cumulative_enrollment, enrollment_by_site, integer_ticks

SVG = "{http://www.w3.org/2000/svg}"
COORD = 0.2  # coordinates are written to 0.1 px
LABELS = {"run_in": "Safety run-in", "randomized": "Randomized phase"}


def parsed(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 — our own SVG: well-formed XML, or this raises


def texts(root) -> list[str]:
    return [t.text for t in root.iter(f"{SVG}text")]


def bars(root) -> list[tuple[float, float]]:
    """(y, height) of every data bar (the legend's 12×12 squares left out)."""
    return [(float(r.get("y")), float(r.get("height"))) for r in root.iter(f"{SVG}rect") if r.get("y") != "8"]


@pytest.mark.parametrize(
    ("highest", "ticks"),
    [(0, [0, 1]), (1, [0, 1]), (4, [0, 1, 2, 3, 4]), (7, [0, 2, 4, 6, 8]), (23, [0, 5, 10, 15, 20, 25]),
     (2000, [0, 500, 1000, 1500, 2000]), (2001, [0, 500, 1000, 1500, 2000, 2500])],
)  # fmt: skip
def test_axes_count_in_round_steps_from_zero(highest, ticks):
    assert integer_ticks(highest) == ticks


def test_grade_bars_are_proportional_and_labelled():
    root = parsed(aes_by_grade({1: 40, 2: 20, 3: 10, 4: 0, 5: 1}))
    assert root.get("aria-label") == "Adverse events by CTCAE grade"
    heights = [h for _y, h in bars(root)]
    assert heights[0] == pytest.approx(2 * heights[1], abs=COORD) and heights[1] == pytest.approx(
        2 * heights[2], abs=COORD
    )
    assert heights[3] == 0 and heights[4] == pytest.approx(heights[0] / 40, abs=COORD)
    assert {"G1", "G2", "G3", "G4", "G5", "40", "20", "10", "0", "1"} <= set(texts(root))


def test_site_bars_stack_the_two_cohorts():
    root = parsed(
        enrollment_by_site([("SH01", "run_in", 3), ("SH01", "randomized", 5), ("SH02", "run_in", 4)], labels=LABELS)
    )
    (y1, h1), (y2, h2), (y3, h3) = bars(root)
    assert h2 == pytest.approx(h1 * 5 / 3, abs=COORD) and y2 + h2 == pytest.approx(
        y1, abs=COORD
    )  # randomized sits on run-in
    assert h3 == pytest.approx(h1 * 4 / 3, abs=COORD)
    assert {"SH01", "SH02", "Safety run-in", "Randomized phase"} <= set(texts(root))
    assert re.search(r"<title>SH01: 5</title>", enrollment_by_site([("SH01", "randomized", 5)], labels=LABELS))


def test_enrollment_steps_up_by_each_days_count():
    timeline = [(date(2026, 3, 1), "run_in", 2), (date(2026, 3, 4), "run_in", 1), (date(2026, 3, 9), "randomized", 4)]
    root = parsed(cumulative_enrollment(timeline, labels=LABELS))
    paths = [p.get("d") for p in root.iter(f"{SVG}path")]
    assert len(paths) == 2  # one line per cohort
    levels = [[float(v) for v in re.findall(r"V([\d.]+)", d)] for d in paths]
    bottom = float(re.match(r"M[\d.]+,([\d.]+)", paths[0]).group(1))
    randomized, run_in = levels  # sorted by cohort code
    assert len(run_in) == 2 and len(randomized) == 1
    # run-in rises to 2 then 3; randomized to 4: heights above the axis in the ratio 2 : 3 : 4
    assert (bottom - run_in[1]) == pytest.approx((bottom - run_in[0]) * 3 / 2, abs=COORD)
    assert (bottom - randomized[0]) == pytest.approx((bottom - run_in[0]) * 2, abs=COORD)
    assert "2026-02-28" in texts(root) and "2026-03-10" in texts(root)  # a day before the first, after the last


def test_text_is_escaped():
    svg = enrollment_by_site([("<b>&", "run_in", 1)], labels={"run_in": 'A "quoted" <label>'})
    parsed(svg)
    assert "<b>&" not in svg and "&lt;b&gt;&amp;" in svg


@pytest.mark.parametrize(
    ("svg", "message"),
    [
        (aes_by_grade({1: 0, 2: 0}), "No adverse events recorded."),
        (enrollment_by_site([], labels=LABELS), "No one enrolled yet."),
        (cumulative_enrollment([], labels=LABELS), "No one enrolled yet."),
    ],
)
def test_empty_charts_say_so(svg, message):
    assert texts(parsed(svg)) == [message]
