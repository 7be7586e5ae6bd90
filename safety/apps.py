from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = _("Safety: adverse events, stopping rule")

    def ready(self) -> None:
        from enrollment.panels import register_participant_panel
        from enrollment.services import register_death_check
        from safety.panels import adverse_events
        from safety.services import death_date_errors
        from scr_escc.navigation import register_menu_item

        post_migrate.connect(_ensure_terms, sender=self, dispatch_uid="ensure_ctcae_terms")
        register_menu_item(order=30, label=_("Adverse events"), url_name="ae-list")
        register_participant_panel(order=10, render=adverse_events)
        register_death_check(death_date_errors)


def _ensure_terms(**kwargs) -> None:
    # Also after a test flush, which empties tables that data migrations filled.
    from safety.ctcae import load_ctcae_terms

    load_ctcae_terms()
