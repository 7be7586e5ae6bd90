from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Screening and enrollment")

    def ready(self) -> None:
        from scr_escc.navigation import register_menu_item

        register_menu_item(
            order=10,
            label=_("Screenings"),
            url_name="screening-list",
            permissions=("scr_escc.enter_clinical_data", "scr_escc.view_all_sites"),
        )
        register_menu_item(order=20, label=_("Participants"), url_name="participant-list")
