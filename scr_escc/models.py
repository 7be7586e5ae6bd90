"""The trial-wide core: the study row and its phase, sites, users and their roles."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from scr_escc.audit import AuditedModel
from scr_escc.fields import TIME_ZONES, _bounded, split_emails, validate_email_list  # noqa: F401 - used by migrations
from scr_escc.permissions import STUDY_PERMISSIONS


class Role(models.TextChoices):
    """Roles of SPEC §2. Each is a Django group of the same name."""

    COORDINATOR = "coordinator", _("Site coordinator")
    INVESTIGATOR = "investigator", _("Site investigator")
    PI = "pi", _("Principal investigator")
    MONITOR = "monitor", _("Monitor")
    ADMIN = "admin", _("Data manager (admin)")


# Roles whose scope is the whole study; the other roles see their own sites only.
ALL_SITE_ROLES = frozenset({Role.PI, Role.MONITOR, Role.ADMIN})
SITE_STAFF_ROLES = frozenset({Role.COORDINATOR, Role.INVESTIGATOR})


class Site(models.Model):
    code = models.CharField(
        _("code"),
        max_length=8,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Z]{2}[0-9]{2}$", _("A site code is two capital letters and two digits, e.g. SH01."))
        ],
        help_text=_("Two capital letters and two digits, e.g. SH01. Prefixes subject IDs."),
    )
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True, help_text=_("Inactive sites cannot screen or enroll."))
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class User(AbstractUser):
    """A person who signs in. A user has one role (a group) and belongs to one or more sites."""

    sites = models.ManyToManyField(Site, blank=True, related_name="users", verbose_name=_("sites"))
    must_change_password = models.BooleanField(
        _("must change password"), default=False, help_text=_("Set by a temporary password; cleared by a new one.")
    )
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        blank=True,
        help_text=_("The language of pages and alert emails; empty: the study's default."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=40,
        choices=TIME_ZONES,
        blank=True,
        help_text=_("Times on the pages are shown in it; empty: Asia/Shanghai (the study's)."),
    )
    # Role (group) and sites are kept with every history row; password hashes and sign-in times are not.
    history = HistoricalRecords(m2m_fields=["groups", "sites"], excluded_fields=["password", "last_login"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @cached_property
    def role(self) -> str | None:
        names = {g.name for g in self.groups.all()}
        for role in Role:
            if role.value in names:
                return role.value
        return None

    @property
    def role_label(self) -> str:
        return Role(self.role).label if self.role else _("no role")

    @property
    def sees_all_sites(self) -> bool:
        return self.is_active and (self.is_superuser or self.role in ALL_SITE_ROLES)

    @cached_property
    def site_codes(self) -> list[str]:
        return [s.code for s in self.sites.all()]


class Study(AuditedModel):
    """The one row that holds the trial's state. Its row lock serializes every phase decision."""

    class Phase(models.TextChoices):
        RUN_IN = "run_in", _("Safety run-in")
        RANDOMIZATION = "randomization", _("Randomization")
        HALTED = "halted", _("Halted")
        TERMINATED = "terminated", _("Terminated")

    protocol = models.CharField(_("protocol"), max_length=40, default="SCR-ESCC-01", editable=False)
    title = models.CharField(
        _("title"),
        max_length=300,
        default="Radiotherapy Combined With Immunochemotherapy in Metastatic Esophageal Squamous Cell Carcinoma",
    )
    registration = models.CharField(_("registration"), max_length=40, default="NCT05978193")
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices, default=Phase.RUN_IN, editable=False)
    # The phase to return to when a halted study resumes, and the threshold in force at the
    # halt: a resume is refused while the count is at or above it (SPEC §5).
    phase_before_halt = models.CharField(max_length=20, choices=Phase.choices, blank=True, editable=False)
    threshold_at_halt = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    # A data manager's request to resume (reason); the PI's e-signature carries it out.
    resume_requested_by = models.ForeignKey(
        "User", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    resume_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    resume_reason = models.TextField(blank=True, editable=False)
    run_in_min = models.PositiveSmallIntegerField(
        _("run-in minimum"),
        default=20,
        validators=[MinValueValidator(1, _("At least one run-in participant is needed before randomization."))],
        help_text=_("Run-in participants needed before randomization may open."),
    )
    run_in_max = models.PositiveSmallIntegerField(
        _("run-in maximum"),
        default=25,
        validators=[MinValueValidator(1, _("The run-in takes at least one participant."))],
        help_text=_("No run-in enrollment beyond this number."),
    )
    stopping_threshold = models.PositiveSmallIntegerField(
        _("stopping threshold"),
        default=2,
        validators=[MinValueValidator(1, _("The stopping threshold is at least 1."))],
        help_text=_("Run-in participants with a treatment-related Grade 5 AE that halt the study."),
    )
    # Kept by enroll_participant() while this row is locked: the run-in cap and the
    # open-randomization minimum read it here, so the core never counts clinical rows.
    run_in_enrolled = models.PositiveSmallIntegerField(default=0, editable=False)
    # Recomputed inside every AE transaction (SPEC §4) while this row is locked.
    treatment_related_grade5 = models.PositiveSmallIntegerField(default=0, editable=False)
    safety_contact_emails = models.TextField(
        _("safety contact emails"),
        blank=True,
        validators=[validate_email_list],
        help_text=_("Comma-separated addresses that receive every safety alert, besides PIs and admins."),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="en",
        help_text=_("For users who have not chosen one (pages and alert emails)."),
    )
    two_factor_required = models.BooleanField(
        _("two-factor sign-in for PI and data managers"),
        default=True,
        help_text=_("PIs and data managers sign in with a password and a code from an authenticator app."),
    )
    stratify_by_site = models.BooleanField(
        _("stratify randomization by site"),
        default=False,
        help_text=_("Add site to the ECOG stratification. Cannot change once an allocation list exists."),
    )
    # The visit schedule (efficacy): tumour assessments from randomization (run-in: enrollment)
    # until progression, then survival follow-up; treatment cycles.
    assessment_interval_weeks = _bounded(
        _("tumour assessment every (weeks)"),
        6,
        1,
        52,
        _("Counted from randomization (run-in: from enrollment) until progression."),
    )
    assessment_window_days = _bounded(
        _("visit window (± days)"),
        7,
        0,
        30,
        _("An assessment or contact within this many days of its target date counts for that visit."),
    )
    followup_interval_weeks = _bounded(_("survival follow-up every (weeks)"), 12, 1, 52, _("Counted from progression."))
    cycle_length_days = _bounded(
        _("treatment cycle (days)"), 21, 7, 56, _("Day 1 of the next cycle is due this many days after the last one.")
    )
    # Comparative (by-arm) efficacy results: data managers always; the PI only once this is
    # opened by the PI's own e-signature with a reason (e.g. for a DSMB report). Never typed here.
    comparative_results_open_to_pi = models.BooleanField(
        _("comparative results open to the PI"), default=False, editable=False
    )
    escalation_email = models.EmailField(
        _("escalation address"),
        blank=True,
        help_text=_("Receives, with the data managers, every stopping-rule or SAE alert that could not be delivered."),
    )

    class Meta:
        verbose_name = _("study")
        verbose_name_plural = _("study")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="study_is_a_single_row"),
            models.CheckConstraint(
                condition=models.Q(run_in_min__lte=models.F("run_in_max")), name="run_in_min_le_max"
            ),
            models.CheckConstraint(condition=models.Q(stopping_threshold__gte=1), name="stopping_threshold_positive"),
            models.CheckConstraint(condition=models.Q(run_in_min__gte=1), name="run_in_min_positive"),
        ]
        permissions = STUDY_PERMISSIONS

    def __str__(self) -> str:
        return self.protocol

    def clean(self) -> None:
        if self.run_in_min is not None and self.run_in_max is not None and self.run_in_min > self.run_in_max:
            raise ValidationError({"run_in_min": _("The run-in minimum cannot exceed the maximum.")})

    @property
    def blocks_enrollment(self) -> bool:
        """Halted and terminated block new enrollment and randomization (SPEC §5)."""
        return self.phase in (self.Phase.HALTED, self.Phase.TERMINATED)

    @property
    def limits_fixed(self) -> bool:
        """Run-in limits and threshold are fixed from the first enrollment (amendments only)."""
        return self.run_in_enrolled > 0

    @property
    def safety_contacts(self) -> list[str]:
        return split_emails(self.safety_contact_emails)


