from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports: PI dashboard and CSV exports")

    def ready(self) -> None:
        from scr_escc.navigation import register_menu_item

        register_menu_item(
            order=40,
            label=_("Safety dashboard"),
            url_name="dashboard",
            permissions=("scr_escc.view_safety_dashboard",),
        )
        register_menu_item(
            order=45, label=_("Efficacy"), url_name="efficacy-results", permissions=("scr_escc.view_efficacy_results",)
        )
        register_menu_item(order=80, label=_("Exports"), url_name="exports", permissions=("scr_escc.export_data",))
