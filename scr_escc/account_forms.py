from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from scr_escc.fields import TIME_ZONES
from scr_escc.models import Role, Site


def _helper(label: str, css: str = "btn-primary") -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label, css_class=css))
    return helper


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(label=_("Current password"), widget=forms.PasswordInput, strip=False)
    new_password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput,
        strip=False,
        help_text=_("At least 10 characters, not a common password, not only digits, not like your name."),
    )
    new_password_again = forms.CharField(label=_("New password, again"), widget=forms.PasswordInput, strip=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Change password"))

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=_("The 6 digits your authenticator app shows now, or one of your recovery codes."),
    )

    def __init__(self, *args, submit_label=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(submit_label or _("Continue"))


class RoleSitesFields(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites"),
        queryset=Site.objects.filter(active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Coordinators and investigators see and enter data of these sites only."),
    )


class InviteUserForm(RoleSitesFields):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Email"), required=False, help_text=_("Alerts go to PIs' and data managers' email.")
    )

    field_order = ["username", "first_name", "last_name", "email", "role", "sites"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Create the account"))


class ChangeRoleForm(RoleSitesFields):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save role and sites"))


class AccountActionForm(forms.Form):
    """Deactivate, reactivate, reset the password or the second factor: each needs a reason."""

    action = forms.ChoiceField(
        choices=[
            ("deactivate", "deactivate"),
            ("reactivate", "reactivate"),
            ("reset_password", "reset_password"),
            ("reset_two_factor", "reset_two_factor"),
        ],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class PreferencesForm(forms.Form):
    """The user's own language and time zone (empty: the study's default)."""

    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = [("", _("The study's default"))]
        self.fields["language"].choices = default + [(code, _(name)) for code, name in settings.LANGUAGES]
        self.fields["language"].help_text = _("Pages and alert emails in this language.")
        self.fields["time_zone"].choices = [("", _("The study's default (Asia/Shanghai)")), *TIME_ZONES]
        self.fields["time_zone"].help_text = _("Times on the pages are shown in it; dates stay YYYY-MM-DD.")
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save preferences")))