class ESignature(models.Model):
    """A 21 CFR Part 11 electronic signature: who, when and what the signature means."""

    class Action(models.TextChoices):
        OPEN_RANDOMIZATION = "open_randomization", _("Open randomization")
        CONFIRM_TERMINATION = "confirm_termination", _("Confirm termination")
        RESUME_STUDY = "resume_study", _("Resume a halted study")
        AMEND_PROTOCOL = "amend_protocol", _("Protocol amendment")
        SIGN_AE_ATTRIBUTION = "sign_ae_attribution", _("AE attribution sign-off")
        OPEN_COMPARATIVE_RESULTS = "open_comparative_results", _("Open comparative results to the PI")
        CLOSE_COMPARATIVE_RESULTS = "close_comparative_results", _("Close comparative results to the PI")
        SIGN_CASEBOOK = "sign_casebook", _("Casebook sign-off")

    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="signatures")
    # The signer's printed name at the time of signing (Part 11 §11.50).
    signer_name = models.CharField(max_length=300, blank=True)
    signed_at = models.DateTimeField(auto_now_add=True)
    meaning = models.CharField(max_length=300)
    action = models.CharField(max_length=60, choices=Action.choices)
    reason = models.TextField(blank=True)
    # SHA-256 of what was signed (the record's values at that moment), so a later change shows.
    content_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-signed_at"]

    def __str__(self) -> str:
        return f"{self.signer} — {self.meaning} ({self.signed_at:%Y-%m-%d %H:%M})"


