"""Reads of randomization. Unused list entries are concealed: only admins' views may read them."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from enrollment.models import Cohort, ParticipantStatus
from randomization.models import (
    LOW_LIST_THRESHOLD,
    Allocation,
    AllocationEntry,
    AllocationList,
    AllocationListChange,
    Stratum,
)
from scr_escc.scoping import scope_to_user


def allocation_of(participant) -> Allocation | None:
    return Allocation.objects.filter(participant=participant).select_related("randomized_by").first()


def allocation_list_exists() -> bool:
    return AllocationList.objects.filter(active=True).exists()


def can_randomize(participant) -> bool:
    """Whether the participant page offers randomization (the service decides again)."""
    return (
        participant.cohort == Cohort.RANDOMIZED
        and participant.arm is None
        and participant.status == ParticipantStatus.ON_STUDY
    )


def active_list() -> AllocationList | None:
    return AllocationList.objects.filter(active=True).select_related("created_by").first()


def allocations_visible_to(user):
    return scope_to_user(
        Allocation.objects.select_related("participant", "participant__site", "randomized_by"),
        user,
        site_field="participant__site",
    )


@dataclass(frozen=True)
class StratumUsage:
    code: str
    total: int
    used: int

    @property
    def unused(self) -> int:
        return self.total - self.used

    @property
    def low(self) -> bool:
        """Fewer unused entries than the low-list alert threshold (SPEC §6)."""
        return self.unused < LOW_LIST_THRESHOLD


def list_usage_for_admin(user) -> list[StratumUsage]:
    """Entries used and left per stratum. Remaining counts help predict the next arm, so admins only."""
    if not user.has_perm("scr_escc.manage_allocation_list"):
        raise PermissionDenied(_("Only data managers see the allocation list."))
    strata = Stratum.objects.filter(allocation_list__active=True).annotate(
        total=Count("entries"), used=Count("entries", filter=Q(entries__allocation__isnull=False))
    )
    return [StratumUsage(s.code, s.total, s.used) for s in strata]


def list_changes_for_admin(user):
    """Who generated, imported or extended the active list, when and why. Admins only (seeds)."""
    if not user.has_perm("scr_escc.manage_allocation_list"):
        raise PermissionDenied(_("Only data managers see the allocation list."))
    return AllocationListChange.objects.filter(allocation_list__active=True).select_related("by").order_by("at", "pk")


def list_entries_for_admin(user):
    """Every entry of the active list, with its allocation if used. Admins only (concealment)."""
    if not user.has_perm("scr_escc.manage_allocation_list"):
        raise PermissionDenied(_("Only data managers see the allocation list."))
    return (
        AllocationEntry.objects.filter(stratum__allocation_list__active=True)
        .select_related("stratum", "allocation", "allocation__participant")
        .order_by("stratum__code", "sequence")
    )


@dataclass(frozen=True)
class BalanceReport:
    total: dict
    by_stratum: list[tuple[str, dict]]
    by_site: list[tuple[str, dict]]


def balance_report() -> BalanceReport:
    """Counts by arm overall, by stratum and by site: three aggregate queries."""

    def rows(field):
        table: dict[str, dict] = {}
        for row in Allocation.objects.values(field, "arm").annotate(n=Count("pk")).order_by(field):
            table.setdefault(row[field], {"A": 0, "B": 0})[row["arm"]] = row["n"]
        return sorted(table.items())

    overall = {"A": 0, "B": 0}
    for row in Allocation.objects.values("arm").annotate(n=Count("pk")):
        overall[row["arm"]] = row["n"]
    return BalanceReport(total=overall, by_stratum=rows("stratum"), by_site=rows("participant__site__code"))


def arm_counts(*, site=None) -> dict[str, int]:
    counts = {"A": 0, "B": 0}
    allocations = Allocation.objects.all() if site is None else Allocation.objects.filter(participant__site=site)
    for row in allocations.values("arm").annotate(n=Count("pk")):
        counts[row["arm"]] = row["n"]
    return counts
