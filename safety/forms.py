from crispy_forms.bootstrap import InlineCheckboxes, InlineRadios
from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Column, Fieldset, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.forms import DateInput
from safety.models import AdverseEvent, Attribution, CtcaeTerm, Seriousness
from safety.selectors import ctcae_term_by_name
from scr_escc.forms import ReasonForChangeFormMixin, SignatureForm
from scr_escc.models import ESignature


class CtcaeTermField(forms.CharField):
    """A CTCAE term typed with the picker's help; resolves to the CtcaeTerm row."""

    widget = forms.TextInput

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "list": "ctcae-terms",
                "autocomplete": "off",
                "data-term-picker": "1",
                "placeholder": _("Type to search, e.g. pneumo"),
            }
        )

    def prepare_value(self, value):
        if isinstance(value, int):
            term = CtcaeTerm.objects.filter(pk=value).first()
            return term.term if term else ""
        if isinstance(value, CtcaeTerm):
            return value.term
        return value

    def clean(self, value):
        value = super().clean(value)
        term = ctcae_term_by_name(value)
        if term is None:
            raise forms.ValidationError(
                _(
                    "“%(v)s” is not a CTCAE v5.0 term. Pick one from the list, or the “… - Other, specify” term of its "
                    "system organ class and name the event."
                ),
                params={"v": value},
            )
        return term


class AdverseEventForm(ReasonForChangeFormMixin, forms.ModelForm):
    ctcae_term = CtcaeTermField(label=_("CTCAE v5.0 term"), help_text=_("Its system organ class is filled in."))
    grade = forms.TypedChoiceField(
        label=_("CTCAE grade"),
        coerce=int,
        choices=[(g, str(g)) for g in range(1, 6)],
        widget=forms.RadioSelect,
        help_text=_("The term's grade definitions are shown when the term is chosen."),
    )
    serious = forms.TypedChoiceField(
        label=_("Serious (SAE)?"),
        coerce=lambda v: v == "True",
        choices=[("True", _("Yes")), ("False", _("No"))],
        widget=forms.RadioSelect,
        help_text=_("A new SAE alerts the PI at once; report it within 24 h."),
    )
    seriousness_criteria = forms.MultipleChoiceField(
        label=_("Seriousness criteria (ICH E2A)"),
        choices=Seriousness.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = AdverseEvent
        fields = [
            "ctcae_term",
            "other_specify",
            "grade",
            "onset_date",
            "end_date",
            "ongoing",
            "serious",
            "seriousness_criteria",
            "attribution_pd1",
            "attribution_chemo",
            "attribution_ldrt",
            "attribution_cfrt",
            "action_taken",
            "outcome",
            "death_date",
        ]
        widgets = {"onset_date": DateInput(), "end_date": DateInput(), "death_date": DateInput()}

    def __init__(self, *args, participant=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate().isoformat()
        for name in ("onset_date", "end_date", "death_date"):
            self.fields[name].widget.attrs["max"] = today
        for name, label in (
            ("attribution_pd1", _("PD-1 inhibitor")),
            ("attribution_chemo", _("Chemotherapy")),
            ("attribution_ldrt", _("LDRT")),
            ("attribution_cfrt", _("CFRT")),
        ):
            self.fields[name].choices = [("", "—")] + list(Attribution.choices)
            self.fields[name].label = label  # the fieldset names what is attributed
        if self.instance.pk:
            self.initial["serious"] = str(self.instance.serious)
        self.fields["death_date"].help_text = _("Grade 5 only: the date of death.")
        self.helper = FormHelper()
        self.helper.layout = Layout(
            Fieldset(
                _("Event"),
                Row(Column("ctcae_term", css_class="col-md-6"), Column("other_specify", css_class="col-md-6")),
                HTML('<div id="term-info" class="small text-muted mb-2" aria-live="polite"></div>'),
                InlineRadios("grade"),
                HTML('<div id="grade-info" class="small mb-3"></div>'),
                Row(Column("onset_date"), Column("end_date"), Column("ongoing", css_class="pt-md-4")),
            ),
            Fieldset(
                _("Seriousness"),
                InlineRadios("serious"),
                InlineCheckboxes("seriousness_criteria"),
            ),
            Fieldset(
                _("Attribution to each intervention"),
                HTML(
                    '<p class="small text-muted mb-2">'
                    + str(_("Possible, probable or definite to any intervention makes the AE treatment-related."))
                    + "</p>"
                ),
                Row(
                    Column("attribution_pd1"),
                    Column("attribution_chemo"),
                    Column("attribution_ldrt"),
                    Column("attribution_cfrt"),
                ),
            ),
            Fieldset(
                _("Action and outcome"),
                Row(
                    Column("action_taken", css_class="col-md-5"),
                    Column("outcome", css_class="col-md-4"),
                    Column("death_date", css_class="col-md-3"),
                ),
            ),
        )
        if self.is_edit:
            self.helper.layout.append("reason_for_change")
            self.helper.layout.append("version")
        self.helper.layout.append(Submit("submit", _("Save adverse event")))

    def _post_clean(self):
        # The rules of SPEC §4 are checked by the service, with the participant's facts.
        pass


class AttributionSignOffForm(SignatureForm):
    """The investigator's sign-off: the attribution as they confirm it, and their e-signature."""

    decision = "sign_ae_attribution"
    signature_action = ESignature.Action.SIGN_AE_ATTRIBUTION
    submit_label = _("Sign the attribution")

    pd1 = forms.ChoiceField(label=_("PD-1 inhibitor"), choices=Attribution.choices)
    chemo = forms.ChoiceField(label=_("Chemotherapy"), choices=Attribution.choices)
    ldrt = forms.ChoiceField(label=_("LDRT"), choices=Attribution.choices)
    cfrt = forms.ChoiceField(label=_("CFRT"), choices=Attribution.choices)
    reason_for_change = forms.CharField(
        label=_("Reason for change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Needed only when you change the attribution."),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, ae, **kwargs):
        initial = {**ae.attributions, "version": ae.version}
        super().__init__(*args, initial=initial, **kwargs)
        self.helper.layout = Layout(
            "action",
            "version",
            Row(*(Column(name, css_class="col-md-3") for name in ("pd1", "chemo", "ldrt", "cfrt"))),
            "reason_for_change",
            "meaning",
            "password",
        )

    @property
    def attributions(self) -> dict[str, str]:
        return {name: self.cleaned_data[name] for name in ("pd1", "chemo", "ldrt", "cfrt")}
