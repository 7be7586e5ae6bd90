# The arm is now stored on the participant (enrollment.services.record_randomization);
# copy it, with the time of randomization, from the allocations already made.

from django.db import migrations
from django.db.models import OuterRef, Subquery


def backfill(apps, schema_editor):
    Participant = apps.get_model("enrollment", "Participant")
    Allocation = apps.get_model("randomization", "Allocation")
    allocation = Allocation.objects.filter(participant=OuterRef("pk"))
    Participant.objects.filter(pk__in=Allocation.objects.values("participant")).update(
        arm=Subquery(allocation.values("arm")[:1]),
        randomized_at=Subquery(allocation.values("randomized_at")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("randomization", "0001_initial"),
        ("enrollment", "0003_participant_arm_randomized_at"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
