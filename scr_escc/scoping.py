"""Site scoping: the one helper every site-bound queryset goes through (SPEC §2).

A user outside a record's site gets 404, never the record, so existence does not leak.
"""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from scr_escc.models import Site


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


def site_for_new_record(user, site):
    """The site a new record belongs to: the one named, or the user's only active site.

    ValidationError on `site` when none is named and the user has several; 404 for a site
    the user does not belong to (existence does not leak).
    """
    if site is None:
        sites = list(scope_to_user(Site.objects.filter(active=True), user, site_field="pk")[:2])
        if len(sites) != 1:
            raise ValidationError({"site": _("Name the site: you belong to several sites.")})
        site = sites[0]
    require_site_access(user, site)
    return site
