"""PFS analysis (reports/survival.py) checked against a published textbook analysis.

The data: Freireich et al. (1963), Blood 21:699–716, the 6-mercaptopurine (6-MP) vs placebo
remission-maintenance trial in acute leukaemia, 21 + 21 children, remission length in weeks
("+" = still in remission, censored), as listed in
  Kleinbaum & Klein, Survival Analysis: A Self-Learning Text, 3rd ed., Springer 2012,
  chapter 2, section II "An example of Kaplan-Meier curves" (pp. 61–65), and identically in
  Le, Introductory Biostatistics (Wiley 2003), Example 11.1, and in Rodríguez's Gehan data
  (data.princeton.edu/wws509/datasets/#gehan; 30 relapses, 541 weeks at risk):
    6-MP:    6 6 6 7 10 13 16 22 23, 6+ 9+ 10+ 11+ 17+ 19+ 20+ 25+ 32+ 32+ 34+ 35+
    placebo: 1 1 2 2 3 4 4 5 5 8 8 8 8 11 11 12 12 15 17 22 23

The published numbers:
- Kaplan–Meier, 6-MP (Kleinbaum & Klein ch. 2, section II, pp. 61–65, the KM table): S(6) = .8571, S(7) = .8067,
  S(10) = .7529, S(13) = .6902, S(16) = .6275, S(22) = .5378, S(23) = .4482; medians read off
  the curves 23 weeks (6-MP) and 8 weeks (placebo).
- Placebo at 1 week: S = 0.9048, 95% CI lower bound 0.6700 (log(−log) scale) — Stata `sts list`
  in Rodríguez, "The Gehan Survival Data", data.princeton.edu/pop509/gehan.html.
- Log-rank chi-square 16.79, 1 df, p < 0.0001 (Kleinbaum & Klein ch. 2, section IV, pp. 67–71).
- Cox PH model with treatment only, Breslow ties: HR 6-MP vs placebo .2210887, 95% CI
  (.0990706, .4933877) — Stata `stcox treated` in Rodríguez, "Cox Regression",
  data.princeton.edu/pop509/cox.html; i.e. placebo vs 6-MP 4.523 (2.027, 10.094), the
  "Model 1" hazard ratio of Kleinbaum & Klein ch. 3 (Stata output, Breslow).
  (The Rodríguez pages and the chapter outline were read through a search index, the book's own
  pages were not: its KM table, medians, 16.79 and 4.523 are quoted from the book; all are
  reproduced below to every printed digit.)

Ties: lifelines' Cox model uses Efron's method only; the published fit uses Breslow's. On these
data (many tied relapse times) the two differ by 6% (HR 4.82 vs 4.52), far more than rounding,
so comparing our HR with 4.523 under a loose tolerance would hide errors. Instead the test
carries a 25-line partial-likelihood fit that does either method: with Breslow it must
reproduce the published numbers (which checks the data listing and the reference fit), and
with Efron it must agree with `compare()` to 1e-5 (which checks `compare()`). Tolerances on
published numbers are half a unit in their last printed digit.
"""

import math
from statistics import NormalDist

import numpy as np
import pytest

from reports.survival import Subject, at_risk_times, compare, curve

