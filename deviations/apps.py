from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeviationsConfig(AppConfig):
    name = "deviations"
    verbose_name = _("Protocol deviations")

    def ready(self) -> None:
        from deviations.panels import deviations
        from enrollment.panels import register_participant_panel
        from scr_escc.navigation import register_menu_item

        register_menu_item(order=35, label=_("Deviations"), url_name="deviation-list")
        register_participant_panel(order=30, render=deviations)
