"""Forms shape the input; efficacy services decide (dates, doses, RECIST rules)."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from efficacy.models import (
    NEW_LESION_CHOICES,
    NON_TARGET_CHOICES,
    RESPONSE_CHOICES,
    Agent,
    ClinicalProgression,
    DoseChange,
    DoseUnit,
    FollowUpContact,
    Method,
    NewAnticancerTherapy,
    RadiotherapyCourse,
    SystemicDose,
)
from enrollment.forms import DateInput
from scr_escc.forms import ReasonForChangeFormMixin

MAX_TARGETS = 5
MAX_NON_TARGETS = 10
DEFAULT_UNITS = {Agent.PD1: DoseUnit.MG, Agent.PACLITAXEL: DoseUnit.MG_M2, Agent.PLATINUM: DoseUnit.AUC}


class ServiceChecksForm:
    """The services check the record with its participant; the model's own clean is theirs too."""

    def _post_clean(self):
        pass


def _helper(label) -> FormHelper:
    helper = FormHelper()
    helper.add_input(Submit("submit", label))
    return helper


class CycleForm(forms.Form):
    """One treatment cycle: the three agents, each given, reduced, delayed or omitted."""

    cycle = forms.IntegerField(label=_("Cycle"), min_value=1, help_text=_("Cycle 1 day 1 is the start of treatment."))

    def __init__(self, *args, cycle: int = 1, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cycle"].initial = cycle
        for agent in Agent:
            prefix = f"{agent.value}__"
            self.fields[prefix + "administered_on"] = forms.DateField(
                label=_("Date"), widget=DateInput(), initial=today, required=True
            )
            self.fields[prefix + "change"] = forms.ChoiceField(
                label=_("Given"), choices=DoseChange.choices, initial=DoseChange.AS_PLANNED
            )
            self.fields[prefix + "dose"] = forms.DecimalField(
                label=_("Dose given"), required=False, min_value=0, max_digits=8, decimal_places=2
            )
            self.fields[prefix + "unit"] = forms.ChoiceField(
                label=_("Unit"), choices=DoseUnit.choices, initial=DEFAULT_UNITS[agent], required=False
            )
            self.fields[prefix + "change_reason"] = forms.CharField(
                label=_("Reason (if not as planned)"), required=False, max_length=300
            )

    def agent_rows(self):
        """(agent, its bound fields in order) for the template's table."""
        names = ("administered_on", "change", "dose", "unit", "change_reason")
        return [(agent, [self[f"{agent.value}__{name}"] for name in names]) for agent in Agent]

    def doses(self) -> dict[str, dict]:
        data = self.cleaned_data
        return {
            agent.value: {
                name: data.get(f"{agent.value}__{name}")
                for name in ("administered_on", "change", "dose", "unit", "change_reason")
            }
            for agent in Agent
        }


class DoseForm(ServiceChecksForm, ReasonForChangeFormMixin, forms.ModelForm):
    class Meta:
        model = SystemicDose
        fields = ["cycle", "agent", "administered_on", "change", "dose", "unit", "change_reason"]
        widgets = {"administered_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save dose"))


