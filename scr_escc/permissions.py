"""The trial's permissions (on the Study model, as Django needs them on a model); roles.py gives
them to the roles."""

STUDY_PERMISSIONS = [
    ("enter_clinical_data", "Screen, enroll, record AEs and randomize at own sites"),
    ("sign_ae_attribution", "Sign off AE attribution"),
    ("view_all_sites", "Read every site's records"),
    ("view_safety_dashboard", "Open the PI safety dashboard"),
    ("view_alerts", "See alerts and their delivery status"),
    ("open_randomization", "E-sign: open randomization"),
    ("confirm_termination", "E-sign: confirm termination"),
    ("resume_study", "Request the resumption of a halted study (data manager)"),
    ("sign_resume", "E-sign: resume a halted study"),
    ("amend_protocol", "E-sign: protocol amendment of the run-in limits or stopping threshold"),
    ("change_study_settings", "Change study settings"),
    ("manage_allocation_list", "Generate, import and see the allocation list"),
    ("export_data", "Export CSV datasets"),
    ("view_balance_report", "See the randomization balance report"),
    ("view_efficacy_results", "See the efficacy results: pooled PFS and OS, the run-in cohort"),
    ("view_comparative_results", "See efficacy results by arm while the trial runs"),
    ("sign_results_access", "E-sign: open or close comparative results to the PI"),
    ("raise_query", "Raise, close and re-open data queries"),
    ("answer_query", "Answer data queries at own sites"),
    ("verify_source_data", "Mark records source-data verified"),
    ("sign_casebook", "E-sign a participant's casebook at own sites"),
    ("lock_casebook", "Lock and unlock casebooks; set SDV levels and query reminders"),
]
