# Fingerprints become an HMAC under a server secret (a plain SHA-256 let anyone test guessed
# seeds offline), and each existing list gets its creation in the change log.

import hashlib
import hmac

from django.conf import settings
from django.db import migrations


def _key() -> bytes:
    configured = getattr(settings, "ALLOCATION_FINGERPRINT_KEY", "")
    return (configured or hashlib.sha256(f"allocation-fingerprint:{settings.SECRET_KEY}".encode()).hexdigest()).encode()


def forwards(apps, schema_editor):
    AllocationList = apps.get_model("randomization", "AllocationList")
    AllocationEntry = apps.get_model("randomization", "AllocationEntry")
    AllocationListChange = apps.get_model("randomization", "AllocationListChange")
    for allocation_list in AllocationList.objects.all():
        entries = AllocationEntry.objects.filter(stratum__allocation_list=allocation_list)
        rows = sorted(entries.values_list("stratum__code", "sequence", "block", "block_size", "arm"))
        lines = ["stratum,sequence,block,block_size,arm"] + [",".join(map(str, row)) for row in rows]
        text = "\n".join(lines) + "\n"
        allocation_list.fingerprint = hmac.new(_key(), text.encode("utf-8"), hashlib.sha256).hexdigest()
        allocation_list.save(update_fields=["fingerprint"])
        AllocationListChange.objects.create(
            allocation_list=allocation_list,
            action=allocation_list.source,
            strata=sorted(allocation_list.strata.values_list("code", flat=True)),
            entries_added=len(rows),
            seed=allocation_list.seed,
            fingerprint=allocation_list.fingerprint,
            by=allocation_list.created_by,
        )


class Migration(migrations.Migration):
    dependencies = [("randomization", "0003_allocation_list_changes")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
