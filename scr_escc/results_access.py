"""Who sees efficacy results by arm while the trial runs (comparative results).

Data managers always (they hold `view_comparative_results`); the PI only after the PI has opened
them with an e-signature and a reason (e.g. for a DSMB report), until closed again the same way;
monitors and site staff never. The Efficacy page, its API and its CSV all ask `may_see_by_arm()`.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from scr_escc.audit import require_reason, save_audited
from scr_escc.models import ESignature, Study
from scr_escc.phases import lock_study
from scr_escc.selectors import get_study
from scr_escc.signatures import record_signature, verify_signing_password


def may_see_by_arm(user, study: Study | None = None) -> bool:
    if not (user.is_authenticated and user.is_active and user.has_perm("scr_escc.view_efficacy_results")):
        return False
    if user.has_perm("scr_escc.view_comparative_results"):
        return True
    study = study or get_study()
    return study.comparative_results_open_to_pi and user.has_perm("scr_escc.sign_results_access")


def set_comparative_results_open(*, user, open_: bool, password: str | None, reason: str | None, request=None) -> Study:
    """The PI e-signs opening (or closing) the results by arm to the PI, with a reason; audited."""
    if not user.has_perm("scr_escc.sign_results_access"):
        raise PermissionDenied
    reason = require_reason(reason, field="reason")
    verify_signing_password(user=user, password=password, request=request)
    action = ESignature.Action.OPEN_COMPARATIVE_RESULTS if open_ else ESignature.Action.CLOSE_COMPARATIVE_RESULTS
    with transaction.atomic():
        study = lock_study()
        if study.comparative_results_open_to_pi == open_:
            state = _("open") if open_ else _("closed")
            raise ValidationError({"reason": _("The results by arm are already %(s)s to the PI.") % {"s": state}})
        signature = record_signature(user=user, action=action, content={"open": open_, "reason": reason}, reason=reason)
        study.comparative_results_open_to_pi = open_
        save_audited(study, user=user, reason=f"{signature.meaning}: {reason}")
    return study
