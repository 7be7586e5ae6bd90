"""Shapes of the monitoring API (monitoring.api): what it answers and what it takes. No rule
lives here; monitoring.queries, .sdv and .casebook decide."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from enrollment.selectors import participants_visible_to
from monitoring.models import CasebookLock, CasebookSignature, Query, QueryStatus, QueryStep, SdvLevel, SdvMark
from monitoring.record_types import RECORD_TYPES
from scr_escc.selectors import sites_visible_to

RECORD_TYPE_CHOICES = [(code, str(record_type.label)) for code, record_type in RECORD_TYPES.items()]


def _username():
    return serializers.SlugRelatedField(slug_field="username", read_only=True)


class QueryStepSerializer(serializers.ModelSerializer):
    by = _username()

    class Meta:
        model = QueryStep
        fields = ["action", "by", "at", "text", "correction"]
        read_only_fields = fields


class QuerySerializer(serializers.ModelSerializer):
    site = serializers.CharField(source="site.code", read_only=True)
    participant = serializers.SlugRelatedField(slug_field="subject_id", read_only=True)
    automatic = serializers.BooleanField(read_only=True, help_text="Raised by a data check (its `rule`).")
    raised_by = _username()
    steps = QueryStepSerializer(many=True, read_only=True)

    class Meta:
        model = Query
        fields = [
            "id",
            "site",
            "participant",
            "record_type",
            "record_id",
            "field",
            "text",
            "status",
            "automatic",
            "rule",
            "raised_by",
            "raised_at",
            "answered_at",
            "closed_at",
            "version",
            "steps",
        ]
        read_only_fields = fields


class QueryFilterSerializer(serializers.Serializer):
    """The query list's filters (query parameters)."""

    site = serializers.CharField(required=False, help_text="A site code among yours.")
    status = serializers.ChoiceField(choices=QueryStatus.choices, required=False)
    record_type = serializers.ChoiceField(choices=RECORD_TYPE_CHOICES, required=False)
    raiser = serializers.CharField(required=False, help_text='"system", or the id of the user who raised it.')
    older_than = serializers.IntegerField(
        min_value=0, max_value=3650, required=False, help_text="Raised at least this many days ago."
    )
    participant = serializers.CharField(required=False, help_text="A subject ID.")

    def validate_site(self, code):
        return site_of(self.context["request"].user, code)

    def validate_participant(self, subject_id):
        return participant_of(self.context["request"].user, subject_id)

    def validate_raiser(self, raiser):
        if raiser != "system" and not (raiser.isascii() and raiser.isdigit() and len(raiser) < 10):
            raise serializers.ValidationError(_('"system", or the id of a user.'))
        return raiser


def site_of(user, code):
    site = sites_visible_to(user).filter(code=code).first()
    if site is None:
        raise serializers.ValidationError(_("No such site among yours."))
    return site


def participant_of(user, subject_id):
    participant = participants_visible_to(user).filter(subject_id=subject_id).first()
    if participant is None:
        raise serializers.ValidationError(_("No such participant at your sites."))
    return participant


class QueryRaiseSerializer(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=RECORD_TYPE_CHOICES)
    record_id = serializers.IntegerField(min_value=1)
    field = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="One of the record's fields; empty: the whole record."
    )
    text = serializers.CharField(allow_blank=True, help_text="The question to the site.")


class QueryAnswerSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, help_text="The site's answer.")
    value = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="The corrected value of the queried field, as the record's own API takes it. "
        "Omit it to answer without a correction.",
    )
    version = serializers.IntegerField(required=False, help_text="The query's version you read: 409 when it changed.")
    record_version = serializers.IntegerField(
        required=False,
        help_text="The queried record's version you read: a correction answers 409 when someone changed it since.",
    )


class QueryCloseSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")
    version = serializers.IntegerField(required=False, help_text="The query's version you read: 409 when it changed.")


