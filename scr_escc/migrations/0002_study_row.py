from django.db import migrations
from django.utils import timezone


def create_study(apps, schema_editor):
    Study = apps.get_model("scr_escc", "Study")
    HistoricalStudy = apps.get_model("scr_escc", "HistoricalStudy")
    study, created = Study.objects.get_or_create(pk=1)
    if created:
        # The first history row, so the first later change shows its old values.
        fields = {f.attname: getattr(study, f.attname) for f in Study._meta.concrete_fields}
        HistoricalStudy.objects.create(
            **fields,
            history_date=timezone.now(),
            history_type="+",
            history_change_reason="Study created with the protocol's defaults",
        )


class Migration(migrations.Migration):
    dependencies = [("scr_escc", "0001_initial")]

    operations = [migrations.RunPython(create_study, migrations.RunPython.noop)]
