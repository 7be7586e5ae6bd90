from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RandomizationConfig(AppConfig):
    name = "randomization"
    verbose_name = _("Randomization")

    def ready(self) -> None:
        from enrollment.panels import register_participant_panel
        from randomization.lists import add_strata_for_site, check_stratification_change
        from randomization.panels import allocation
        from scr_escc.navigation import register_menu_item
        from scr_escc.services import register_site_created_hook, register_study_settings_check

        register_menu_item(
            order=50, label=_("Randomization"), url_name="randomization", permissions=("scr_escc.view_balance_report",)
        )
        register_participant_panel(order=20, render=allocation)
        register_study_settings_check(check_stratification_change)
        register_site_created_hook(add_strata_for_site)
