from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "scr_escc"
    verbose_name = "SCR-ESCC-01 core"

    def ready(self) -> None:
        from scr_escc.navigation import register_menu_item
        from scr_escc.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="sync_role_groups")
        post_migrate.connect(_ensure_study_row, sender=self, dispatch_uid="ensure_study_row")
        register_menu_item(order=60, label=_("Alerts"), url_name="alert-list", permissions=("scr_escc.view_alerts",))
        register_menu_item(
            order=70,
            label=_("Phase decisions"),
            url_name="study-decisions",
            permissions=("scr_escc.open_randomization", "scr_escc.resume_study"),
        )
        register_menu_item(
            order=90,
            label=_("Study settings"),
            url_name="study-settings",
            permissions=("scr_escc.change_study_settings",),
        )


def _ensure_study_row(**kwargs) -> None:
    # The migration creates it; a test flush empties the table, so put it back.
    from scr_escc.models import Study

    if not Study.objects.filter(pk=1).exists():
        Study.objects.create(pk=1)
