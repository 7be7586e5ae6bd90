from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.translation import gettext_lazy as _

from deviations.models import ProtocolDeviation
from enrollment.forms import DateInput
from scr_escc.forms import ReasonForChangeFormMixin
from scr_escc.models import Site


class DeviationForm(ReasonForChangeFormMixin, forms.ModelForm):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Site"), required=False)

    class Meta:
        model = ProtocolDeviation
        fields = ["site", "deviation_date", "category", "important", "description", "corrective_action"]
        widgets = {
            "deviation_date": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "corrective_action": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, sites=None, participant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk or participant is not None:
            del self.fields["site"]  # the participant's (or the recorded) site
        else:
            self.fields["site"].queryset = sites if sites is not None else Site.objects.none()
            self.fields["site"].required = True
            if sites is not None and len(sites) == 1:
                self.fields["site"].initial = sites[0]
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save deviation")))

    def _post_clean(self):
        # The service checks the deviation with its site and participant.
        pass