class ProtocolAmendment(models.Model):
    """A PI-signed change of the run-in limits or the stopping threshold after the first enrollment."""

    reference = models.CharField(_("amendment reference"), max_length=100)
    changes = models.JSONField(help_text="{field: [old, new]}")
    reason = models.TextField()
    signature = models.OneToOneField(ESignature, on_delete=models.PROTECT)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return self.reference


class PhaseTransition(models.Model):
    """Every change of the study phase, automatic or signed, in the order it happened."""

    from_phase = models.CharField(max_length=20, choices=Study.Phase.choices)
    to_phase = models.CharField(max_length=20, choices=Study.Phase.choices)
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    signature = models.OneToOneField(ESignature, null=True, blank=True, on_delete=models.PROTECT)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.from_phase} → {self.to_phase} at {self.at:%Y-%m-%d %H:%M}"


class Alert(models.Model):
    """An email alert in the outbox (SPEC §5 Alerts).

    Written in the same transaction as the change that causes it, with a unique key, so it
    is never lost and never created twice. `status` moves pending → sending (claimed by one
    task) → sent only after the mail server accepted the message; a transient failure
    returns it to pending with a later `next_attempt_at`; a permanent one makes it failed.
    """

    class Kind(models.TextChoices):
        STOPPING_RULE_WARNING = "stopping_rule_warning", _("Stopping rule warning")
        STOPPING_RULE_TRIGGERED = "stopping_rule_triggered", _("Stopping rule triggered")
        SAE_REPORTED = "sae_reported", _("Serious adverse event reported")
        PHASE_CHANGED = "phase_changed", _("Study phase changed")
        ALLOCATION_LIST_LOW = "allocation_list_low", _("Allocation list running low")
        ALERT_ESCALATED = "alert_escalated", _("Undelivered safety alert escalated")
        STOPPING_RULE_MISMATCH = "stopping_rule_mismatch", _("Stopping-rule count differed from a recount")
        ACCOUNT_SECURITY = "account_security", _("A password or second factor was reset")
        QUERY_DIGEST = "query_digest", _("Daily digest of old data queries")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    kind = models.CharField(max_length=40, choices=Kind.choices)
    key = models.CharField(max_length=200, unique=True)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    recipients = models.JSONField(default=list)
    # subject/body: the study default; renderings: {language: {subject, body}} (scr_escc.alerts).
    renderings = models.JSONField(default=dict, blank=True)
    # Recipients by language, fixed at the first attempt: [{language, to, sent_at}].
    deliveries = models.JSONField(default=list, blank=True)
    link = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # An undelivered safety alert stays on every PI/admin page until a person acknowledges it.
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The sweeper's scan covers only rows not yet delivered.
            models.Index(
                fields=["next_attempt_at"],
                name="alert_undelivered",
                condition=models.Q(status__in=["pending", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def public_status(self) -> str:
        """The API's spelling (SPEC §10): a claimed row is still pending until accepted."""
        return self.Status.PENDING if self.status == self.Status.SENDING else self.status


class AlertAttempt(models.Model):
    """One try at delivering an alert, with the mail server's error if it failed."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="delivery_attempts")
    at = models.DateTimeField(auto_now_add=True)
    succeeded = models.BooleanField()
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.alert_id} at {self.at:%Y-%m-%d %H:%M:%S}: {'sent' if self.succeeded else 'failed'}"
