"""The monitoring pages' forms: they shape the input; monitoring's services decide."""

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from enrollment.forms import DateInput
from monitoring.models import SdvLevel
from monitoring.record_types import RECORD_TYPES, RecordType
from scr_escc.forms import SignatureForm
from scr_escc.models import ESignature

# Fields a correction cannot carry as one form field (a term picked from CTCAE, a list of
# criteria): answered here, corrected by the site on the record's own page.
_NOT_CORRECTABLE = (models.ForeignKey, models.JSONField)


class RaiseQueryForm(forms.Form):
    field = forms.ChoiceField(label=_("Field"), required=False)
    text = forms.CharField(
        label=_("Question"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the site should check or explain. The site sees this text."),
    )

    def __init__(self, *args, record_type: RecordType, **kwargs):
        super().__init__(*args, **kwargs)
        # capfirst, not str.capitalize: "CTCAE grade" keeps its capitals.
        self.fields["field"].choices = [("", _("The whole record"))] + [
            (name, capfirst(record_type.field_label(name))) for name in record_type.fields
        ]


class _QueryStepForm(forms.Form):
    """A step on a query: which one (`action`) and the query's version the user saw."""

    action_name = ""
    action = forms.CharField(widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, query, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].initial = self.action_name
        self.fields["version"].initial = query.version


def correction_field(record, field: str):
    """The record's own form field for `field`, set to the current value; None when the value
    cannot be corrected with an answer."""
    if not field:
        return None
    model_field = record._meta.get_field(field)
    if isinstance(model_field, _NOT_CORRECTABLE):
        return None
    form_field = model_field.formfield(required=False)
    if isinstance(model_field, models.DateField):
        form_field.widget = DateInput()
    form_field.initial = getattr(record, model_field.attname)
    form_field.help_text = _("The corrected value, saved with this answer (the query is the reason for change).")
    return form_field


class AnswerForm(_QueryStepForm):
    action_name = "answer"
    text = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 3}))
    correct = forms.BooleanField(label=_("Correct the value with this answer"), required=False)
    # The record's version on screen: a change by someone else since is refused, not overwritten.
    record_version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, query, record=None, record_type: RecordType | None = None, **kwargs):
        super().__init__(*args, query=query, **kwargs)
        if record is not None:
            self.fields["record_version"].initial = record.version
        value_field = None
        if record is not None and record_type is not None and record_type.correct is not None:
            value_field = correction_field(record, query.field)
        self.value_field = query.field if value_field is not None else None
        if value_field is None:
            del self.fields["correct"]
        else:
            self.fields[query.field] = value_field
            self.order_fields(["action", "version", "text", "correct", query.field])

    def clean(self):
        cleaned = super().clean()
        if self.value_field and not cleaned.get("correct"):
            self._errors.pop(self.value_field, None)  # the value is only read when correcting
        return cleaned

    @property
    def correction(self) -> dict | None:
        if self.value_field and self.cleaned_data.get("correct"):
            return {self.value_field: self.cleaned_data.get(self.value_field)}
        return None


class CloseForm(_QueryStepForm):
    action_name = "close"
    text = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("Optional.")
    )


class ReopenForm(_QueryStepForm):
    action_name = "reopen"
    text = forms.CharField(
        label=_("What is still wrong"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The query goes back to the site with this text."),
    )


class MonitoringSettingsForm(forms.Form):
    """The monitoring plan: SDV level per record type and the reminder of old queries."""

    query_digest_days = forms.IntegerField(
        label=_("Remind sites of queries older than (days)"),
        min_value=1,
        max_value=90,
        help_text=_("Each day, every site gets one e-mail listing its queries unanswered for this many days or more."),
    )
    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the audit trail."),
    )

    def __init__(self, *args, levels: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        for code, record_type in RECORD_TYPES.items():
            self.fields[f"sdv_{code}"] = forms.ChoiceField(
                label=record_type.label, choices=SdvLevel.choices, initial=levels.get(code)
            )
        self.order_fields([f"sdv_{code}" for code in RECORD_TYPES] + ["query_digest_days", "reason_for_change"])

    @property
    def levels(self) -> dict[str, str]:
        return {code: self.cleaned_data[f"sdv_{code}"] for code in RECORD_TYPES}


class SignCasebookForm(SignatureForm):
    decision = "sign"
    signature_action = ESignature.Action.SIGN_CASEBOOK
    submit_label = _("Sign the casebook")

    # The hash of the casebook on screen: signing is refused if the data changed meanwhile.
    content_hash = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, again: bool = False, **kwargs):
        if again:
            self.submit_label = _("Sign again")
        super().__init__(*args, **kwargs)
        self.helper.attrs = {"data-testid": "sign-form"}


class LockCasebookForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="lock")


class UnlockCasebookForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="unlock")
    reason = forms.CharField(
        label=_("Reason for unlocking"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept in the audit trail, e.g. the query that needs a correction."),
    )
