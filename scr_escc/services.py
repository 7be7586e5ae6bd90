"""Changes to the trial-wide core: study settings, sites and users. The phase state machine
is in `scr_escc.phases`."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from scr_escc.audit import lock_for_change, require_reason, save_audited
from scr_escc.models import Site, Study
from scr_escc.phases import LIMIT_FIELDS

SCHEDULE_FIELDS = (
    "assessment_interval_weeks",
    "assessment_window_days",
    "followup_interval_weeks",
    "cycle_length_days",
)
STUDY_SETTING_FIELDS = (
    *LIMIT_FIELDS,
    "safety_contact_emails",
    "escalation_email",
    "two_factor_required",
    "stratify_by_site",
    "default_language",
    *SCHEDULE_FIELDS,
)
FIXED_LIMIT = gettext_lazy(
    "Fixed since the first enrollment: only a protocol amendment signed by the PI changes it (Phase decisions)."
)


# Checks that apps above the core add to a settings change, filled in their
# AppConfig.ready() (e.g. randomization: stratification is fixed once a list exists).
StudySettingsCheck = Callable[..., None]
_SETTINGS_CHECKS: list[StudySettingsCheck] = []


def register_study_settings_check(check: StudySettingsCheck) -> None:
    """`check(*, before: dict, study: Study)` raises ValidationError to refuse the change."""
    if check not in _SETTINGS_CHECKS:
        _SETTINGS_CHECKS.append(check)


def update_study_settings(*, user, data: dict, reason: str | None, expected_version: int | None = None) -> Study:
    reason = require_reason(reason)
    with transaction.atomic():
        study = lock_for_change(Study(pk=1), expected_version=expected_version)
        before = {field: getattr(study, field) for field in STUDY_SETTING_FIELDS}
        for field in STUDY_SETTING_FIELDS:
            if field in data:
                setattr(study, field, data[field])
        if study.limits_fixed:
            fixed = {field: FIXED_LIMIT for field in LIMIT_FIELDS if getattr(study, field) != before[field]}
            if fixed:
                raise ValidationError(fixed)
        for check in _SETTINGS_CHECKS:
            check(before=before, study=study)
        study.full_clean()
        save_audited(study, user=user, reason=reason)
    return study


def count_run_in_enrollment(*, study: Study, subject_id: str, user) -> None:
    """One more run-in participant, on the locked study row, with its own history row."""
    study.run_in_enrolled += 1
    save_audited(study, user=user, reason=_("Run-in enrollment: %(subject)s") % {"subject": subject_id})


# What apps above the core do when a site is added (registry filled in their AppConfig.ready()),
# e.g. randomization gives a new site its strata when the list is stratified by site.
SiteCreatedHook = Callable[..., object]
_SITE_CREATED_HOOKS: list[SiteCreatedHook] = []


def register_site_created_hook(hook: SiteCreatedHook) -> None:
    """`hook(*, site, user)` runs inside the transaction that creates the site."""
    if hook not in _SITE_CREATED_HOOKS:
        _SITE_CREATED_HOOKS.append(hook)


def create_site(*, code: str, name: str, active: bool = True, user=None) -> Site:
    site = Site(code=code, name=name, active=active)
    site.full_clean()
    site._history_user, site._change_reason = user, _("Site created")
    with transaction.atomic():
        site.save()
        for hook in _SITE_CREATED_HOOKS:
            hook(site=site, user=user)
    return site
