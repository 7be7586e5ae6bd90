from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from scr_escc.models import ESignature, Study
from scr_escc.phases import LIMIT_FIELDS
from scr_escc.services import FIXED_LIMIT, SCHEDULE_FIELDS
from scr_escc.signatures import MEANINGS


class ReasonForChangeFormMixin(forms.Form):
    """Adds 'reason for change' (required when editing) and the version the user saw."""

    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for every change after first entry; kept in the audit trail."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        self.is_edit = bool(instance is not None and instance.pk)
        if self.is_edit:
            self.fields["reason_for_change"].required = True
            self.fields["version"].required = True  # the stale-edit check always runs
            self.fields["version"].initial = instance.version
        else:
            del self.fields["reason_for_change"]
            del self.fields["version"]


class VoidRecordForm(forms.Form):
    """Voiding a record entered in error: the reason, and the version the user saw."""

    reason = forms.CharField(label=_("Reason for voiding"), widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, help_text="", submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = help_text
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", submit_label or _("Void"), css_class="btn-danger"))


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Sign in"), css_class="w-100"))

    def clean_username(self):
        # Django sets the field's max_length after its validators are built: check it here, so an
        # over-long name is a field error and never reaches django-axes' varchar(255) column.
        username = self.cleaned_data.get("username") or ""
        if len(username) > self.fields["username"].max_length:
            raise forms.ValidationError(_("No account has a username this long."))
        return username


class StudySettingsForm(ReasonForChangeFormMixin, forms.ModelForm):
    class Meta:
        model = Study
        fields = [
            "run_in_min",
            "run_in_max",
            "stopping_threshold",
            "safety_contact_emails",
            "escalation_email",
            "two_factor_required",
            "stratify_by_site",
            "default_language",
            *SCHEDULE_FIELDS,
        ]
        widgets = {"safety_contact_emails": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.limits_fixed:
            # Shown, not editable; the service refuses a changed value with the same message.
            for name in LIMIT_FIELDS:
                self.fields[name].widget.attrs["readonly"] = True
                self.fields[name].help_text = FIXED_LIMIT
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save settings")))

    def _post_clean(self):
        # Validation of the whole row happens in the service, under the row lock.
        pass


class SignatureForm(forms.Form):
    """A decision signed with the password; the meaning is the server's, shown to be confirmed."""

    signature_action: str = ""
    submit_label = _("Sign")
    submit_css = "btn-primary"

    action = forms.CharField(widget=forms.HiddenInput)
    meaning = forms.BooleanField(help_text=_("The meaning of your electronic signature, stored with it."))
    password = forms.CharField(
        label=_("Your password (e-signature)"),
        widget=forms.PasswordInput,
        help_text=_("Re-enter your password to sign. Wrong passwords count toward the sign-in lockout."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].initial = self.decision
        self.fields["meaning"].label = _(MEANINGS[self.signature_action])  # shown in the signer's language
        # The signature fields come last, after what is being signed.
        self.order_fields(
            [name for name in self.fields if name not in ("meaning", "password")] + ["meaning", "password"]
        )
        self.helper = FormHelper()
        button = Submit("submit", self.submit_label)
        button.field_classes = f"btn {self.submit_css}"  # crispy's default "btn btn-primary" would stay otherwise
        self.helper.add_input(button)


class OpenRandomizationForm(SignatureForm):
    decision = "open_randomization"
    signature_action = ESignature.Action.OPEN_RANDOMIZATION
    submit_label = _("Sign and open randomization")


class ConfirmTerminationForm(SignatureForm):
    decision = "confirm_termination"
    signature_action = ESignature.Action.CONFIRM_TERMINATION
    submit_label = _("Sign and terminate the study")
    submit_css = "btn-danger"

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. two treatment-related deaths in the run-in (protocol stopping rule)."),
    )


class OpenComparativeResultsForm(SignatureForm):
    decision = "open_comparative_results"
    signature_action = ESignature.Action.OPEN_COMPARATIVE_RESULTS
    submit_label = _("Sign and open the results by arm to me")

    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. the DSMB report of the interim analysis. Stored with the signature and in the audit trail."),
    )


class CloseComparativeResultsForm(OpenComparativeResultsForm):
    decision = "close_comparative_results"
    signature_action = ESignature.Action.CLOSE_COMPARATIVE_RESULTS
    submit_label = _("Sign and close the results by arm")
    submit_css = "btn-outline-secondary"


class SignResumeForm(SignatureForm):
    decision = "sign_resume"
    signature_action = ESignature.Action.RESUME_STUDY
    submit_label = _("Sign and resume the study")


class AmendProtocolForm(SignatureForm):
    decision = "amend_protocol"
    signature_action = ESignature.Action.AMEND_PROTOCOL
    submit_label = _("Sign the amendment")

    reference = forms.CharField(
        label=_("Amendment reference"), max_length=100, help_text=_("E.g. protocol version 2.1, 2026-12-01.")
    )
    run_in_min = forms.IntegerField(label=_("Run-in minimum"), min_value=1)
    run_in_max = forms.IntegerField(label=_("Run-in maximum"), min_value=1)
    stopping_threshold = forms.IntegerField(
        label=_("Stopping threshold"),
        min_value=1,
        help_text=_("A threshold the count has already reached halts the study at once."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limits = Row(
            *(Column(name, css_class="col-md-4") for name in ("run_in_min", "run_in_max", "stopping_threshold"))
        )
        self.helper.layout = Layout("action", "reference", limits, "reason", "meaning", "password")


class RequestResumeForm(forms.Form):
    decision = "request_resume"
    action = forms.CharField(widget=forms.HiddenInput, initial="request_resume")
    reason = forms.CharField(
        label=_("Reason for resuming"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. the second death was re-attributed as unrelated after review. The PI signs next."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Ask the PI to resume the study")))