class CourseForm(ServiceChecksForm, ReasonForChangeFormMixin, forms.ModelForm):
    class Meta:
        model = RadiotherapyCourse
        fields = ["modality", "start_date", "end_date", "total_dose_gy", "fractions", "target_site"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save radiotherapy course"))


class ClinicalProgressionForm(ServiceChecksForm, ReasonForChangeFormMixin, forms.ModelForm):
    class Meta:
        model = ClinicalProgression
        fields = ["progression_date", "reason"]
        widgets = {"progression_date": DateInput(), "reason": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save clinical progression"))


class NewTherapyForm(ServiceChecksForm, ReasonForChangeFormMixin, forms.ModelForm):
    class Meta:
        model = NewAnticancerTherapy
        fields = ["start_date", "kind", "therapy"]
        widgets = {"start_date": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save new therapy"))


class ContactForm(ServiceChecksForm, ReasonForChangeFormMixin, forms.ModelForm):
    class Meta:
        model = FollowUpContact
        fields = ["contact_date", "method", "notes"]
        widgets = {"contact_date": DateInput(), "notes": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = _helper(_("Save contact"))


class BaselineForm(forms.Form):
    """The baseline scan: up to 5 target lesions measured, up to 10 non-target lesions listed."""

    assessment_date = forms.DateField(label=_("Scan date"), widget=DateInput())
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.CT)
    comments = forms.CharField(label=_("Comments"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, MAX_TARGETS + 1):
            self.fields[f"t{i}_organ"] = forms.CharField(label=_("Organ"), required=False, max_length=80)
            self.fields[f"t{i}_location"] = forms.CharField(label=_("Location"), required=False, max_length=200)
            self.fields[f"t{i}_lymph_node"] = forms.BooleanField(label=_("Node"), required=False)
            self.fields[f"t{i}_diameter_mm"] = forms.DecimalField(
                label=_("mm"), required=False, min_value=0, max_value=999, decimal_places=1
            )
        for i in range(1, MAX_NON_TARGETS + 1):
            self.fields[f"n{i}_organ"] = forms.CharField(label=_("Organ"), required=False, max_length=80)
            self.fields[f"n{i}_location"] = forms.CharField(label=_("Location"), required=False, max_length=200)
            self.fields[f"n{i}_lymph_node"] = forms.BooleanField(label=_("Node"), required=False)

    def target_rows(self):
        names = ("organ", "location", "lymph_node", "diameter_mm")
        return [(f"T{i}", [self[f"t{i}_{n}"] for n in names]) for i in range(1, MAX_TARGETS + 1)]

    def non_target_rows(self):
        names = ("organ", "location", "lymph_node")
        return [(f"NT{i}", [self[f"n{i}_{n}"] for n in names]) for i in range(1, MAX_NON_TARGETS + 1)]

    def _rows(self, letter: str, count: int, names) -> list[dict]:
        rows = []
        for i in range(1, count + 1):
            row = {n: self.cleaned_data.get(f"{letter}{i}_{n}") for n in names}
            if row.get("organ") or row.get("location") or row.get("diameter_mm") is not None:
                rows.append(row)
        return rows

    def targets(self) -> list[dict]:
        return self._rows("t", MAX_TARGETS, ("organ", "location", "lymph_node", "diameter_mm"))

    def non_targets(self) -> list[dict]:
        return self._rows("n", MAX_NON_TARGETS, ("organ", "location", "lymph_node"))


class FollowUpForm(ReasonForChangeFormMixin, forms.Form):
    """A follow-up scan: every baseline lesion again, new lesions, the investigator's reading."""

    assessment_date = forms.DateField(label=_("Scan date"), widget=DateInput())
    method = forms.ChoiceField(label=_("Method"), choices=Method.choices, initial=Method.CT)
    new_lesion = forms.ChoiceField(label=_("New lesion"), choices=NEW_LESION_CHOICES, initial="no")
    new_lesion_description = forms.CharField(label=_("New lesion, where"), required=False, max_length=300)
    investigator_response = forms.ChoiceField(
        label=_("Investigator's response"),
        choices=[("", "—"), *RESPONSE_CHOICES],
        required=True,
        help_text=_(
            "The investigator's own reading. The software computes the RECIST response; a difference is flagged."
        ),
    )
    comments = forms.CharField(label=_("Comments"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, lesions, instance=None, **kwargs):
        self.instance = instance
        self.lesions = lesions
        super().__init__(*args, **kwargs)
        for lesion in lesions:
            where = ", ".join(part for part in (lesion.organ, lesion.location) if part)
            if lesion.target:
                self.fields[f"lesion_{lesion.code}"] = forms.DecimalField(
                    label=f"{lesion.code} · {where}",
                    required=False,
                    min_value=0,
                    max_value=999,
                    decimal_places=1,
                    help_text=_("Short axis (mm)") if lesion.lymph_node else _("Longest diameter (mm); 0 if gone"),
                )
            else:
                self.fields[f"lesion_{lesion.code}"] = forms.ChoiceField(
                    label=f"{lesion.code} · {where}", choices=NON_TARGET_CHOICES, initial="present"
                )

    def lesion_fields(self):
        return [self[f"lesion_{lesion.code}"] for lesion in self.lesions]

    def targets(self) -> dict:
        return {l.code: self.cleaned_data.get(f"lesion_{l.code}") for l in self.lesions if l.target}  # noqa: E741

    def non_targets(self) -> dict:
        return {l.code: self.cleaned_data.get(f"lesion_{l.code}") for l in self.lesions if not l.target}  # noqa: E741
