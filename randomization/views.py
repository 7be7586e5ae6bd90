from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from enrollment.selectors import participant_get_for_user
from randomization import lists, selectors, services
from randomization.forms import ExtendStratumForm, GenerateListForm, ImportListForm
from randomization.models import Arm
from scr_escc.selectors import get_study
from scr_escc.views import apply_validation_error, refusals_as_messages

MANAGE = "scr_escc.manage_allocation_list"


def _generate(request, form):
    data = form.cleaned_data
    made = lists.generate_allocation_list(
        seed=data["seed"], per_stratum=data["per_stratum"], block_sizes=data["block_sizes"], user=request.user
    )
    return _("Allocation list generated. Fingerprint %(f)s") % {"f": made.fingerprint}


def _import(request, form):
    upload = form.cleaned_data["file"]
    try:
        text = upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError({"file": [_("The file is not UTF-8 text.")]})
    made = lists.import_allocation_list(text=text, file_name=upload.name, user=request.user)
    return _("Allocation list imported. Fingerprint %(f)s") % {"f": made.fingerprint}


def _extend(request, form):
    data = form.cleaned_data
    change = lists.extend_stratum(
        code=data["stratum"], entries=data["entries"], reason=data["reason"], user=request.user
    )
    return _("Stratum %(c)s extended by %(n)s entries.") % {"c": data["stratum"], "n": change.entries_added}


# action → (form, service call): the data manager's three changes to the list.
LIST_ACTIONS = {
    "generate": (GenerateListForm, _generate),
    "import": (ImportListForm, _import),
    "extend": (ExtendStratumForm, _extend),
}


@permission_required("scr_escc.view_balance_report", raise_exception=True)
@refusals_as_messages("randomization")
def overview(request):
    is_admin = request.user.has_perm(MANAGE)
    action = request.POST.get("action")
    forms_ = {
        name: form_class(request.POST if action == name else None, request.FILES if action == name else None)
        for name, (form_class, _call) in LIST_ACTIONS.items()
    }
    if request.method == "POST":
        if not is_admin or action not in LIST_ACTIONS:
            return render(request, "403.html", status=403)
        form, call = forms_[action], LIST_ACTIONS[action][1]
        if form.is_valid():
            try:
                messages.success(request, call(request, form))
                return redirect("randomization")
            except ValidationError as error:
                apply_validation_error(form, error)
    context = {
        "report": selectors.balance_report(),
        "allocation_list": selectors.active_list(),
        "is_admin": is_admin,
        "study": get_study(),
        "arms": Arm.choices,
    }
    if is_admin:
        context.update(
            usage=selectors.list_usage_for_admin(request.user),
            changes=selectors.list_changes_for_admin(request.user),
            generate_form=forms_["generate"],
            import_form=forms_["import"],
            extend_form=forms_["extend"],
            locked=selectors.allocations_visible_to(request.user).exists(),
        )
    return render(request, "randomization/overview.html", context)


@permission_required(MANAGE, raise_exception=True)
def list_entries(request):
    page = Paginator(selectors.list_entries_for_admin(request.user), 100).get_page(request.GET.get("page"))
    return render(
        request, "randomization/list_entries.html", {"page": page, "allocation_list": selectors.active_list()}
    )


@permission_required("scr_escc.enter_clinical_data", raise_exception=True)
@refusals_as_messages("participant-detail", "subject_id")
def randomize(request, subject_id):
    participant = participant_get_for_user(request.user, subject_id)
    if request.method == "POST":
        allocation = services.randomize(participant=participant, user=request.user)
        messages.success(
            request,
            _("%(s)s randomized to %(arm)s.") % {"s": participant.subject_id, "arm": Arm(allocation.arm).label},
        )
        return redirect("participant-detail", subject_id=participant.subject_id)
    study = get_study()
    return render(
        request,
        "randomization/confirm.html",
        {
            "participant": participant,
            "stratum": services.participant_stratum_code(participant, study),
            "already": selectors.allocation_of(participant),
        },
    )