class QueryReopenSerializer(QueryCloseSerializer):
    text = serializers.CharField(allow_blank=True, help_text="What is still wrong.")


class SdvFilterSerializer(serializers.Serializer):
    site = serializers.CharField(required=False, help_text="A site code among yours.")
    participant = serializers.CharField(required=False, help_text="A subject ID.")

    def validate_site(self, code):
        return site_of(self.context["request"].user, code)

    def validate_participant(self, subject_id):
        return participant_of(self.context["request"].user, subject_id)


class SdvPendingSerializer(serializers.Serializer):
    record_type = serializers.CharField()
    record_id = serializers.IntegerField()
    status = serializers.CharField(help_text='"unverified" or "changed" (since verified).')
    changes = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()), help_text="[{field, old, new}] since verified."
    )


class SdvProgressSerializer(serializers.Serializer):
    subject_id = serializers.CharField()
    site = serializers.CharField()
    required = serializers.IntegerField()
    verified = serializers.IntegerField()
    changed = serializers.IntegerField()
    percent = serializers.IntegerField()
    pending = SdvPendingSerializer(many=True)


class SdvVerifySerializer(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=RECORD_TYPE_CHOICES)
    record_id = serializers.IntegerField(min_value=1)
    version = serializers.IntegerField(required=False, help_text="The record's version you verified: 409 if changed.")


class SdvMarkSerializer(serializers.ModelSerializer):
    verified_by = _username()

    class Meta:
        model = SdvMark
        fields = ["record_type", "record_id", "status", "level", "verified_by", "verified_at"]
        read_only_fields = fields


class MonitoringSettingsSerializer(serializers.Serializer):
    sdv_levels = serializers.DictField(
        child=serializers.ChoiceField(choices=SdvLevel.choices), help_text="Record type → SDV level."
    )
    query_digest_days = serializers.IntegerField()
    version = serializers.IntegerField(read_only=True)


class MonitoringSettingsInSerializer(serializers.Serializer):
    sdv_levels = serializers.DictField(
        child=serializers.CharField(), required=False, default=dict, help_text="Only the record types that change."
    )
    query_digest_days = serializers.IntegerField()
    reason = serializers.CharField(allow_blank=True, help_text="The reason for the change.")


class CasebookSignatureSerializer(serializers.ModelSerializer):
    signer = serializers.CharField(source="signature.signer_name")
    signed_at = serializers.DateTimeField(source="signature.signed_at")
    meaning = serializers.CharField(source="signature.meaning")
    superseded_by = _username()

    class Meta:
        model = CasebookSignature
        fields = [
            "signer",
            "signed_at",
            "meaning",
            "content_hash",
            "superseded_at",
            "superseded_by",
            "superseded_reason",
        ]
        read_only_fields = fields


class CasebookLockSerializer(serializers.ModelSerializer):
    changed_by = _username()

    class Meta:
        model = CasebookLock
        fields = ["locked", "changed_by", "reason", "updated_at", "version"]
        read_only_fields = fields


class CasebookSerializer(serializers.Serializer):
    subject_id = serializers.CharField()
    state = serializers.ChoiceField(choices=["not signed", "signed", "superseded"])
    signature = CasebookSignatureSerializer(allow_null=True)
    changes = serializers.ListField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text='What changed since the signature: [{record ("ae:12"), field, old, new}].',
    )
    locked = serializers.BooleanField()
    lock = CasebookLockSerializer(allow_null=True)
    open_queries = serializers.IntegerField(help_text="Open or answered queries: a casebook locks with none.")
    content_hash = serializers.CharField(help_text="SHA-256 of the casebook as it is now: send it back when signing.")


class CasebookSignInSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    content_hash = serializers.CharField(
        required=False,
        max_length=64,
        help_text="The casebook's content_hash you reviewed (GET …/casebook/): 409 when it changed since.",
    )


class CasebookUnlockInSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the casebook opens again.")
