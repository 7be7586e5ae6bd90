"""Read-only views behind the EX and DS exports: one SELECT per dataset, so COPY streams them."""

from django.db import migrations

EXPOSURE = """
CREATE VIEW efficacy_exposure AS
SELECT 'D' || d.id AS id, d.participant_id, d.agent AS treatment, d.cycle, d.administered_on AS start_date,
       d.administered_on AS end_date, d.dose, d.unit, d.change, d.change_reason, NULL::smallint AS fractions,
       '' AS target_site, d.voided, d.void_reason
  FROM efficacy_systemicdose d
UNION ALL
SELECT 'R' || r.id, r.participant_id, r.modality, NULL, r.start_date, r.end_date, r.total_dose_gy, 'Gy',
       'as_planned', '', r.fractions, r.target_site, r.voided, r.void_reason
  FROM efficacy_radiotherapycourse r
"""

DISPOSITION = """
CREATE VIEW efficacy_disposition AS
WITH events AS (
    (SELECT DISTINCT ON (a.participant_id) 'A' || a.id AS id, a.participant_id, 'progression_recist' AS event,
           a.assessment_date AS event_date, '' AS detail
      FROM efficacy_tumourassessment a
     WHERE a.voided = false AND a.baseline = false AND a.computed_response = 'PD'
     ORDER BY a.participant_id, a.assessment_date, a.id)
    UNION ALL
    SELECT 'C' || c.id, c.participant_id, 'progression_clinical', c.progression_date, c.reason
      FROM efficacy_clinicalprogression c
     WHERE c.voided = false
    UNION ALL
    SELECT 'P' || p.id, p.id, 'death', p.death_date, p.death_cause
      FROM enrollment_participant p
     WHERE p.death_date IS NOT NULL
)
SELECT e.*, (e.event <> 'death' AND row_number() OVER (
           PARTITION BY e.participant_id, e.event = 'death'
           ORDER BY e.event_date, e.event <> 'progression_recist', e.id) = 1) AS defines_progression
  FROM events e
"""


class Migration(migrations.Migration):
    dependencies = [("efficacy", "0001_initial"), ("enrollment", "0005_completion_and_direct_death")]

    operations = [
        migrations.RunSQL(EXPOSURE, "DROP VIEW efficacy_exposure"),
        migrations.RunSQL(DISPOSITION, "DROP VIEW efficacy_disposition"),
    ]
