"""RECIST 1.1 rules, worked by hand (Eisenhauer et al., Eur J Cancer 2009;45:228-247). No database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from efficacy.recist import (
    BaselineTarget,
    BestResponse,
    NewLesion,
    NonTargetStatus,
    Response,
    TimePoint,
    baseline_errors,
    baseline_sum,
    best_overall_response,
    evaluate_series,
)

D = Decimal
PRESENT = NonTargetStatus.PRESENT
ABSENT = NonTargetStatus.ABSENT
PROGRESSION = NonTargetStatus.UNEQUIVOCAL_PROGRESSION
NOT_ASSESSED = NonTargetStatus.NOT_ASSESSED
BASELINE = date(2026, 1, 5)


def target(key: str, mm: int | str, organ: str = "liver", node: bool = False) -> BaselineTarget:
    return BaselineTarget(key=key, organ=organ, lymph_node=node, diameter_mm=D(mm))


def point(non_target=(), new=NewLesion.NO, **mm) -> TimePoint:
    return TimePoint(
        target_mm={key: None if value is None else D(value) for key, value in mm.items()},
        non_target=tuple(non_target),
        new_lesion=new,
    )


def one_target(mm: int) -> list[BaselineTarget]:
    return [target("T1", mm)]


def day(n: int) -> date:
    return BASELINE + timedelta(days=n)


# --- Response codes and labels ---------------------------------------------------------------


def test_response_codes_are_the_stored_values():
    assert [r.value for r in Response] == ["CR", "PR", "SD", "PD", "NE", "NN"]
    assert Response.NON_CR_NON_PD.label == "Non-CR/non-PD"
    assert Response.PD.label == "Progressive disease"


# --- Baseline (RECIST 1.1 §3.1, §4.2) ------------------------------------------------------


def test_baseline_five_targets_in_distinct_organs_is_valid():
    targets = [target(f"T{i}", 20, organ=f"organ {i}") for i in range(1, 6)]
    assert baseline_errors(targets, 0) == []
    assert baseline_sum(targets) == D(100)


def test_baseline_refuses_a_sixth_target():
    targets = [target(f"T{i}", 20, organ=f"organ {i}") for i in range(1, 7)]
    errors = baseline_errors(targets, 0)
    assert [index for index, _message in errors] == [None]
    assert "5" in errors[0][1]


def test_baseline_refuses_a_third_target_in_one_organ_case_insensitively():
    targets = [target("T1", 20, "Liver"), target("T2", 20, " liver "), target("T3", 20, "LIVER")]
    assert [index for index, _message in baseline_errors(targets, 0)] == [2]


def test_baseline_refuses_a_non_nodal_target_under_10_mm():
    assert [index for index, _m in baseline_errors([target("T1", 9)], 0)] == [0]
    assert baseline_errors([target("T1", 10)], 0) == []


def test_baseline_refuses_a_12_mm_node_as_target():
    # 10 to < 15 mm short axis: pathological but non-target.
    errors = baseline_errors([target("T1", 12, "lymph node", node=True)], 0)
    assert [index for index, _message in errors] == [0]
    assert "non-target" in errors[0][1]


def test_baseline_refuses_a_node_under_10_mm_as_not_pathological():
    errors = baseline_errors([target("T1", "9.9", "lymph node", node=True)], 1)
    assert [index for index, _message in errors] == [0]
    assert "not pathological" in errors[0][1]


def test_baseline_accepts_a_15_mm_node():
    assert baseline_errors([target("T1", 15, "lymph node", node=True)], 0) == []


def test_baseline_refuses_no_lesion_at_all():
    assert [index for index, _message in baseline_errors([], 0)] == [None]


def test_baseline_with_non_targets_only_is_valid():
    assert baseline_errors([], 2) == []


# --- Target response (RECIST 1.1 §4.3.1) ---------------------------------------------------


def test_pr_at_exactly_minus_30_percent_from_baseline():
    # 100 -> 70: (70 - 100) / 100 = -30.0 % -> PR; 100 -> 71: -29 % -> SD.
    pr, sd = evaluate_series(one_target(100), 0, [point(T1=70), point(T1=71)])
    assert (pr.target, pr.overall, pr.change_from_baseline_pct) == (Response.PR, Response.PR, D("-30.0"))
    assert (sd.target, sd.change_from_baseline_pct) == (Response.SD, D("-29.0"))


def test_pd_needs_5_mm_absolute_as_well_as_20_percent():
    # Baseline 20 = nadir; 24 is +20 % but only +4 mm -> SD.
    (result,) = evaluate_series(one_target(20), 0, [point(T1=24)])
    assert (result.nadir_mm, result.change_from_nadir_pct, result.target) == (D(20), D("20.0"), Response.SD)


def test_pd_at_exactly_20_percent_and_5_mm_over_the_nadir():
    # Baseline 25 = nadir; 30 is +5 mm = +20.0 % -> PD.
    (result,) = evaluate_series(one_target(25), 0, [point(T1=30)])
    assert (result.target, result.overall, result.change_from_nadir_pct) == (Response.PD, Response.PD, D("20.0"))


def test_pd_is_measured_from_the_nadir_not_the_baseline():
    # 100 -> 60 (PR, -40 %) -> 72: +12 mm = +20 % over the nadir 60 -> PD, though -28 % from baseline.
    first, second = evaluate_series(one_target(100), 0, [point(T1=60), point(T1=72)])
    assert (first.nadir_mm, first.target) == (D(100), Response.PR)
    assert (second.nadir_mm, second.sum_mm, second.target) == (D(60), D(72), Response.PD)
    assert (second.change_from_baseline_pct, second.change_from_nadir_pct) == (D("-28.0"), D("20.0"))


def test_pd_over_the_nadir_wins_over_a_decrease_from_baseline():
    # 100 -> 20 (PR) -> 60: -40 % from baseline but +200 % and +40 mm over the nadir 20 -> PD.
    _first, second = evaluate_series(one_target(100), 0, [point(T1=20), point(T1=60)])
    assert second.target == Response.PD


def test_lymph_node_under_10_mm_is_cr_though_the_sum_is_not_zero():
    # Node 20 -> 8 mm short axis (< 10 = normal), liver 30 -> 0: sum 8 mm, target CR.
    targets = [target("T1", 30), target("N1", 20, "lymph node", node=True)]
    (result,) = evaluate_series(targets, 0, [point(T1=0, N1=8)])
    assert (result.sum_mm, result.target, result.overall) == (D(8), Response.CR, Response.CR)


def test_lymph_node_at_10_mm_is_not_cr():
    # Sum 50 -> 10 (node at 10 mm is still pathological): -80 % -> PR, not CR.
    targets = [target("T1", 30), target("N1", 20, "lymph node", node=True)]
    (result,) = evaluate_series(targets, 0, [point(T1=0, N1=10)])
    assert (result.sum_mm, result.target) == (D(10), Response.PR)


def test_lymph_node_at_10_mm_alone_is_sd_by_the_sum():
    # Node 15 -> 10: -5/15 = -33.3 % -> PR, not CR (10 mm is pathological); 15 -> 11: -4/15 = -26.67 %
    # (shown -26.6, truncated toward zero) -> SD.
    node = [target("N1", 15, "lymph node", node=True)]
    at_10, at_11 = evaluate_series(node, 0, [point(N1=10), point(N1=11)])
    assert (at_10.target, at_10.change_from_baseline_pct) == (Response.PR, D("-33.3"))
    assert (at_11.target, at_11.change_from_baseline_pct) == (Response.SD, D("-26.6"))


def test_not_assessed_target_makes_the_time_point_ne():
    # T2 not read: sum unknown, target NE, overall NE; the nadir stays at the baseline 50.
    targets = [target("T1", 30), target("T2", 20, "lung")]
    ne, later = evaluate_series(targets, 0, [point(T1=10, T2=None), point(T1=30, T2=20)])
    assert (ne.sum_mm, ne.target, ne.overall, ne.change_from_baseline_pct) == (None, Response.NE, Response.NE, None)
    assert later.nadir_mm == D(50)


def test_missing_key_counts_as_not_assessed():
    targets = [target("T1", 30), target("T2", 20, "lung")]
    (result,) = evaluate_series(targets, 0, [point(T1=10)])
    assert result.target == Response.NE


def test_not_assessed_target_is_pd_when_the_assessed_ones_alone_show_pd():
    # Baseline 30 + 20 = 50 = nadir; T1 alone at 61: +11 mm = +22 % over 50 -> PD whatever T2 is.
    targets = [target("T1", 30), target("T2", 20, "lung")]
    (result,) = evaluate_series(targets, 0, [point(T1=61, T2=None)])
    assert (result.sum_mm, result.target, result.overall) == (None, Response.PD, Response.PD)


def test_not_assessed_target_stays_ne_when_the_assessed_ones_fall_short_of_pd():
    # T1 alone at 59: +9 mm = +18 % over 50 -> not PD -> NE.
    targets = [target("T1", 30), target("T2", 20, "lung")]
    (result,) = evaluate_series(targets, 0, [point(T1=59, T2=None)])
    assert result.target == Response.NE


def test_unknown_target_key_is_refused():
    with pytest.raises(ValueError):
        evaluate_series(one_target(20), 0, [point(T1=20, T9=10)])


# --- Non-targets and new lesions (RECIST 1.1 §4.3.3, §4.3.5, Table 1) ----------------------


def test_new_lesion_is_pd_while_the_targets_shrink():
    # 100 -> 50 is PR for the targets, but a new lesion -> overall PD.
    (result,) = evaluate_series(one_target(100), 0, [point(T1=50, new=NewLesion.YES)])
    assert (result.target, result.overall) == (Response.PR, Response.PD)


def test_equivocal_new_lesion_is_not_pd():
    (result,) = evaluate_series(one_target(100), 0, [point(T1=50, new=NewLesion.EQUIVOCAL)])
    assert result.overall == Response.PR


def test_non_target_unequivocal_progression_is_pd():
    (result,) = evaluate_series(one_target(100), 2, [point(T1=50, non_target=[PRESENT, PROGRESSION])])
    assert (result.target, result.non_target, result.overall) == (Response.PR, Response.PD, Response.PD)


def test_target_cr_with_a_non_target_not_assessed_is_pr():
    (result,) = evaluate_series(one_target(100), 2, [point(T1=0, non_target=[ABSENT, NOT_ASSESSED])])
    assert (result.target, result.non_target, result.overall) == (Response.CR, Response.NE, Response.PR)


def test_target_cr_with_a_non_target_present_is_pr():
    (result,) = evaluate_series(one_target(100), 1, [point(T1=0, non_target=[PRESENT])])
    assert (result.target, result.non_target, result.overall) == (Response.CR, Response.NON_CR_NON_PD, Response.PR)


def test_target_cr_with_all_non_targets_absent_is_cr():
    (result,) = evaluate_series(one_target(100), 2, [point(T1=0, non_target=[ABSENT, ABSENT])])
    assert (result.non_target, result.overall) == (Response.CR, Response.CR)


def test_target_sd_or_ne_with_a_non_target_not_assessed_keeps_the_target_response():
    # 100 -> 90 = -10 % -> SD; NT not assessed is "non-PD" in Table 1.
    (result,) = evaluate_series(one_target(100), 1, [point(T1=90, non_target=[NOT_ASSESSED])])
    assert (result.non_target, result.overall) == (Response.NE, Response.SD)


def test_no_non_target_lesions_gives_no_non_target_response():
    (result,) = evaluate_series(one_target(100), 0, [point(T1=90)])
    assert result.non_target is None


# --- Non-target-only disease (RECIST 1.1 Table 2) -------------------------------------------


def test_non_target_only_disease_cr_nn_and_pd_by_new_lesion():
    cr, nn, ne, pd = evaluate_series(
        [],
        2,
        [
            point(non_target=[ABSENT, ABSENT]),
            point(non_target=[ABSENT, PRESENT]),
            point(non_target=[ABSENT, NOT_ASSESSED]),
            point(non_target=[ABSENT, ABSENT], new=NewLesion.YES),
        ],
    )
    assert (cr.target, cr.sum_mm, cr.nadir_mm) == (None, None, None)
    assert [r.overall for r in (cr, nn, ne, pd)] == [Response.CR, Response.NON_CR_NON_PD, Response.NE, Response.PD]


# --- Best overall response (RECIST 1.1 §4.4.3, §4.6.1) --------------------------------------


def test_best_response_pr_confirmed_28_days_later():
    best = best_overall_response([(day(42), Response.PR), (day(70), Response.PR)], baseline_date=BASELINE)
    assert best == BestResponse(Response.PR, True, day(42))


def test_best_response_pr_27_days_later_is_not_confirmed_and_counts_as_sd():
    # PR at day 42 (>= 35 from baseline) unconfirmed -> SD dated day 42.
    best = best_overall_response([(day(42), Response.PR), (day(69), Response.PR)], baseline_date=BASELINE)
    assert best == BestResponse(Response.SD, False, day(42))


def test_best_response_pr_confirmed_by_a_later_cr():
    best = best_overall_response([(day(42), Response.PR), (day(84), Response.CR)], baseline_date=BASELINE)
    assert best == BestResponse(Response.PR, True, day(42))


def test_best_response_cr_then_ne_then_cr_is_confirmed_cr():
    series = [(day(42), Response.CR), (day(56), Response.NE), (day(70), Response.CR)]
    assert best_overall_response(series, baseline_date=BASELINE) == BestResponse(Response.CR, True, day(42))


def test_best_response_cr_not_confirmed_across_an_sd():
    series = [(day(42), Response.CR), (day(56), Response.SD), (day(84), Response.CR)]
    # Day 42 CR broken by SD; day 84 CR has no later CR -> best is SD from day 42.
    assert best_overall_response(series, baseline_date=BASELINE) == BestResponse(Response.SD, False, day(42))


def test_best_response_pr_then_pd_is_sd_when_the_pr_meets_the_sd_minimum():
    series = [(day(42), Response.PR), (day(84), Response.PD)]
    assert best_overall_response(series, baseline_date=BASELINE) == BestResponse(Response.SD, False, day(42))


def test_best_response_pr_then_pd_is_pd_when_the_pr_is_before_the_sd_minimum():
    series = [(day(30), Response.PR), (day(60), Response.PD)]
    assert best_overall_response(series, baseline_date=BASELINE) == BestResponse(Response.PD, False, day(60))


def test_best_response_sd_before_the_sd_minimum_then_pd_is_pd():
    series = [(day(34), Response.SD), (day(63), Response.PD)]
    assert best_overall_response(series, baseline_date=BASELINE) == BestResponse(Response.PD, False, day(63))


def test_best_response_sd_before_the_sd_minimum_alone_is_ne():
    assert best_overall_response([(day(34), Response.SD)], baseline_date=BASELINE).response == Response.NE


def test_best_response_ignores_time_points_after_the_first_pd():
    # The PR pair after the PD does not count.
    series = [(day(42), Response.PD), (day(84), Response.PR), (day(126), Response.PR)]
    assert best_overall_response(series, baseline_date=BASELINE) == BestResponse(Response.PD, False, day(42))


def test_best_response_non_target_only_nn_beats_pd():
    series = [(day(42), Response.NON_CR_NON_PD), (day(84), Response.PD)]
    best = best_overall_response(series, baseline_date=BASELINE)
    assert best == BestResponse(Response.NON_CR_NON_PD, False, day(42))


def test_best_response_empty_series_is_ne():
    assert best_overall_response([], baseline_date=BASELINE) == BestResponse(Response.NE, False, None)
