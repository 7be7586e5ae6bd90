"""RECIST 1.1 computed from the measurements, never typed (Eisenhauer et al., Eur J Cancer 2009;45:228-247).

Pure rules: no model, no database. Millimetres are `Decimal`; thresholds are compared exactly
(cross-multiplied, never through a rounded percentage). Percentages are rounded only for display.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from enum import StrEnum

from django.utils.translation import gettext as _

_MAX_TARGETS = 5
_MAX_TARGETS_PER_ORGAN = 2
_MEASURABLE_MM = Decimal(10)  # §3.1.1: longest diameter >= 10 mm (CT)
_NODE_TARGET_MM = Decimal(15)  # §3.1.1: a malignant node is measurable with short axis >= 15 mm
_NODE_NORMAL_MM = Decimal(10)  # §3.1.2 / §4.3.1: a node < 10 mm short axis is normal
_PD_MIN_INCREASE_MM = Decimal(5)  # §4.3.1: PD also needs an absolute increase of >= 5 mm
_ONE_DECIMAL = Decimal("0.1")


class Response(StrEnum):
    """A RECIST 1.1 response; the value is the code stored in the database and the exports."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NON_CR_NON_PD = "NN"  # only when there are no target lesions (RECIST 1.1 Table 2)

    @property
    def label(self) -> str:
        """Human text, translated at the time it is asked for."""
        return {
            Response.CR: _("Complete response"),
            Response.PR: _("Partial response"),
            Response.SD: _("Stable disease"),
            Response.PD: _("Progressive disease"),
            Response.NE: _("Not evaluable"),
            Response.NON_CR_NON_PD: _("Non-CR/non-PD"),
        }[self]


# Time-point responses that count as SD (or NN) for the best response once sd_min_days have passed.
_STABLE_OR_BETTER = frozenset({Response.CR, Response.PR, Response.SD, Response.NON_CR_NON_PD})


class NonTargetStatus(StrEnum):
    """One non-target lesion at a time point (RECIST 1.1 §4.3.3)."""

    PRESENT = "present"  # non-CR/non-PD
    ABSENT = "absent"  # disappeared (a node: < 10 mm short axis)
    UNEQUIVOCAL_PROGRESSION = "progression"
    NOT_ASSESSED = "not_assessed"


class NewLesion(StrEnum):
    """New lesions at a time point (RECIST 1.1 §4.3.5).

    Equivocal is not PD: follow-up clarifies it; once confirmed, the time point is recorded as YES.
    """

    NO = "no"
    YES = "yes"
    EQUIVOCAL = "equivocal"


@dataclass(frozen=True)
class BaselineTarget:
    key: str  # e.g. "T1"
    organ: str
    lymph_node: bool
    diameter_mm: Decimal  # longest diameter; short axis for a lymph node


@dataclass(frozen=True)
class TimePoint:
    target_mm: Mapping[str, Decimal | None]  # key -> measurement; None = not assessed; 0 = disappeared
    non_target: Sequence[NonTargetStatus]
    new_lesion: NewLesion


@dataclass(frozen=True)
class TimePointResult:
    sum_mm: Decimal | None  # None when any target was not assessed
    nadir_mm: Decimal | None  # smallest sum before this time point, baseline included; None without targets
    change_from_baseline_pct: Decimal | None  # for display: 1 decimal, truncated toward zero
    change_from_nadir_pct: Decimal | None
    target: Response | None  # None when there are no target lesions
    non_target: Response | None  # CR / NN / PD / NE; None when there are no non-target lesions
    overall: Response


@dataclass(frozen=True)
class BestResponse:
    response: Response  # best overall response
    confirmed: bool  # CR/PR confirmed by a later assessment >= confirm_days later; False for others
    date: date | None  # date of the (first) assessment that gave it


