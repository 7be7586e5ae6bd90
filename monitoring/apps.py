from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self):
        from enrollment.panels import register_participant_panel
        from monitoring import casebook, panels, rules, sdv
        from monitoring.exports import DATASETS
        from reports.dashboard import register_dashboard_panel
        from reports.exports import register_datasets
        from scr_escc.audit import register_change_listener, register_write_guard
        from scr_escc.navigation import register_menu_item, register_record_annotations

        register_write_guard(casebook.refuse_if_locked)
        register_change_listener(sdv.reset_on_change)
        register_change_listener(sdv.link_screening_records)
        register_change_listener(casebook.supersede_on_change)
        register_change_listener(rules.sweep_after_commit)
        register_menu_item(
            order=36,
            label=_("Queries"),
            url_name="query-list",
            permissions=("scr_escc.raise_query", "scr_escc.answer_query"),
        )
        register_menu_item(
            order=37,
            label=_("Source data verification"),
            url_name="sdv-worklist",
            permissions=("scr_escc.verify_source_data", "scr_escc.lock_casebook"),
        )
        register_participant_panel(order=40, render=panels.participant_panel)
        register_record_annotations(name="monitoring", panel=panels.record_panel, field_flag=panels.field_flag)
        register_dashboard_panel(name="queries", order=10, render=panels.dashboard_panel)
        register_datasets(*DATASETS)