Z = NormalDist().inv_cdf(0.975)  # 1.95996…
MP = [6, 6, 6, 7, 10, 13, 16, 22, 23]
MP_CENSORED = [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
PLACEBO = [1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23]


def freireich(stratum=lambda i: "all") -> list[Subject]:
    rows = [("6-MP", t, True) for t in MP] + [("6-MP", t, False) for t in MP_CENSORED]
    rows += [("placebo", t, True) for t in PLACEBO]
    return [Subject(group, stratum(i), float(t), event) for i, (group, t, event) in enumerate(rows)]


def half(digits: int) -> float:
    """Half a unit in the last of `digits` decimals: the rounding of a printed number."""
    return 0.5 * 10**-digits


# --- an independent Cox fit, for one binary covariate, Breslow or Efron ties, with strata ----------


def score_and_information(beta: float, subjects, experimental: str, ties: str) -> tuple[float, float]:
    """First and minus second derivative of the log partial likelihood in beta (x = 1 experimental)."""
    score = information = 0.0
    for stratum in {s.stratum for s in subjects}:
        members = [s for s in subjects if s.stratum == stratum]
        for t in sorted({s.days for s in members if s.event}):
            risk = [s for s in members if s.days >= t]
            dying = [s for s in risk if s.days == t and s.event]
            d = len(dying)
            # With x binary, sum(x·w) = sum(x²·w): the weight of the experimental subjects.
            r0 = sum(math.exp(beta * (s.group == experimental)) for s in risk)
            r1 = sum(math.exp(beta) for s in risk if s.group == experimental)
            d0 = sum(math.exp(beta * (s.group == experimental)) for s in dying)
            d1 = sum(math.exp(beta) for s in dying if s.group == experimental)
            score += sum(1 for s in dying if s.group == experimental)
            for k in range(d):
                f = k / d if ties == "efron" else 0.0
                mean = (r1 - f * d1) / (r0 - f * d0)
                score -= mean
                information += mean - mean**2
    return score, information


def reference_cox(subjects, experimental: str, ties: str) -> tuple[float, float, float]:
    """(HR, lower, upper) by Newton–Raphson; Wald interval from the observed information."""
    beta = 0.0
    for _ in range(50):
        score, information = score_and_information(beta, subjects, experimental, ties)
        beta += score / information
        if abs(score) < 1e-12:
            break
    se = score_and_information(beta, subjects, experimental, ties)[1] ** -0.5
    return math.exp(beta), math.exp(beta - Z * se), math.exp(beta + Z * se)


# --- the published numbers ---------------------------------------------------------------------------


def test_kaplan_meier_matches_the_book():
    mp = curve(freireich(), "6-MP", at_risk_times=[0, 10, 20, 30])
    survival = dict((t, s) for t, s, _lo, _hi in mp.steps)
    book = {6: 0.8571, 7: 0.8067, 10: 0.7529, 13: 0.6902, 16: 0.6275, 22: 0.5378, 23: 0.4482}
    for week, value in book.items():
        assert survival[week] == pytest.approx(value, abs=half(4)), week
    assert (mp.n, mp.events, mp.median) == (21, 9, 23)
    assert mp.at_risk == [21, 15, 8, 4]  # times ≥ 0, ≥ 10, ≥ 20, ≥ 30 in the listing above

    placebo = curve(freireich(), "placebo", at_risk_times=[0])
    assert (placebo.n, placebo.events, placebo.median) == (21, 21, 8)
    week1 = placebo.steps[1]
    assert week1[0] == 1 and week1[1] == pytest.approx(0.9048, abs=half(4))
    assert week1[2] == pytest.approx(0.6700, abs=half(4))  # Stata sts list, log(−log) interval


def test_log_rank_matches_the_book():
    result = compare(freireich(), experimental="6-MP", control="placebo")
    assert result.logrank_statistic == pytest.approx(16.79, abs=half(2))
    assert result.logrank_p < 0.0001
    assert result.stratified is False and "One randomization stratum" in result.note


def test_reference_cox_fit_reproduces_the_published_breslow_numbers():
    hr, lower, upper = reference_cox(freireich(), "6-MP", "breslow")
    assert (hr, lower, upper) == pytest.approx((0.2210887, 0.0990706, 0.4933877), abs=half(7))
    hr, lower, upper = reference_cox(freireich(), "placebo", "breslow")
    assert (hr, lower, upper) == pytest.approx((4.523, 2.027, 10.094), abs=half(3))  # Kleinbaum & Klein


def test_cox_hazard_ratio_is_efrons_and_points_experimental_vs_control():
    expected = reference_cox(freireich(), "6-MP", "efron")
    result = compare(freireich(), experimental="6-MP", control="placebo")
    got = (result.hazard_ratio, result.hr_lower, result.hr_upper)
    assert got == pytest.approx(expected, rel=1e-5)
    assert result.hazard_ratio == pytest.approx(0.2076, abs=half(4))  # = 1 / 4.817: below 1, 6-MP better
    flipped = compare(freireich(), experimental="placebo", control="6-MP")
    assert flipped.hazard_ratio == pytest.approx(1 / result.hazard_ratio, rel=1e-6)
    assert flipped.logrank_statistic == pytest.approx(result.logrank_statistic, rel=1e-9)


# --- medians' intervals, by a second route -----------------------------------------------------------


def greenwood_loglog(times, events) -> dict[float, tuple[float, float, float]]:
    """S(t) with its 95% log(−log) interval at each event time, by hand (Kalbfleisch–Prentice)."""
    out, s, v = {}, 1.0, 0.0
    for t in sorted({t for t, e in zip(times, events, strict=True) if e}):
        n = sum(1 for u in times if u >= t)
        d = sum(1 for u, e in zip(times, events, strict=True) if u == t and e)
        s *= 1 - d / n
        if s == 0:
            out[t] = (0.0, 0.0, 0.0)
            continue
        v += d / (n * (n - d))
        width = Z * math.sqrt(v) / math.log(s)
        out[t] = (s, s ** math.exp(-width), s ** math.exp(width))
    return out


def test_median_intervals_agree_with_lifelines_and_with_a_hand_computation():
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    subjects = freireich()
    for group, expected in (("6-MP", (13, None)), ("placebo", (4, 11))):
        members = [s for s in subjects if s.group == group]
        fitter = KaplanMeierFitter().fit([s.days for s in members], [s.event for s in members])
        lower, upper = median_survival_times(fitter.confidence_interval_).iloc[0]
        built = curve(subjects, group, at_risk_times=[0])
        assert built.median_lower == lower and (built.median_upper == upper or math.isinf(upper))
        assert (built.median_lower, built.median_upper) == expected
        # By hand: the interval holds the times whose pointwise band still contains 50%.
        band = greenwood_loglog([s.days for s in members], [s.event for s in members])
        # From where the lower bound falls to 50% to where the upper bound does (never: not reached).
        assert min(t for t, (_s, lo, _hi) in band.items() if lo <= 0.5) == expected[0]
        crossing = [t for t, (_s, _lo, hi) in band.items() if hi <= 0.5]
        assert (min(crossing) if crossing else None) == expected[1]
        for t, s, lo, hi in built.steps[1:]:
            if t in band and 0 < s < 1:
                assert (s, lo, hi) == pytest.approx(band[t], rel=1e-9)


# --- strata ------------------------------------------------------------------------------------------


def test_stratified_fit_uses_the_strata():
    subjects = freireich(stratum=lambda i: "ECOG 0" if i % 3 else "ECOG 1")
    result = compare(subjects, experimental="6-MP", control="placebo")
    assert result.stratified is True and "stratified" in result.note
    got = (result.hazard_ratio, result.hr_lower, result.hr_upper)
    assert got == pytest.approx(reference_cox(subjects, "6-MP", "efron"), rel=1e-5)
    assert result.hazard_ratio != pytest.approx(
        compare(freireich(), experimental="6-MP", control="placebo").hazard_ratio
    )


def test_stratified_log_rank_worked_by_hand():
    # Stratum X: A dies at 1, B dies at 2, A censored at 3, B dies at 4.
    #   t=1: n=4, n_A=2, d=1 -> O−E = 1 − 1/2 = 0.5, V = (2/4)(2/4)(3/3) = 0.25
    #   t=2: n=3, n_A=1, d=1 -> O−E = 0 − 1/3,      V = (1/3)(2/3) = 2/9
    #   t=4: n=1, n_A=0      -> O−E = 0, V = 0
    # Stratum Y: B dies at 1, A dies at 2, B dies at 3, A censored at 5.
    #   t=1: n=4, n_A=2 -> O−E = −0.5, V = 0.25
    #   t=2: n=3, n_A=2 -> O−E = 1 − 2/3 = 1/3, V = (2/3)(1/3) = 2/9
    #   t=3: n=2, n_A=1 -> O−E = −0.5, V = 0.25
    # Total O−E = 0.5 − 1/3 − 0.5 + 1/3 − 0.5 = −0.5; V = 0.25 + 2/9 + 0.25 + 2/9 + 0.25 = 1.1944…
    rows = [("X", "A", 1, 1), ("X", "B", 2, 1), ("X", "A", 3, 0), ("X", "B", 4, 1),
            ("Y", "B", 1, 1), ("Y", "A", 2, 1), ("Y", "B", 3, 1), ("Y", "A", 5, 0)]  # fmt: skip
    subjects = [Subject(g, st, float(t), bool(e)) for st, g, t, e in rows]
    result = compare(subjects)
    assert result.stratified is True
    variance = 0.25 + 2 / 9 + 0.25 + 2 / 9 + 0.25
    assert result.logrank_statistic == pytest.approx(0.25 / variance, rel=1e-12)


def test_too_few_per_stratum_falls_back_to_an_unstratified_fit_and_says_why():
    subjects = freireich(stratum=lambda i: "ECOG 1" if i == 0 else "ECOG 0")  # one 6-MP patient in ECOG 1
    result = compare(subjects, experimental="6-MP", control="placebo")
    assert result.stratified is False
    assert "stratum ECOG 1 has 1 subject(s) in arm 6-MP" in result.note
    assert result.logrank_statistic == pytest.approx(16.79, abs=half(2))  # the unstratified test


# --- small cases -------------------------------------------------------------------------------------


def test_at_risk_counts_worked_by_hand():
    # days: 10 event, 30 censored, 30 event, 95 event, 200 censored
    subjects = [Subject("A", "s", d, e) for d, e in [(10, True), (30, False), (30, True), (95, True), (200, False)]]
    result = curve(subjects, "A", at_risk_times=[0, 10, 11, 30, 90, 95, 180, 200, 270])
    assert result.at_risk == [5, 5, 4, 4, 2, 2, 1, 1, 0]  # at risk at t: still followed at t (days ≥ t)
    assert [t for t, _s in result.censored] == [30, 200]
    assert [s for _t, s in result.censored] == pytest.approx([0.6, 0.3])  # S just after the event at 30
    assert [t for t, *_ in result.steps] == [0, 10, 30, 95, 200]  # the curve runs on to the last follow-up
    assert [s for _t, s, *_ in result.steps] == pytest.approx([1, 0.8, 0.6, 0.3, 0.3])


def test_at_risk_times():
    assert at_risk_times(400) == [0, 90, 180, 270, 360]
    assert at_risk_times(360) == [0, 90, 180, 270, 360]
    assert at_risk_times(0) == [0] and at_risk_times(-5) == [0]
    assert at_risk_times(65, step=30) == [0, 30, 60]


def test_median_not_reached():
    events = [(10, True), (20, True), (30, False), (40, False), (50, False), (60, False), (80, False)]
    result = curve([Subject("A", "s", d, e) for d, e in events], "A", at_risk_times=[0])
    assert [s for _t, s, *_ in result.steps] == pytest.approx([1, 6 / 7, 5 / 7, 5 / 7])  # never down to 50%
    assert (result.median, result.median_upper) == (None, None)


def test_no_comparison_without_both_arms_or_without_events():
    one_arm = [Subject("A", "s", 10, True), Subject("A", "s", 20, True)]
    assert compare(one_arm) is None
    assert compare(one_arm + [Subject("run_in", "s", 5, True)]) is None  # run-in is not a control arm
    no_events = [Subject("A", "s", 10, False), Subject("B", "s", 20, False)]
    assert compare(no_events) is None


def test_events_in_one_arm_only_give_a_test_but_no_hazard_ratio():
    subjects = [Subject("A", "s", d, False) for d in (50, 60, 70)] + [Subject("B", "s", d, True) for d in (5, 6, 7)]
    result = compare(subjects)
    assert result.logrank_p < 0.05 and result.hazard_ratio is None and "No event in arm A" in result.note


def test_empty_group_curve():
    result = curve([Subject("A", "s", 10, True)], "B", at_risk_times=[0, 90])
    assert (result.n, result.median, result.at_risk, result.steps) == (0, None, [0, 0], [(0.0, 1.0, 1.0, 1.0)])


def test_all_pools_the_groups():
    assert curve(freireich(), "all", at_risk_times=[0]).n == 42
    assert np.isclose(curve(freireich(), "all", at_risk_times=[0]).events, 30)
