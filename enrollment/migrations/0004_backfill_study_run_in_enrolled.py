# The run-in count now lives on the locked Study row (kept by enroll_participant());
# fill it from the participants already enrolled.

from django.db import migrations


def backfill(apps, schema_editor):
    Study = apps.get_model("scr_escc", "Study")
    Participant = apps.get_model("enrollment", "Participant")
    Study.objects.filter(pk=1).update(run_in_enrolled=Participant.objects.filter(cohort="run_in").count())


class Migration(migrations.Migration):
    dependencies = [
        ("enrollment", "0003_participant_arm_randomized_at"),
        ("scr_escc", "0006_study_run_in_enrolled"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
