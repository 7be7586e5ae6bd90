from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SafetyConfig(AppConfig):
    name = "safety"
    verbose_name = "Safety: adverse events, stopping rule"

    def ready(self) -> None:
        post_migrate.connect(_ensure_terms, sender=self, dispatch_uid="ensure_ctcae_terms")


def _ensure_terms(**kwargs) -> None:
    # Also after a test flush, which empties tables that data migrations filled.
    from safety.ctcae import load_ctcae_terms

    load_ctcae_terms()