def baseline_errors(targets: Sequence[BaselineTarget], non_target_count: int) -> list[tuple[int | None, str]]:
    """(index of the target, or None for the whole baseline, message).

    RECIST 1.1 §4.2: at most 5 targets, at most 2 per organ, at least one lesion overall.
    §3.1: a non-nodal target needs a longest diameter >= 10 mm; a nodal target a short axis >= 15 mm
    (a node of 10 to < 15 mm is a non-target; < 10 mm is not pathological).
    """
    errors: list[tuple[int | None, str]] = []
    if not targets and non_target_count <= 0:
        errors.append((None, _("Record at least one lesion at baseline (target or non-target).")))
    if len(targets) > _MAX_TARGETS:
        message = _("At most %(max)s target lesions in total (RECIST 1.1); %(count)s were recorded.")
        errors.append((None, message % {"max": _MAX_TARGETS, "count": len(targets)}))
    per_organ: dict[str, int] = {}
    for index, target in enumerate(targets):
        organ = target.organ.strip().casefold()
        per_organ[organ] = per_organ.get(organ, 0) + 1
        if per_organ[organ] > _MAX_TARGETS_PER_ORGAN:
            message = _("At most %(max)s target lesions per organ (RECIST 1.1); %(organ)s already has %(max)s.")
            errors.append((index, message % {"max": _MAX_TARGETS_PER_ORGAN, "organ": target.organ.strip()}))
        measurability = _measurability_error(target)
        if measurability:
            errors.append((index, measurability))
    return errors


def _measurability_error(target: BaselineTarget) -> str | None:
    """RECIST 1.1 §3.1: measurable at baseline, or why not."""
    size = {"size": target.diameter_mm}
    if not target.lymph_node:
        if target.diameter_mm < _MEASURABLE_MM:
            return _("A target lesion needs a longest diameter of at least 10 mm (%(size)s mm).") % size
        return None
    if target.diameter_mm < _NODE_NORMAL_MM:
        return _("A lymph node under 10 mm short axis is not pathological (%(size)s mm): not a lesion.") % size
    if target.diameter_mm < _NODE_TARGET_MM:
        return (
            _(
                "A lymph node needs a short axis of at least 15 mm to be a target (%(size)s mm); "
                "a node of 10 to under 15 mm is a non-target lesion."
            )
            % size
        )
    return None


def baseline_sum(targets: Sequence[BaselineTarget]) -> Decimal:
    """Sum of the baseline diameters: longest diameters, short axes for nodes (RECIST 1.1 §4.2)."""
    return sum((target.diameter_mm for target in targets), Decimal(0))


def evaluate_series(
    targets: Sequence[BaselineTarget], non_target_count: int, timepoints: Sequence[TimePoint]
) -> list[TimePointResult]:
    """Time-point responses in order (RECIST 1.1 §4.3, Tables 1 and 2).

    The nadir is the smallest sum among the baseline and the earlier time points whose sum is known.
    A key missing from `target_mm` counts as not assessed; a key not among the targets is a ValueError.
    """
    keys = [target.key for target in targets]
    if len(set(keys)) != len(keys):
        raise ValueError("Duplicate target keys at baseline.")
    base = baseline_sum(targets) if targets else None
    nadir = base
    results = []
    for point in timepoints:
        unknown = set(point.target_mm) - set(keys)
        if unknown:
            raise ValueError(f"Measurements for unknown target keys: {sorted(unknown)}")
        total, target = _target_response(targets, point.target_mm, base, nadir) if targets else (None, None)
        non_target = _non_target_response(point.non_target, non_target_count)
        results.append(
            TimePointResult(
                sum_mm=total,
                nadir_mm=nadir,
                change_from_baseline_pct=_percent(total, base),
                change_from_nadir_pct=_percent(total, nadir),
                target=target,
                non_target=non_target,
                overall=_overall(target, non_target, point.new_lesion),
            )
        )
        if total is not None and nadir is not None and total < nadir:
            nadir = total
    return results


def _target_response(
    targets: Sequence[BaselineTarget], measured: Mapping[str, Decimal | None], base: Decimal, nadir: Decimal
) -> tuple[Decimal | None, Response]:
    """(sum, target response), RECIST 1.1 §4.3.1 and §4.4.2 (missing measurements).

    CR: every non-nodal target 0 and every node < 10 mm, whatever the sum (nodes stay in it).
    PD: sum >= nadir + 20% and >= nadir + 5 mm. PR: sum <= baseline - 30%. Else SD.
    Any target not assessed: NE, unless the assessed ones alone already meet PD.
    """
    values = [(target, measured.get(target.key)) for target in targets]
    if any(value is not None and value < 0 for _target, value in values):
        raise ValueError("A target measurement cannot be negative.")
    known = [value for _target, value in values if value is not None]
    partial = sum(known, Decimal(0))
    if len(known) < len(values):
        return None, Response.PD if _is_progression(partial, nadir) else Response.NE
    if all(value < _NODE_NORMAL_MM if target.lymph_node else value == 0 for target, value in values):
        return partial, Response.CR
    if _is_progression(partial, nadir):
        return partial, Response.PD
    if partial * 10 <= base * 7:  # a decrease of >= 30% from the baseline sum, exactly
        return partial, Response.PR
    return partial, Response.SD


