from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from enrollment.selectors import participant_get_for_user
from randomization import selectors, services
from randomization.forms import GenerateListForm, ImportListForm
from randomization.models import Arm
from scr_escc.selectors import get_study
from scr_escc.views import apply_validation_error, refusals_as_messages

MANAGE = "scr_escc.manage_allocation_list"


@permission_required("scr_escc.view_balance_report", raise_exception=True)
@refusals_as_messages("randomization")
def overview(request):
    is_admin = request.user.has_perm(MANAGE)
    generate_form = GenerateListForm(request.POST if request.POST.get("action") == "generate" else None)
    import_form = ImportListForm(
        request.POST if request.POST.get("action") == "import" else None, request.FILES or None
    )
    if request.method == "POST":
        if not is_admin:
            return render(request, "403.html", status=403)
        try:
            if request.POST.get("action") == "generate" and generate_form.is_valid():
                data = generate_form.cleaned_data
                made = services.generate_allocation_list(
                    seed=data["seed"],
                    per_stratum=data["per_stratum"],
                    block_sizes=data["block_sizes"],
                    user=request.user,
                )
                messages.success(request, _("Allocation list generated. Fingerprint %(f)s") % {"f": made.fingerprint})
                return redirect("randomization")
            if request.POST.get("action") == "import" and import_form.is_valid():
                upload = import_form.cleaned_data["file"]
                try:
                    text = upload.read().decode("utf-8")
                except UnicodeDecodeError:
                    raise ValidationError({"file": [_("The file is not UTF-8 text.")]})
                made = services.import_allocation_list(text=text, file_name=upload.name, user=request.user)
                messages.success(request, _("Allocation list imported. Fingerprint %(f)s") % {"f": made.fingerprint})
                return redirect("randomization")
        except ValidationError as error:
            apply_validation_error(import_form if request.POST.get("action") == "import" else generate_form, error)
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
            generate_form=generate_form,
            import_form=import_form,
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
