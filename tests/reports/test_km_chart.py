"""The Kaplan–Meier SVG (reports/km_chart.py): what it draws is what the curves say."""

import re
from xml.etree import ElementTree

import pytest

from reports.km_chart import km_svg
from reports.survival import Curve, Subject, curve

SVG = "{http://www.w3.org/2000/svg}"
COORD = 0.2  # coordinates are written to 0.1 px
TIMES = [0.0, 90.0, 180.0, 270.0]


def parsed(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # noqa: S314 — our own SVG: well-formed XML, or this raises


def two_arms() -> list[Curve]:
    a = [Subject("A", "ECOG 0", d, e) for d, e in [(30, True), (100, False), (150, True), (200, True), (280, False)]]
    b = [Subject("B", "ECOG 0", d, e) for d, e in [(20, True), (60, True), (95, True), (120, False)]]
    return [curve(a + b, group, at_risk_times=TIMES) for group in ("A", "B")]


def curve_paths(root) -> list[str]:
    return [p.get("d") for p in root.iter(f"{SVG}path") if p.find(f"{SVG}title") is not None]


def test_at_risk_numbers_sit_under_their_ticks():
    curves = two_arms()
    assert [c.at_risk for c in curves] == [[5, 4, 2, 1], [4, 2, 0, 0]]
    root = parsed(km_svg(curves, times=TIMES, title="PFS"))
    tick_x = {t.text: float(t.get("x")) for t in root.iter(f"{SVG}text") if t.get("class") == "x-tick"}
    cells = [t for t in root.iter(f"{SVG}text") if t.get("class") == "at-risk"]
    rows: dict[float, list[tuple[float, str]]] = {}
    for cell in cells:
        rows.setdefault(float(cell.get("y")), []).append((float(cell.get("x")), cell.text))
    assert len(rows) == 2  # one row per arm, in the order of the curves
    for (_y, row), expected in zip(sorted(rows.items()), ([5, 4, 2, 1], [4, 2, 0, 0]), strict=True):
        assert [text for _x, text in row] == [str(n) for n in expected]
        assert [x for x, _text in row] == pytest.approx([tick_x[f"{t:g}"] for t in TIMES], abs=COORD)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Number at risk" in texts and "A" in texts and "B" in texts


def test_steps_only_go_down_and_start_at_100_percent():
    root = parsed(km_svg(two_arms(), times=TIMES, title="PFS"))
    paths = curve_paths(root)
    assert len(paths) == 2
    top = min(float(y) for y in re.findall(r"M[\d.]+,([\d.]+)", paths[0]))
    for d in paths:
        start = float(re.match(r"M[\d.]+,([\d.]+)", d).group(1))
        levels = [start] + [float(v) for v in re.findall(r"V([\d.]+)", d)]
        xs = [float(v) for v in re.findall(r"H([\d.]+)", d)]
        assert start == pytest.approx(top, abs=COORD)  # both curves start at 100 %
        assert levels == sorted(levels)  # SVG y grows downwards: survival never rises
        assert xs == sorted(xs)


def test_arms_differ_in_colour_and_dash_and_censoring_is_ticked():
    svg = km_svg(two_arms(), times=TIMES, title="PFS")
    root = parsed(svg)
    lines = [p for p in root.iter(f"{SVG}path") if p.find(f"{SVG}title") is not None]
    assert len({p.get("stroke") for p in lines}) == 2
    assert len({p.get("stroke-dasharray") for p in lines}) == 2
    ticks = [p.get("d") for p in root.iter(f"{SVG}path") if p.get("class") == "censored"]
    assert [d.count("v10") for d in ticks] == [2, 1]  # A censored at 100 and 280, B at 120


def test_group_labels_are_escaped():
    svg = km_svg(two_arms(), times=TIMES, title='PFS <"A"> & more', labels={"A": "<b>Arm & co</b>", "B": "B"})
    root = parsed(svg)
    assert "<b>" not in svg and "&lt;b&gt;Arm &amp; co&lt;/b&gt;" in svg
    assert root.get("aria-label") == 'PFS <"A"> & more' and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == 'PFS <"A"> & more'
    assert "<script" not in svg
    assert root.get("viewBox").startswith("0 0 640 ")


def test_median_and_counts_in_the_legend():
    texts = [t.text for t in parsed(km_svg(two_arms(), times=TIMES, title="PFS")).iter(f"{SVG}text")]
    legend = [t for t in texts if t and t.startswith("A: ")]
    assert legend == ["A: n=5, 3 events, median 200 (95% CI 30–NR)"]


def test_no_curves_says_so():
    for curves in ([], [curve([], "A", at_risk_times=TIMES)]):
        svg = km_svg(curves, times=TIMES, title="PFS by arm")
        root = parsed(svg)
        assert root.get("aria-label") == "PFS by arm"
        assert [t.text for t in root.iter(f"{SVG}text")] == ["No participants to plot yet."]


def test_every_text_is_12_px_in_a_chart_that_fits_a_half_width_card():
    root = parsed(km_svg(two_arms(), times=TIMES, title="PFS", labels={"A": "Arm A (experimental)", "B": "B"}))
    assert {t.get("font-size") for t in root.iter(f"{SVG}text")} == {"12"}
    assert root.get("width") == "640"  # about the inside of a half-width card at 1366 px: drawn unshrunk
