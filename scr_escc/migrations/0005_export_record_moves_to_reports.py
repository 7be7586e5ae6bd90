# ExportRecord now belongs to the reports app (reports/0001 takes over the same table).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scr_escc", "0004_export_record"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="ExportRecord")]),
    ]
