# ExportRecord moves here from the core (scr_escc/0005): the state takes over the existing
# table, then the table is renamed to this app's name. No row is touched.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("scr_escc", "0005_export_record_moves_to_reports"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ExportRecord",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"),
                        ),
                        ("dataset", models.CharField(max_length=40)),
                        ("options", models.JSONField(default=dict)),
                        ("started_at", models.DateTimeField(auto_now_add=True)),
                        ("completed_at", models.DateTimeField(blank=True, null=True)),
                        ("row_count", models.PositiveIntegerField(blank=True, null=True)),
                        (
                            "channel",
                            models.CharField(
                                choices=[("page", "Exports page"), ("api", "API")], default="page", max_length=10
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="exports",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={"ordering": ["-started_at", "-pk"], "db_table": "scr_escc_exportrecord"},
                ),
            ]
        ),
        migrations.AlterModelTable(name="exportrecord", table=None),
    ]
