"""Progression-free survival by arm: Kaplan–Meier curves, medians, number at risk, the log-rank
test and a Cox hazard ratio, as the protocol's statistical section asks for them.

The statistics come from `lifelines` (imported here only, and only when a function runs: the
import takes about a second, which a web or Celery process should not pay at start-up):

- Kaplan–Meier with pointwise 95% intervals on the log(−log) scale (lifelines' default, as
  Stata's `sts list` and SAS's CONFTYPE=LOGLOG); the interval of the median is where those
  bounds cross 50% (the Brookmeyer–Crowley construction on that scale).
- Cox proportional hazards, experimental vs control (control the reference), stratified by the
  randomization strata; ties by Efron's method (lifelines' only one; R's default, while SAS and
  Stata default to Breslow — the two differ a little when many events share a day).
- The log-rank test, stratified by the same strata as the Cox model (per-stratum observed −
  expected and hypergeometric variance summed, Peto's form); with one stratum it is the
  ordinary log-rank test, which lifelines computes.

Validated against the Freireich (1963) leukaemia remission data as analysed by Kleinbaum & Klein
(tests/reports/test_survival.py).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

MIN_PER_ARM_PER_STRATUM = 2


@dataclass(frozen=True)
class Subject:
    group: str  # "A", "B", or "run_in", "all"
    stratum: str  # randomization stratum label, e.g. "ECOG 0"
    days: float  # AVAL
    event: bool  # True = event (CNSR 0)


@dataclass(frozen=True)
class Curve:
    group: str
    n: int
    events: int
    median: float | None  # None when not reached
    median_lower: float | None  # 95% CI; None when a bound is not reached
    median_upper: float | None
    steps: list[tuple[float, float, float, float]]  # (time, survival, lower, upper), from (0, 1, 1, 1)
    censored: list[tuple[float, float]]  # (time, survival at that time) for tick marks
    at_risk: list[int]  # at each of the fixed times given


@dataclass(frozen=True)
class Comparison:
    logrank_statistic: float | None  # chi-square, 1 df; stratified when `stratified`; None: not computable
    logrank_p: float | None
    hazard_ratio: float | None  # experimental vs control (control the reference)
    hr_lower: float | None
    hr_upper: float | None
    stratified: bool  # False: one stratum only, or too few subjects in one (see `note`)
    note: str


def at_risk_times(max_days: float, step: int = 90) -> list[float]:
    """0, step, 2·step, … up to and including `max_days`."""
    if step <= 0:
        raise ValueError("step must be positive")
    return [float(t) for t in range(0, int(max(max_days, 0)) + 1, step)]


def _finite(value: float) -> float | None:
    return None if value is None or math.isnan(value) or math.isinf(value) else float(value)


def _members(subjects: Sequence[Subject], group: str) -> list[Subject]:
    """The subjects of one group; "all" pools every subject given."""
    return [s for s in subjects if group == "all" or s.group == group]


def curve(subjects: Sequence[Subject], group: str, *, at_risk_times: Sequence[float]) -> Curve:
    """The Kaplan–Meier curve of one group, its median with 95% CI, and the number at risk (time ≥ t)."""
    members = _members(subjects, group)
    at_risk = [sum(1 for s in members if s.days >= t) for t in at_risk_times]
    if not members:
        return Curve(group, 0, 0, None, None, None, [(0.0, 1.0, 1.0, 1.0)], [], at_risk)

    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    fitter = KaplanMeierFitter().fit([s.days for s in members], [s.event for s in members])
    survival = fitter.survival_function_.iloc[:, 0]
    lower = fitter.confidence_interval_.iloc[:, 0]
    upper = fitter.confidence_interval_.iloc[:, 1]
    event_times = {s.days for s in members if s.event}
    last = max(s.days for s in members)
    steps = [(0.0, 1.0, 1.0, 1.0)]
    for t in survival.index:
        if t > 0 and (t in event_times or t == last):
            s = float(survival[t])
            # The log(−log) bounds are undefined where S is 0 or 1: there they collapse onto S.
            low, high = _finite(lower[t]), _finite(upper[t])
            steps.append((float(t), s, s if low is None else low, s if high is None else high))
    censored = sorted({(float(s.days), float(fitter.predict(s.days))) for s in members if not s.event})
    interval = median_survival_times(fitter.confidence_interval_)
    return Curve(
        group=group,
        n=len(members),
        events=sum(1 for s in members if s.event),
        median=_finite(fitter.median_survival_time_),
        median_lower=_finite(interval.iloc[0, 0]),
        median_upper=_finite(interval.iloc[0, 1]),
        steps=steps,
        censored=censored,
        at_risk=at_risk,
    )


def _strata_problem(pairs: Sequence[Subject], experimental: str, control: str) -> str:
    """Why a stratified analysis cannot be done ("" when it can)."""
    strata = sorted({s.stratum for s in pairs})
    if len(strata) < 2:
        return _("One randomization stratum only: unstratified analysis.")
    for stratum in strata:
        for arm in (experimental, control):
            n = sum(1 for s in pairs if s.stratum == stratum and s.group == arm)
            if n < MIN_PER_ARM_PER_STRATUM:
                return _(
                    "Unstratified analysis: stratum %(stratum)s has %(n)s subject(s) in arm %(arm)s "
                    "(fewer than %(minimum)s)."
                ) % {"stratum": stratum, "n": n, "arm": arm, "minimum": MIN_PER_ARM_PER_STRATUM}
    return ""


def _logrank_terms(pairs: Sequence[Subject], experimental: str) -> tuple[float, float]:
    """Observed − expected events of the experimental arm, and its hypergeometric variance."""
    o_minus_e = variance = 0.0
    for t in sorted({s.days for s in pairs if s.event}):
        at_risk = [s for s in pairs if s.days >= t]
        n = len(at_risk)
        n1 = sum(1 for s in at_risk if s.group == experimental)
        d = sum(1 for s in at_risk if s.days == t and s.event)
        d1 = sum(1 for s in at_risk if s.days == t and s.event and s.group == experimental)
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            variance += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return o_minus_e, variance


def _logrank(pairs: Sequence[Subject], experimental: str, stratified: bool) -> tuple[float | None, float | None]:
    """(chi-square, p) of the log-rank test, summed over strata when `stratified`; (None, None) when
    the test carries no information (no event with both arms at risk in any stratum)."""
    from scipy.stats import chi2

    if not stratified:
        from lifelines.statistics import logrank_test

        a = [s for s in pairs if s.group == experimental]
        b = [s for s in pairs if s.group != experimental]
        result = logrank_test([s.days for s in a], [s.days for s in b], [s.event for s in a], [s.event for s in b])
        return float(result.test_statistic), float(result.p_value)
    o_minus_e = variance = 0.0
    for stratum in sorted({s.stratum for s in pairs}):
        oe, v = _logrank_terms([s for s in pairs if s.stratum == stratum], experimental)
        o_minus_e, variance = o_minus_e + oe, variance + v
    if variance <= 0:
        return None, None
    statistic = o_minus_e**2 / variance
    return statistic, float(chi2.sf(statistic, 1))


def _cox(pairs: Sequence[Subject], experimental: str, stratified: bool) -> tuple[float, float, float] | None:
    """Hazard ratio of the experimental arm with its 95% Wald interval, or None if the fit fails."""
    import pandas as pd
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError

    frame = pd.DataFrame(
        {
            "days": [s.days for s in pairs],
            "event": [int(s.event) for s in pairs],
            "experimental": [int(s.group == experimental) for s in pairs],
            "stratum": [s.stratum for s in pairs],
        }
    )
    if not stratified:
        frame = frame.drop(columns="stratum")
    try:
        fitter = CoxPHFitter().fit(
            frame, duration_col="days", event_col="event", strata=["stratum"] if stratified else None
        )
    except ConvergenceError:
        return None
    row = fitter.summary.loc["experimental"]
    values = (row["exp(coef)"], row["exp(coef) lower 95%"], row["exp(coef) upper 95%"])
    if not all(_finite(v) for v in values):
        return None
    return tuple(float(v) for v in values)


def compare(subjects: Sequence[Subject], *, experimental="A", control="B") -> Comparison | None:
    """Experimental vs control: log-rank test and Cox hazard ratio, stratified by randomization stratum.

    None when an arm has no subject, or neither arm has an event (nothing to compare yet).
    With events in one arm only, the log-rank test stands but the hazard ratio (0 or ∞) is not
    estimable: None, with a note. Subjects of other groups (run-in) are left out.
    """
    pairs = [s for s in subjects if s.group in (experimental, control)]
    arms = {s.group for s in pairs}
    if arms != {experimental, control} or not any(s.event for s in pairs):
        return None
    problem = _strata_problem(pairs, experimental, control)
    stratified = not problem
    statistic, p = _logrank(pairs, experimental, stratified)
    note = problem or _("Log-rank test and Cox model stratified by randomization stratum.")
    no_events = [arm for arm in (experimental, control) if not any(s.event for s in pairs if s.group == arm)]
    if no_events:
        hr = None
        note += " " + _("No event in arm %(arm)s yet: hazard ratio not estimable.") % {"arm": no_events[0]}
    else:
        hr = _cox(pairs, experimental, stratified)
        if hr is None:
            note += " " + _("The Cox model did not converge: no hazard ratio.")
    return Comparison(
        logrank_statistic=statistic,
        logrank_p=p,
        hazard_ratio=hr[0] if hr else None,
        hr_lower=hr[1] if hr else None,
        hr_upper=hr[2] if hr else None,
        stratified=stratified,
        note=note,
    )
