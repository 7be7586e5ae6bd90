from django.db import migrations


def load_terms(apps, schema_editor):
    from safety.ctcae import load_ctcae_terms

    load_ctcae_terms(apps.get_model("safety", "CtcaeTerm"))


class Migration(migrations.Migration):
    dependencies = [("safety", "0001_initial")]

    operations = [migrations.RunPython(load_terms, migrations.RunPython.noop)]
