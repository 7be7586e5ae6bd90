"""Tumour assessments by RECIST 1.1: the site enters lesions and measurements, the software scores.

After every change of a participant's assessments the whole series is scored again
(`efficacy.recist`), so a corrected baseline or earlier scan moves the nadir and every later
response at once. The computed columns are derived data: they are rewritten from the audited
measurements, not audited themselves.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from efficacy import recist, records
from efficacy.models import Lesion, LesionResult, TumourAssessment
from enrollment.models import Participant
from scr_escc.audit import create_record, lock_for_change, require_reason, save_audited, void_audited
from scr_escc.transactions import retry_on_conflict

ASSESSMENT_FIELDS = (
    "assessment_date",
    "method",
    "new_lesion",
    "new_lesion_description",
    "investigator_response",
    "comments",
)
LESION_FIELDS = ("organ", "location", "lymph_node")


def baseline_of(participant: Participant) -> TumourAssessment | None:
    return TumourAssessment.objects.filter(participant=participant, baseline=True, voided=False).first()


def lesions_of(participant: Participant) -> list[Lesion]:
    """The lesions chosen at the participant's (current) baseline."""
    return list(
        Lesion.objects.filter(baseline__participant=participant, baseline__voided=False).order_by("-target", "number")
    )


def _baseline_errors(targets: Sequence[Mapping], non_targets: Sequence[Mapping]) -> dict:
    """RECIST 1.1 baseline rules; messages name the lesion (T1…, NT1…) under `targets` / `non_targets`."""
    errors: dict[str, list[str]] = {}
    for i, t in enumerate(targets):
        if t.get("diameter_mm") is None:
            errors.setdefault("targets", []).append(
                _("T%(n)s: measure every target lesion at baseline.") % {"n": i + 1}
            )
        if not (t.get("organ") or "").strip():
            errors.setdefault("targets", []).append(_("T%(n)s: name the organ of the lesion.") % {"n": i + 1})
    for i, n in enumerate(non_targets):
        if not (n.get("organ") or "").strip():
            errors.setdefault("non_targets", []).append(_("NT%(n)s: name the organ of the lesion.") % {"n": i + 1})
    candidates = [
        recist.BaselineTarget(
            key=f"T{i + 1}",
            # All lymph nodes count as one organ for the two-per-organ limit (RECIST 1.1 §4.2).
            organ="lymph nodes" if t.get("lymph_node") else (t.get("organ") or "").strip(),
            lymph_node=bool(t.get("lymph_node")),
            diameter_mm=Decimal(t.get("diameter_mm") or 0),
        )
        for i, t in enumerate(targets)
    ]
    for index, message in recist.baseline_errors(candidates, len(non_targets)):
        prefix = "" if index is None else f"T{index + 1}: "
        errors.setdefault("targets", []).append(prefix + message)
    return errors


def _date_check(participant: Participant, assessment: TumourAssessment) -> dict:
    errors = records.date_errors(participant, assessment.assessment_date, "assessment_date", not_before=None)
    if errors or assessment.voided:
        return errors
    others = TumourAssessment.objects.filter(participant=participant, voided=False).exclude(pk=assessment.pk)
    baseline = others.filter(baseline=True).first()
    if assessment.baseline:
        first_follow_up = others.filter(baseline=False).order_by("assessment_date").first()
        if first_follow_up and assessment.assessment_date >= first_follow_up.assessment_date:
            return {"assessment_date": [_("The baseline must be before the first follow-up assessment.")]}
        return {}
    if baseline is None:
        return {"assessment_date": [_("Record the baseline assessment first.")]}
    if assessment.assessment_date <= baseline.assessment_date:
        return {
            "assessment_date": [
                _("A follow-up assessment comes after the baseline (%(d)s).")
                % {"d": baseline.assessment_date.isoformat()}
            ]
        }
    if others.filter(baseline=False, assessment_date=assessment.assessment_date).exists():
        return {"assessment_date": [_("An assessment of this date is already recorded; correct that one.")]}
    start = records.start_of_study_treatment(participant)
    if start and assessment.assessment_date < start:
        return {
            "assessment_date": [
                _("A follow-up assessment cannot be before %(d)s, the start of study treatment.")
                % {"d": start.isoformat()}
            ]
        }
    return {}


