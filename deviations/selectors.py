"""Reads of the deviation log, always scoped to the user's sites."""

from django.db.models import QuerySet

from deviations.models import ProtocolDeviation
from scr_escc.scoping import get_scoped_or_404, scope_to_user


def deviations_visible_to(user) -> QuerySet[ProtocolDeviation]:
    return scope_to_user(ProtocolDeviation.objects.select_related("site", "participant", "created_by"), user)


def deviation_get_for_user(user, pk) -> ProtocolDeviation:
    return get_scoped_or_404(ProtocolDeviation.objects.select_related("site", "participant", "created_by"), user, pk=pk)


def deviations_of(participant) -> QuerySet[ProtocolDeviation]:
    return participant.deviations.order_by("-deviation_date", "-pk")