def _is_progression(total: Decimal, nadir: Decimal) -> bool:
    """RECIST 1.1 §4.3.1: an increase of >= 20% over the nadir and of >= 5 mm, both exact."""
    increase = total - nadir
    return increase * 5 >= nadir and increase >= _PD_MIN_INCREASE_MM


def _non_target_response(statuses: Sequence[NonTargetStatus], count: int) -> Response | None:
    """RECIST 1.1 §4.3.3: PD if any unequivocal progression; else NE if any not assessed;
    CR if all absent; else non-CR/non-PD. Statuses fewer than `count` count as not assessed."""
    if count <= 0 and not statuses:
        return None
    if len(statuses) > max(count, 0):
        raise ValueError("More non-target statuses than non-target lesions.")
    if NonTargetStatus.UNEQUIVOCAL_PROGRESSION in statuses:
        return Response.PD
    if NonTargetStatus.NOT_ASSESSED in statuses or len(statuses) < count:
        return Response.NE
    if all(status == NonTargetStatus.ABSENT for status in statuses):
        return Response.CR
    return Response.NON_CR_NON_PD


def _overall(target: Response | None, non_target: Response | None, new_lesion: NewLesion) -> Response:
    """RECIST 1.1 Table 1 (targets at baseline) and Table 2 (non-targets only).

    An equivocal new lesion counts as no new lesion (§4.3.5).
    """
    if new_lesion == NewLesion.YES or Response.PD in (target, non_target):
        return Response.PD
    if target is None:  # Table 2: CR, NN or NE as the non-targets are
        return non_target if non_target is not None else Response.NE
    if target == Response.CR:
        return Response.CR if non_target in (None, Response.CR) else Response.PR
    return target  # PR, SD or NE whatever the non-targets, once PD is ruled out


def _percent(total: Decimal | None, reference: Decimal | None) -> Decimal | None:
    """Change in %, one decimal, truncated toward zero.

    Truncation keeps the displayed figure on the same side of the 30% and 20% thresholds as the
    exact comparison (-29.96% shows -29.9, not -30.0 next to SD).
    """
    if total is None or not reference:
        return None
    return ((total - reference) * 100 / reference).quantize(_ONE_DECIMAL, rounding=ROUND_DOWN)


def best_overall_response(
    series: Sequence[tuple[date, Response]], *, baseline_date: date, confirm_days: int = 28, sd_min_days: int = 35
) -> BestResponse:
    """RECIST 1.1 §4.4.3 (Table 3) with the confirmation of §4.6.1, applied always.

    Only time points up to and including the first PD count. Best: confirmed CR > confirmed PR >
    SD (incl. unconfirmed CR/PR) > NN > PD > NE. SD, unconfirmed CR/PR and NN qualify only
    >= sd_min_days after baseline_date (§4.6.3). A series with NN has no targets: there an
    unconfirmed CR falls to NN rather than SD.
    """
    points = sorted(series, key=lambda point: point[0])
    first_pd = next((i for i, (_day, response) in enumerate(points) if response == Response.PD), None)
    if first_pd is not None:
        points = points[: first_pd + 1]
    for wanted, confirming in ((Response.CR, {Response.CR}), (Response.PR, {Response.PR, Response.CR})):
        for index, (day, response) in enumerate(points):
            if response == wanted and _confirmed(points, index, confirming, confirm_days):
                return BestResponse(wanted, True, day)
    # NN only arises without targets, where an unconfirmed CR is non-CR/non-PD, not SD (Table 2).
    no_targets = any(response == Response.NON_CR_NON_PD for _day, response in points)
    stable = Response.NON_CR_NON_PD if no_targets else Response.SD
    for day, response in points:
        if response in _STABLE_OR_BETTER and (day - baseline_date).days >= sd_min_days:
            return BestResponse(stable, False, day)
    for level in (Response.PD, Response.NE):
        day = next((day for day, response in points if response == level), None)
        if day is not None:
            return BestResponse(level, False, day)
    return BestResponse(Response.NE, False, None)


def _confirmed(points: Sequence[tuple[date, Response]], index: int, confirming: set[Response], days: int) -> bool:
    """RECIST 1.1 §4.6.1: a later time point >= `days` after it confirms the response; only
    confirming responses or NE may lie in between."""
    start = points[index][0]
    for day, response in points[index + 1 :]:
        if response == Response.NE:
            continue
        if response not in confirming:
            return False
        if (day - start).days >= days:
            return True
    return False
