"""Reads of screenings and participants, always scoped to the user's sites."""

from django.db.models import QuerySet

from enrollment.models import Cohort, Participant, Screening
from scr_escc.scoping import get_scoped_or_404, scope_to_user


def screenings_visible_to(user) -> QuerySet[Screening]:
    return scope_to_user(Screening.objects.select_related("site", "participant", "previous_screening"), user)


def screening_get_for_user(user, pk) -> Screening:
    return get_scoped_or_404(Screening.objects.select_related("site", "created_by", "previous_screening"), user, pk=pk)


def _participants():
    return Participant.objects.select_related("site", "screening", "enrolled_by")


def participants_visible_to(user) -> QuerySet[Participant]:
    return scope_to_user(_participants(), user)


def participant_get_for_user(user, subject_id: str) -> Participant:
    return get_scoped_or_404(_participants(), user, subject_id=subject_id)


# --- Aggregates for the PI dashboard: a fixed number of queries whatever the table sizes ---


def _by_site(queryset, site, field="site"):
    return queryset.filter(**{field: site}) if site is not None else queryset


def screening_funnel(*, site=None) -> dict:
    """CONSORT counts: patients assessed (latest screening per patient), eligible, not eligible
    with the count per failed criterion. Two queries."""
    from django.db.models import Count, Func, Q

    latest = _by_site(Screening.objects.filter(voided=False, rescreening__isnull=True), site)
    counts = latest.aggregate(
        n_screened=Count("pk"),
        n_eligible=Count("pk", filter=Q(eligible=True)),
        n_not_eligible=Count("pk", filter=Q(eligible=False)),
        n_eligible_not_enrolled=Count("pk", filter=Q(eligible=True, participant__isnull=True)),
    )
    totals = {key.removeprefix("n_"): value for key, value in counts.items()}
    per_criterion = (
        latest.filter(eligible=False)
        .annotate(code=Func("failed_criteria", function="unnest"))
        .values("code")
        .annotate(n=Count("pk"))
        .order_by("-n", "code")
    )
    totals["failed_by_criterion"] = [(row["code"], row["n"]) for row in per_criterion]
    return totals


def participant_flow(*, site=None) -> dict:
    """Participants by cohort, arm and status in one query."""
    from django.db.models import Count

    rows = _by_site(Participant.objects.all(), site).values("cohort", "arm", "status").annotate(n=Count("pk"))
    flow: dict = {"run_in": {}, "randomized": {}, "A": {}, "B": {}, "not_randomized": {}}
    for row in rows:
        groups = [row["cohort"]]
        if row["cohort"] == Cohort.RANDOMIZED:
            groups.append(row["arm"] or "not_randomized")
        for group in groups:
            counts = flow[group]
            counts[row["status"]] = counts.get(row["status"], 0) + row["n"]
            counts["total"] = counts.get("total", 0) + row["n"]
    return flow


def enrollment_timeline(*, site=None) -> list[tuple]:
    """(date, cohort, count) per enrollment day, one query."""
    from django.db.models import Count

    return [
        (row["enrollment_date"], row["cohort"], row["n"])
        for row in _by_site(Participant.objects.all(), site)
        .values("enrollment_date", "cohort")
        .annotate(n=Count("pk"))
        .order_by("enrollment_date")
    ]


def enrollment_by_site(*, site=None) -> list[tuple]:
    from django.db.models import Count

    return [
        (row["site__code"], row["cohort"], row["n"])
        for row in _by_site(Participant.objects.all(), site)
        .values("site__code", "cohort")
        .annotate(n=Count("pk"))
        .order_by("site__code")
    ]
