"""Reads of adverse events, always scoped to the user's sites, and the stopping-rule count."""

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from enrollment.models import Cohort
from safety.models import AdverseEvent, CtcaeTerm
from scr_escc.scoping import get_scoped_or_404, scope_to_user


def _stopping_rule_aes() -> QuerySet[AdverseEvent]:
    """Grade 5 AEs of run-in participants, not voided, that count as treatment-related: related by
    attribution, or not yet signed off by an investigator — conservative, so no single
    coordinator entry keeps a death out of the count (SPEC §4)."""
    return AdverseEvent.objects.filter(voided=False, grade=5, participant__cohort=Cohort.RUN_IN).filter(
        Q(treatment_related=True) | Q(attribution_signature__isnull=True)
    )


def stopping_rule_events() -> list[AdverseEvent]:
    """The AEs behind the count."""
    return list(
        _stopping_rule_aes()
        .select_related("participant", "participant__site", "attribution_signature")
        .order_by("death_date", "pk")
    )


def stopping_rule_count() -> int:
    """Distinct run-in participants with at least one counting Grade 5 AE (SPEC §4)."""
    return _stopping_rule_aes().values("participant").distinct().count()


def counts_toward_stopping_rule(ae: AdverseEvent) -> bool:
    return _stopping_rule_aes().filter(pk=ae.pk).exists()


def deaths_awaiting_sign_off(*, site=None) -> list[AdverseEvent]:
    """Grade 5 AEs whose attribution no investigator has signed yet, oldest death first."""
    aes = _active_aes(site).filter(grade=5, attribution_signature__isnull=True)
    return list(aes.select_related("participant", "participant__site").order_by("death_date", "pk"))


def adverse_event_rows_visible_to(user) -> QuerySet[AdverseEvent]:
    """The AE list's rows: only the columns the list shows, so a sort by any column sorts narrow
    rows (the CTCAE term's five grade texts made each row 766 bytes and spilled the sort to disk)."""
    shown = "term soc grade serious treatment_related onset_date outcome voided participant__subject_id"
    return (
        adverse_events_visible_to(user)
        .select_related(None)
        .select_related("participant__site")
        .only(*shown.split(), "participant", "participant__site", "participant__site__code")
    )


def adverse_events_visible_to(user) -> QuerySet[AdverseEvent]:
    return scope_to_user(
        AdverseEvent.objects.select_related("participant", "participant__site", "ctcae_term"),
        user,
        site_field="participant__site",
    )


def adverse_event_get_for_user(user, pk) -> AdverseEvent:
    return get_scoped_or_404(
        AdverseEvent.objects.select_related(
            "participant",
            "participant__site",
            "participant__screening",
            "ctcae_term",
            "created_by",
            "attribution_signature",
        ),
        user,
        site_field="participant__site",
        pk=pk,
    )


def adverse_events_of(participant) -> QuerySet[AdverseEvent]:
    return participant.adverse_events.select_related("ctcae_term", "attribution_signature").order_by(
        "-onset_date", "-pk"
    )


def search_terms(query: str, limit: int = 20) -> QuerySet[CtcaeTerm]:
    query = (query or "").replace("\x00", "").strip()[:200]  # PostgreSQL refuses NUL in text
    terms = CtcaeTerm.objects.all()
    if query:
        terms = terms.filter(Q(term__icontains=query) | Q(soc__icontains=query))
        # Terms that start with the typed text first ("pneumo" → Pneumonitis before Lung infection).
        terms = terms.annotate(
            starts=Case(When(term__istartswith=query, then=Value(0)), default=Value(1), output_field=IntegerField())
        ).order_by("starts", "term")
    return terms[:limit]


# --- Aggregates for the PI dashboard: a fixed number of queries whatever the table sizes ---


def _active_aes(site=None):
    aes = AdverseEvent.objects.filter(voided=False)
    return aes.filter(participant__site=site) if site is not None else aes


def max_grade_by_group(*, site=None) -> dict:
    """Participants by maximum CTCAE grade, for run-in, Arm A, Arm B (and not yet randomized).

    One query: each participant's max grade as a subquery, then counted by group and grade.
    """
    from django.db.models import Count, Max, OuterRef, Subquery

    from enrollment.models import Participant

    max_grade = (
        AdverseEvent.objects.filter(participant=OuterRef("pk"), voided=False)
        .values("participant")
        .annotate(m=Max("grade"))
        .values("m")
    )
    participants = Participant.objects.all() if site is None else Participant.objects.filter(site=site)
    rows = (
        participants.annotate(max_grade=Subquery(max_grade))
        .values("cohort", "arm", "max_grade")
        .annotate(n=Count("pk"))
    )
    table: dict[str, dict] = {"run_in": {}, "A": {}, "B": {}}
    for row in rows:
        group = "run_in" if row["cohort"] == "run_in" else (row["arm"] or "not_randomized")
        counts = table.setdefault(group, {})
        key = row["max_grade"] or 0
        counts[key] = counts.get(key, 0) + row["n"]
        counts["total"] = counts.get("total", 0) + row["n"]
    return table


def related_grade3plus_by_term(*, site=None) -> list[tuple[str, int, int]]:
    """(term, events, participants) for treatment-related Grade ≥ 3 AEs, most frequent first."""
    from django.db.models import Count

    return [
        (row["term"], row["events"], row["participants"])
        for row in _active_aes(site)
        .filter(grade__gte=3, treatment_related=True)
        .values("term")
        .annotate(events=Count("pk"), participants=Count("participant", distinct=True))
        .order_by("-events", "term")
    ]


def ae_counts_by_grade(*, site=None) -> dict[int, int]:
    from django.db.models import Count

    counts = {g: 0 for g in range(1, 6)}
    for row in _active_aes(site).values("grade").annotate(n=Count("pk")):
        counts[row["grade"]] = row["n"]
    return counts


def sae_listing(*, site=None, limit: int = 50) -> tuple[list[AdverseEvent], int]:
    """The newest serious AEs (for the page) and how many there are in all: two queries."""
    saes = _active_aes(site).filter(serious=True)
    rows = list(saes.select_related("participant", "participant__site").order_by("-onset_date", "-pk")[:limit])
    return rows, saes.count()


def deaths(*, site=None, limit: int = 50) -> tuple[list[AdverseEvent], int]:
    fatal = _active_aes(site).filter(grade=5)
    rows = list(fatal.select_related("participant", "participant__site").order_by("-death_date", "-pk")[:limit])
    return rows, fatal.count()


def ctcae_term_by_name(name: str) -> CtcaeTerm | None:
    """The CTCAE v5.0 term spelled `name` (any case), or None."""
    return CtcaeTerm.objects.filter(term__iexact=(name or "").strip()).first()
