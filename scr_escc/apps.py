from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "scr_escc"
    verbose_name = _("SCR-ESCC-01 core")

    def ready(self) -> None:
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from scr_escc.navigation import register_menu_item
        from scr_escc.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="sync_role_groups")
        # Sign-ins update last_login without a history row of the user (noise in the audit trail).
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(_record_last_login, dispatch_uid="record_last_login")
        post_migrate.connect(_ensure_study_row, sender=self, dispatch_uid="ensure_study_row")
        register_menu_item(order=60, label=_("Alerts"), url_name="alert-list", permissions=("scr_escc.view_alerts",))
        register_menu_item(
            order=70,
            label=_("Phase decisions"),
            url_name="study-decisions",
            permissions=("scr_escc.open_randomization", "scr_escc.resume_study"),
        )
        register_menu_item(order=95, label=_("Users"), url_name="user-list", permissions=("scr_escc.change_user",))
        register_menu_item(
            order=90,
            label=_("Study settings"),
            url_name="study-settings",
            permissions=("scr_escc.change_study_settings",),
        )


def _record_last_login(sender, user, **kwargs) -> None:
    from django.utils import timezone

    type(user).objects.filter(pk=user.pk).update(last_login=timezone.now())


def _ensure_study_row(**kwargs) -> None:
    # The migration creates it; a test flush empties the table, so put it back.
    from scr_escc.models import Study

    if not Study.objects.filter(pk=1).exists():
        Study.objects.create(pk=1)