def _follow_up_errors(assessment: TumourAssessment, lesions: list[Lesion], targets, non_targets) -> dict:
    errors: dict[str, list[str]] = {}
    if not assessment.investigator_response:
        errors["investigator_response"] = [_("Record the investigator's own response.")]
    known = {lesion.code for lesion in lesions}
    if set(targets) - known or set(non_targets) - known:
        errors["targets"] = [_("Measurements name lesions not chosen at baseline.")]
    for lesion in lesions:
        if not lesion.target and non_targets.get(lesion.code) not in {
            status.value for status in recist.NonTargetStatus
        }:
            errors.setdefault("non_targets", []).append(
                _("%(code)s: give the status of this non-target lesion.") % {"code": lesion.code}
            )
    if assessment.new_lesion != recist.NewLesion.NO and not assessment.new_lesion_description.strip():
        errors["new_lesion_description"] = [_("Say where the new lesion is.")]
    return errors


@retry_on_conflict
def record_baseline(
    *, participant: Participant, data: dict, targets: Sequence[Mapping], non_targets: Sequence[Mapping], user
):
    """The baseline scan with the lesions chosen: targets measured (max 5, 2 per organ), non-targets listed."""
    records.check_writer(user, participant)
    with transaction.atomic():
        current = records.lock_participant(participant)
        if baseline_of(current) is not None:
            raise ValidationError({"assessment_date": _("The baseline is already recorded; correct it instead.")})
        assessment = TumourAssessment(participant=current, created_by=user, baseline=True)
        records.assign(assessment, data, ("assessment_date", "method", "comments"))
        assessment.full_clean(exclude=["participant", "created_by"])
        records.raise_errors(records.merge(_date_check(current, assessment), _baseline_errors(targets, non_targets)))
        create_record(assessment, user=user, reason=_("Baseline tumour assessment recorded"))
        for target, rows in ((True, targets), (False, non_targets)):
            for number, row in enumerate(rows, start=1):
                lesion = Lesion(baseline=assessment, target=target, number=number)
                records.assign(lesion, row, LESION_FIELDS)
                create_record(lesion, user=user, reason=_("Lesion chosen at baseline"))
                result = LesionResult(assessment=assessment, lesion=lesion)
                if target:
                    result.diameter_mm = row["diameter_mm"]
                else:
                    result.status = recist.NonTargetStatus.PRESENT
                create_record(result, user=user, reason=_("Baseline measurement"))
        score(current)
        assessment.refresh_from_db()  # the computed sum, written by score()
    return assessment


@retry_on_conflict
def record_follow_up(*, participant: Participant, data: dict, targets: Mapping, non_targets: Mapping, user):
    """A follow-up scan: each baseline target's diameter (None = not assessed), non-target status, new lesions."""
    records.check_writer(user, participant)
    with transaction.atomic():
        current = records.lock_participant(participant)
        assessment = TumourAssessment(participant=current, created_by=user, baseline=False)
        records.assign(assessment, data, ASSESSMENT_FIELDS)
        assessment.full_clean(exclude=["participant", "created_by"])
        lesions = lesions_of(current)
        records.raise_errors(
            records.merge(
                _date_check(current, assessment), _follow_up_errors(assessment, lesions, targets, non_targets)
            )
        )
        create_record(assessment, user=user, reason=_("Tumour assessment recorded"))
        for lesion in lesions:
            result = LesionResult(assessment=assessment, lesion=lesion)
            if lesion.target:
                result.diameter_mm = targets.get(lesion.code)
            else:
                result.status = non_targets[lesion.code]
            create_record(result, user=user, reason=_("Measurement recorded"))
        score(current)
        assessment.refresh_from_db()  # the computed columns, written by score()
    return assessment


