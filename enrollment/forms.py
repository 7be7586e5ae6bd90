from crispy_forms.bootstrap import InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Div, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.eligibility import CRITERIA, EXCLUSION, INCLUSION
from enrollment.models import Screening
from scr_escc.forms import ReasonForChangeFormMixin
from scr_escc.models import Site

YES_NO = [("True", _("Yes")), ("False", _("No"))]

# The values that support a criterion sit next to it (SPEC §3 consistency checks).
SUPPORTING = {"inc1": "date_of_birth", "inc3": "ecog", "exc1": "histology", "exc6": "pgsga_score"}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _criterion_field(criterion) -> forms.TypedChoiceField:
    # No default: an unanswered criterion is an error, never a silent "no".
    return forms.TypedChoiceField(
        label=f"{criterion.code} — {criterion.text}",
        choices=YES_NO,
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect(attrs={"class": "criterion"}),
        required=True,
        error_messages={"required": _("Answer %(code)s: yes or no.") % {"code": criterion.code}},
    )


class ScreeningForm(ReasonForChangeFormMixin, forms.ModelForm):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Site"), required=True)

    class Meta:
        model = Screening
        fields = [
            "site",
            "initials",
            "sex",
            "consent_date",
            "screening_date",
            "date_of_birth",
            "ecog",
            "pgsga_score",
            "histology",
            *[c.field for c in CRITERIA],
            "notes",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "consent_date": DateInput(),
            "screening_date": DateInput(),
            "notes": forms.Textarea(attrs={"rows": 3}),
            "sex": forms.RadioSelect,
        }

    def __init__(self, *args, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        for criterion in CRITERIA:
            self.fields[criterion.field] = _criterion_field(criterion)
            if not self.is_bound and not self.instance.pk and criterion.field not in self.initial:
                self.fields[criterion.field].initial = None
        self.fields["ecog"].widget = forms.Select(choices=[("", "—")] + [(i, str(i)) for i in range(5)])
        self.fields["histology"].choices = [("", "—")] + list(self.fields["histology"].choices)[1:]
        self.fields["sex"].choices = list(self.fields["sex"].choices)[1:]
        today = timezone.localdate().isoformat()
        for name in ("date_of_birth", "consent_date", "screening_date"):
            self.fields[name].widget.attrs["max"] = today
        if self.instance.pk:
            del self.fields["site"]
        else:
            self.fields["site"].queryset = sites if sites is not None else Site.objects.none()
            if sites is not None and len(sites) == 1:
                self.fields["site"].initial = sites[0]
        self.helper = FormHelper()
        self.helper.layout = self._layout()

    def _criterion_rows(self, criteria):
        rows = []
        for criterion in criteria:
            supporting = SUPPORTING.get(criterion.field)
            if supporting:
                rows.append(
                    Row(
                        Column(InlineRadios(criterion.field), css_class="col-md-8"),
                        Column(supporting, css_class="col-md-4"),
                        css_class="criterion-row",
                    )
                )
            else:
                rows.append(Div(InlineRadios(criterion.field), css_class="criterion-row"))
        return rows

    def _layout(self) -> Layout:
        patient = ["initials", InlineRadios("sex"), "consent_date", "screening_date"]
        if "site" in self.fields:
            patient.insert(0, "site")
        parts = [
            Fieldset(_("Patient"), Row(*[Column(f, css_class="col-md") for f in patient])),
            Fieldset(
                _("Inclusion criteria — all must be “yes”"),
                *self._criterion_rows(INCLUSION),
            ),
            Fieldset(
                _("Exclusion criteria — any “yes” excludes"),
                *self._criterion_rows(EXCLUSION),
            ),
            "notes",
        ]
        if "reason_for_change" in self.fields:
            parts += ["reason_for_change", "version"]
        parts.append(
            HTML(
                '<p class="text-muted small">{}</p>'.format(
                    _("Saving computes eligibility from these answers; enrollment is a separate step.")
                )
            )
        )
        parts.append(Submit("submit", _("Save screening")))
        return Layout(*parts)

    def clean_initials(self):
        return (self.cleaned_data.get("initials") or "").strip().upper()


class WithdrawForm(forms.Form):
    withdrawal_date = forms.DateField(label=_("Withdrawal date"), widget=DateInput(), initial=timezone.localdate)
    withdrawal_reason = forms.CharField(
        label=_("Reason for withdrawal"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("E.g. consent withdrawn, investigator decision, lost to follow-up."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Withdraw participant"), css_class="btn-danger"))


class CompleteForm(forms.Form):
    completion_date = forms.DateField(
        label=_("Completion date"),
        widget=DateInput(),
        initial=timezone.localdate,
        help_text=_("The day the participant completed the study as the protocol plans."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Record completion")))


class DeathForm(forms.Form):
    death_date = forms.DateField(label=_("Date of death"), widget=DateInput())
    death_cause = forms.CharField(
        label=_("Cause of death"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "E.g. disease progression. A death caused by an adverse event is recorded as a Grade 5 AE instead: "
            "it counts for the stopping rule."
        ),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Record the death"), css_class="btn-danger"))
