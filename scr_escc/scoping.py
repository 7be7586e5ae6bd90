"""Site scoping: the one helper every site-bound queryset goes through (SPEC §2).

A user outside a record's site gets 404, never the record, so existence does not leak.
"""

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404


def scope_to_user(queryset: QuerySet, user, *, site_field: str = "site") -> QuerySet:
    """Rows of `queryset` the user may see: all for study-wide roles, else the user's sites."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    if user.sees_all_sites:
        return queryset
    return queryset.filter(**{f"{site_field}__in": user.sites.values("pk")})


def get_scoped_or_404(queryset: QuerySet, user, *, site_field: str = "site", **lookup):
    return get_object_or_404(scope_to_user(queryset, user, site_field=site_field), **lookup)


def require_site_access(user, site) -> None:
    """For writes that name a site: 404 unless the user belongs to it."""
    if user.sees_all_sites:
        return
    if not user.sites.filter(pk=site.pk).exists():
        raise Http404