@retry_on_conflict
def update_assessment(
    *, assessment, data: dict, targets: Mapping, non_targets: Mapping, user, reason, expected_version=None
):
    """A correction of a scan's data or measurements; the series is scored again.

    `targets` / `non_targets` give the lesions that change (a target's None: not assessed); a lesion
    not named keeps its stored value, so page and API send what they have and nothing else.
    """
    reason = require_reason(reason)
    records.check_writer(user, assessment.participant)
    with transaction.atomic():
        participant = records.lock_participant(assessment.participant)
        current = lock_for_change(assessment, expected_version=expected_version)
        results = list(current.results.select_related("lesion").select_for_update(of=("self",)))
        targets = {r.lesion.code: r.diameter_mm for r in results if r.lesion.target} | dict(targets)
        non_targets = {r.lesion.code: r.status for r in results if not r.lesion.target} | dict(non_targets)
        fields = ("assessment_date", "method", "comments") if current.baseline else ASSESSMENT_FIELDS
        records.assign(current, data, fields)
        current.full_clean(exclude=["participant", "created_by"])
        lesions = lesions_of(participant)
        errors = _date_check(participant, current)
        if current.baseline:
            rows = [
                {"organ": lesion.organ, "lymph_node": lesion.lymph_node, "diameter_mm": targets.get(lesion.code)}
                for lesion in lesions
                if lesion.target
            ]
            others = [{"organ": lesion.organ} for lesion in lesions if not lesion.target]
            errors = records.merge(errors, _baseline_errors(rows, others))
        else:
            errors = records.merge(errors, _follow_up_errors(current, lesions, targets, non_targets))
        records.raise_errors(errors)
        save_audited(current, user=user, reason=reason)
        for result in results:
            new = (
                (targets[result.lesion.code], result.status)
                if result.lesion.target
                else (result.diameter_mm, non_targets[result.lesion.code])
            )
            if (result.diameter_mm, result.status) != new:
                result.diameter_mm, result.status = new
                save_audited(result, user=user, reason=reason)
        score(participant)
        current.refresh_from_db()
    return current


@retry_on_conflict
def void_assessment(*, assessment, user, reason, expected_version=None):
    reason = require_reason(reason, field="reason")
    records.check_writer(user, assessment.participant)
    with transaction.atomic():
        participant = records.lock_participant(assessment.participant)
        current = lock_for_change(assessment, expected_version=expected_version)
        later = TumourAssessment.objects.filter(participant=participant, baseline=False, voided=False)
        if current.baseline and later.exists():
            raise ValidationError({"reason": _("Void the follow-up assessments before the baseline they refer to.")})
        void_audited(current, user=user, reason=reason)  # a voided baseline takes its lesions with it
        score(participant)
    return current


def score(participant: Participant) -> list[TumourAssessment]:
    """Score the participant's whole series again (RECIST 1.1) and store the computed columns."""
    series = list(TumourAssessment.objects.filter(participant=participant, voided=False).order_by("assessment_date"))
    baseline = next((a for a in series if a.baseline), None)
    follow_ups = [a for a in series if not a.baseline]
    if baseline is None:
        return []
    lesions = list(baseline.lesions.all())
    by_assessment: dict[int, dict[str, LesionResult]] = {}
    for result in LesionResult.objects.filter(assessment__in=series).select_related("lesion"):
        by_assessment.setdefault(result.assessment_id, {})[result.lesion.code] = result
    base = by_assessment.get(baseline.pk, {})
    targets = [
        recist.BaselineTarget(lesion.code, lesion.organ, lesion.lymph_node, base[lesion.code].diameter_mm)
        for lesion in lesions
        if lesion.target
    ]
    non_target_count = sum(1 for lesion in lesions if not lesion.target)
    points = []
    for assessment in follow_ups:
        results = by_assessment.get(assessment.pk, {})
        points.append(
            recist.TimePoint(
                target_mm={code: r.diameter_mm for code, r in results.items() if r.lesion.target},
                non_target=[recist.NonTargetStatus(r.status) for r in results.values() if not r.lesion.target],
                new_lesion=recist.NewLesion(assessment.new_lesion),
            )
        )
    TumourAssessment.objects.filter(pk=baseline.pk).update(sum_mm=recist.baseline_sum(targets) if targets else None)
    for assessment, result in zip(follow_ups, recist.evaluate_series(targets, non_target_count, points), strict=True):
        computed = {
            "sum_mm": result.sum_mm,
            "nadir_mm": result.nadir_mm,
            "change_from_baseline_pct": result.change_from_baseline_pct,
            "change_from_nadir_pct": result.change_from_nadir_pct,
            "target_response": result.target or "",
            "non_target_response": result.non_target or "",
            "computed_response": result.overall,
        }
        TumourAssessment.objects.filter(pk=assessment.pk).update(**computed)
        for field, value in computed.items():
            setattr(assessment, field, value)
    return follow_ups
