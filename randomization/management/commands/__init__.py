from django.core.management.base import CommandError

from scr_escc.models import User


def data_manager_named(username: str):
    """The active data manager a list command acts for (``--by``), named in the audit trail."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None or not user.has_perm("scr_escc.manage_allocation_list"):
        raise CommandError(f"--by {username}: no active data manager of that name.")
    return user
