"""Which permissions each role (a Django group) holds — the one table of SPEC §2.

Later apps add their permissions here; `sync_role_groups()` runs after every migrate, so
the groups always match this table.
"""

from django.contrib.auth.models import Group, Permission

from scr_escc.models import Role

_SITE_STAFF = [
    "scr_escc.enter_clinical_data",
    "scr_escc.answer_query",
]
_READ_ALL = [
    "scr_escc.view_all_sites",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.COORDINATOR: _SITE_STAFF,
    Role.INVESTIGATOR: _SITE_STAFF + ["scr_escc.sign_ae_attribution", "scr_escc.sign_casebook"],
    Role.PI: _READ_ALL
    + [
        "scr_escc.view_safety_dashboard",
        "scr_escc.view_alerts",
        "scr_escc.open_randomization",
        "scr_escc.confirm_termination",
        "scr_escc.sign_resume",
        "scr_escc.amend_protocol",
        "scr_escc.sign_ae_attribution",
        "scr_escc.view_balance_report",
        "scr_escc.view_efficacy_results",
        "scr_escc.sign_results_access",
        "scr_escc.raise_query",
    ],
    Role.MONITOR: _READ_ALL
    + [
        "scr_escc.view_safety_dashboard",
        "scr_escc.view_efficacy_results",
        "scr_escc.raise_query",
        "scr_escc.verify_source_data",
    ],
    Role.ADMIN: _READ_ALL
    + [
        "scr_escc.view_safety_dashboard",
        "scr_escc.view_alerts",
        "scr_escc.resume_study",
        "scr_escc.change_study_settings",
        "scr_escc.manage_allocation_list",
        "scr_escc.export_data",
        "scr_escc.view_balance_report",
        "scr_escc.view_efficacy_results",
        "scr_escc.view_comparative_results",
        "scr_escc.raise_query",
        "scr_escc.lock_casebook",
        # Django admin for users and sites.
        "scr_escc.view_user",
        "scr_escc.add_user",
        "scr_escc.change_user",
        "scr_escc.view_site",
        "scr_escc.add_site",
        "scr_escc.change_site",
    ],
}


def sync_role_groups(**kwargs) -> None:
    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
