from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

CLINICAL = "scr_escc.enter_clinical_data"


class EfficacyConfig(AppConfig):
    name = "efficacy"
    verbose_name = _("Treatment and efficacy")

    def ready(self) -> None:
        from efficacy.followup import death_check
        from efficacy.panels import efficacy_panel
        from efficacy.treatment import first_doses
        from efficacy.worklist_views import home_worklist
        from enrollment.panels import register_participant_panel
        from enrollment.services import register_death_check
        from safety.services import register_first_dose_lookup
        from scr_escc.navigation import register_home_panel, register_menu_item

        register_menu_item(order=5, label=_("Worklist"), url_name="worklist", permissions=(CLINICAL,))
        register_home_panel(name="worklist", order=10, render=home_worklist, permissions=(CLINICAL,))
        register_participant_panel(order=25, render=efficacy_panel)
        register_death_check(death_check)
        register_first_dose_lookup(first_doses)
