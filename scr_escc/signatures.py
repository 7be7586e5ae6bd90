"""Electronic signatures (21 CFR Part 11 §11.50, §11.200).

A signature is the signer's password entered again, with a meaning the server fixes for
each action (a client cannot send its own). It stores the signer's printed name, the time,
the meaning and a SHA-256 of what was signed. A wrong signing password counts toward the
same django-axes lockout as the sign-in form, so a stolen session cannot guess it.

The password is checked before the caller's transaction, so the failed attempt that
django-axes records is not rolled back with the refused change.
"""

import hashlib
import json

from django.contrib.auth import authenticate
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from scr_escc.exceptions import SignatureRefused
from scr_escc.models import ESignature

Action = ESignature.Action

# Stored with the signature in English (the record); the form shows them in the signer's language.
MEANINGS = {
    Action.OPEN_RANDOMIZATION: gettext_noop("I confirm the safety criteria for Phase IIb are met"),
    Action.CONFIRM_TERMINATION: gettext_noop("I confirm the termination of the study under the stopping rule"),
    Action.RESUME_STUDY: gettext_noop("I confirm the study may resume: the stopping rule is not met"),
    Action.AMEND_PROTOCOL: gettext_noop(
        "I approve this protocol amendment of the run-in limits and stopping threshold"
    ),
    Action.SIGN_AE_ATTRIBUTION: gettext_noop("I confirm the attribution of this adverse event to each intervention"),
    Action.OPEN_COMPARATIVE_RESULTS: gettext_noop("I open the efficacy results by arm to the PI, for the reason given"),
    Action.CLOSE_COMPARATIVE_RESULTS: gettext_noop("I close the efficacy results by arm to the PI again"),
    Action.SIGN_CASEBOOK: gettext_noop(
        "I have reviewed this participant's casebook and confirm its data are complete and accurate"
    ),
}


def printed_name(user) -> str:
    return user.get_full_name() or user.get_username()


def verify_signing_password(*, user, password: str | None, request=None) -> None:
    """Refuse the signature unless `password` is the signer's; failures count toward the lockout.

    `request` is the HTTP request the signature comes from (pages and API always pass it);
    without one (a management command, a service test) the password is checked directly.
    """
    if request is None:
        if not password or not user.check_password(password):
            raise SignatureRefused(_("E-signature refused: the password is not correct. Nothing was changed."))
        return
    http_request = getattr(request, "_request", request)  # DRF wraps Django's request
    signer = authenticate(http_request, username=user.get_username(), password=password or "")
    if getattr(http_request, "axes_locked_out", False):
        raise SignatureRefused(
            _("E-signature refused: this account is locked after too many wrong passwords. Try again later.")
        )
    if signer is None or signer.pk != user.pk:
        raise SignatureRefused(_("E-signature refused: the password is not correct. Nothing was changed."))


def content_hash(content: dict) -> str:
    """SHA-256 of `content` as canonical JSON (sorted keys, ISO dates)."""
    text = json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_signature(*, user, action: str, content: dict, reason: str = "") -> ESignature:
    """Store the signature of `action` over `content` (the values as they are now, locked)."""
    return ESignature.objects.create(
        signer=user,
        signer_name=printed_name(user),
        # The meaning as the signer read it on the form: in the signer's language (English by default).
        meaning=_(MEANINGS[action]),
        action=action,
        reason=reason,
        content_hash=content_hash({"action": action, "signer": user.pk, "content": content}),
    )
