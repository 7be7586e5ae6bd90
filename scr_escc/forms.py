from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from scr_escc.models import Study


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
            self.fields["version"].initial = instance.version
        else:
            del self.fields["reason_for_change"]
            del self.fields["version"]


class LoginForm(AuthenticationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Sign in"), css_class="w-100"))


class StudySettingsForm(ReasonForChangeFormMixin, forms.ModelForm):
    class Meta:
        model = Study
        fields = ["run_in_min", "run_in_max", "stopping_threshold", "safety_contact_emails", "stratify_by_site"]
        widgets = {"safety_contact_emails": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save settings")))

    def _post_clean(self):
        # Validation of the whole row happens in the service, under the row lock.
        pass


class OpenRandomizationForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="open_randomization")
    meaning = forms.BooleanField(
        label=_("I confirm the safety criteria for Phase IIb are met"),
        help_text=_("The meaning of your electronic signature, stored with it."),
    )
    password = forms.CharField(
        label=_("Your password (e-signature)"),
        widget=forms.PasswordInput,
        help_text=_("Re-enter your password to sign."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Sign and open randomization")))


class ConfirmTerminationForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="confirm_termination")
    reason = forms.CharField(
        label=_("Reason"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. two treatment-related deaths in the run-in (protocol stopping rule)."),
    )
    meaning = forms.BooleanField(label=_("I confirm the termination of the study under the stopping rule"))
    password = forms.CharField(label=_("Your password (e-signature)"), widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Sign and terminate the study"), css_class="btn-danger"))


class ResumeForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="resume")
    reason = forms.CharField(
        label=_("Reason for resuming"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("E.g. the second death was re-attributed as unrelated after review."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Resume the study")))
