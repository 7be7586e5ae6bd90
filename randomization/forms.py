from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _


class GenerateListForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="generate")
    seed = forms.CharField(
        max_length=100,
        required=False,
        help_text=_(
            "Leave empty: the server draws a 256-bit seed. A seed you type needs at least 128 bits (32 random "
            "letters and digits). The seed is kept with the list, concealed; same seed → same list."
        ),
    )
    per_stratum = forms.IntegerField(
        min_value=1, max_value=10000, initial=100, help_text=_("Entries at least, per stratum (complete blocks).")
    )
    block_sizes = forms.CharField(initial="2,4", help_text=_("Even sizes, comma-separated."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Generate list")))

    def clean_block_sizes(self):
        try:
            return [int(part) for part in self.cleaned_data["block_sizes"].split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError(_("Whole numbers separated by commas, e.g. 2,4."))


class ImportListForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="import")
    file = forms.FileField(help_text=_("CSV with columns stratum, sequence, block, block_size, arm."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Import list")))


class ExtendStratumForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="extend")
    stratum = forms.CharField(label=_("Stratum"), max_length=20, help_text=_("E.g. ECOG1, or SH02-ECOG0."))
    entries = forms.IntegerField(
        label=_("Entries to add (at least)"),
        min_value=2,
        max_value=10000,
        initial=20,
        help_text=_("Added as new complete 1:1 blocks after the last entry, from a fresh server seed."),
    )
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Extend the stratum")))
