from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "scr_escc"
    verbose_name = "SCR-ESCC-01 core"

    def ready(self) -> None:
        from scr_escc.roles import sync_role_groups

        post_migrate.connect(sync_role_groups, sender=self, dispatch_uid="sync_role_groups")
        post_migrate.connect(_ensure_study_row, sender=self, dispatch_uid="ensure_study_row")


def _ensure_study_row(**kwargs) -> None:
    # The migration creates it; a test flush empties the table, so put it back.
    from scr_escc.models import Study

    if not Study.objects.filter(pk=1).exists():
        Study.objects.create(pk=1)
