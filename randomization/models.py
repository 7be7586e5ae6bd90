from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from enrollment.models import Arm, Participant
from scr_escc.models import Site

# Fewer unused entries than this in a stratum alerts the data manager (SPEC §6).
LOW_LIST_THRESHOLD = 4


class AllocationList(models.Model):
    """The concealed randomization list. One is active; it locks at the first allocation."""

    class Source(models.TextChoices):
        GENERATED = "generated", _("generated")
        IMPORTED = "imported", _("imported")

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=Source.choices)
    seed = models.CharField(max_length=100, blank=True)
    per_stratum = models.PositiveIntegerField(null=True, blank=True)
    block_sizes = ArrayField(models.PositiveSmallIntegerField(), default=list, blank=True)
    stratify_by_site = models.BooleanField(default=False)
    fingerprint = models.CharField(max_length=64)
    file_name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_allocation_list"
            )
        ]

    def __str__(self) -> str:
        return f"Allocation list {self.fingerprint[:12]} ({self.get_source_display()})"


class AllocationListChange(models.Model):
    """Every change to the allocation list, in the audit trail: who, when, what, why."""

    class Action(models.TextChoices):
        GENERATED = "generated", _("generated")
        IMPORTED = "imported", _("imported")
        STRATUM_EXTENDED = "stratum_extended", _("stratum extended")
        STRATA_ADDED = "strata_added", _("strata added for a new site")

    allocation_list = models.ForeignKey(AllocationList, on_delete=models.PROTECT, related_name="changes")
    action = models.CharField(max_length=20, choices=Action.choices)
    strata = models.JSONField(default=list, help_text="The strata the change added entries to.")
    entries_added = models.PositiveIntegerField()
    # The seed of the added entries (server-generated for extensions): concealed like the list.
    seed = models.CharField(max_length=100, blank=True)
    reason = models.TextField(blank=True)
    fingerprint = models.CharField(max_length=64, help_text="The list's fingerprint after the change.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"


class Stratum(models.Model):
    """A stratum of the list. Its row lock serializes allocation within the stratum."""

    allocation_list = models.ForeignKey(AllocationList, on_delete=models.CASCADE, related_name="strata")
    code = models.CharField(max_length=20)
    ecog = models.PositiveSmallIntegerField()
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    low_alerted = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["allocation_list", "code"], name="stratum_code_unique")]

    def __str__(self) -> str:
        return self.code


class AllocationEntry(models.Model):
    """One line of the list. Concealed: only admins may see entries not yet used."""

    stratum = models.ForeignKey(Stratum, on_delete=models.CASCADE, related_name="entries")
    sequence = models.PositiveIntegerField()
    block = models.PositiveIntegerField()
    block_size = models.PositiveSmallIntegerField()
    arm = models.CharField(max_length=1, choices=Arm.choices)

    class Meta:
        ordering = ["stratum", "sequence"]
        constraints = [models.UniqueConstraint(fields=["stratum", "sequence"], name="entry_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.stratum.code} #{self.sequence}"


class Allocation(models.Model):
    """A participant's randomization: immutable once made (who, when, stratum, sequence, arm)."""

    participant = models.OneToOneField(Participant, on_delete=models.PROTECT, related_name="allocation")
    entry = models.OneToOneField(AllocationEntry, on_delete=models.PROTECT, related_name="allocation")
    stratum = models.CharField(max_length=20)
    sequence = models.PositiveIntegerField()
    arm = models.CharField(max_length=1, choices=Arm.choices)
    randomized_at = models.DateTimeField(auto_now_add=True)
    randomized_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["randomized_at", "pk"]

    def __str__(self) -> str:
        return f"{self.participant_id} → {self.arm}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("An allocation is immutable."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("An allocation is immutable."))
