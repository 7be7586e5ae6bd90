"""Randomization of a participant (SPEC §6). The allocation list itself: randomization.lists."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from enrollment.models import Cohort, Participant, ParticipantStatus
from enrollment.services import record_randomization
from randomization import blocks
from randomization.models import LOW_LIST_THRESHOLD, Allocation, AllocationEntry, Stratum
from scr_escc.alerts import queue_alert
from scr_escc.exceptions import DomainError
from scr_escc.models import Alert, Study
from scr_escc.phases import ensure_study_open, lock_study
from scr_escc.transactions import retry_on_conflict


class RandomizationRefused(DomainError):
    pass


class AlreadyRandomized(RandomizationRefused):
    pass


def participant_stratum_code(participant: Participant, study: Study) -> str:
    site_code = participant.site.code if study.stratify_by_site else None
    return blocks.stratum_code(ecog=participant.screening.ecog, site_code=site_code)


@retry_on_conflict
def randomize(*, participant: Participant, user) -> Allocation:
    """Take the next unused entry of the participant's stratum, atomically.

    Lock order: the study row (phase re-checked inside the transaction, so a halt that
    commits first blocks this request), the participant, then the stratum row; the next
    entry is read only while the stratum is locked, so no entry is used twice or skipped.
    """
    with transaction.atomic():
        study = lock_study()
        _check_phase(study)
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("site", "screening")
            .get(pk=participant.pk)
        )
        _check_participant(participant)
        code = participant_stratum_code(participant, study)
        stratum = _lock_stratum(code)
        entry = _next_entry(stratum)
        try:
            with transaction.atomic():
                allocation = Allocation.objects.create(
                    participant=participant,
                    entry=entry,
                    stratum=code,
                    sequence=entry.sequence,
                    arm=entry.arm,
                    randomized_by=user,
                )
        except IntegrityError:
            raise AlreadyRandomized(_("%(s)s is already randomized.") % {"s": participant.subject_id})
        record_randomization(
            participant=participant, arm=allocation.arm, randomized_at=allocation.randomized_at, user=user
        )
        _alert_if_low(stratum)
    return allocation


def _check_phase(study: Study) -> None:
    ensure_study_open(study, action=_("Randomization"))
    if study.phase != Study.Phase.RANDOMIZATION:
        raise RandomizationRefused(
            _("Randomization refused: randomization has not opened (the study is in the safety run-in).")
        )


def _check_participant(participant: Participant) -> None:
    subject = participant.subject_id
    if participant.arm is not None or Allocation.objects.filter(participant=participant).exists():
        raise AlreadyRandomized(_("%(s)s is already randomized.") % {"s": subject})
    if participant.cohort != Cohort.RANDOMIZED:
        raise RandomizationRefused(_("%(s)s is in the safety run-in cohort, which is not randomized.") % {"s": subject})
    if participant.status != ParticipantStatus.ON_STUDY:
        raise RandomizationRefused(
            _("%(s)s is %(status)s and cannot be randomized.")
            % {"s": subject, "status": participant.get_status_display()}
        )
    if not participant.screening.eligible:
        raise RandomizationRefused(_("%(s)s's screening is not eligible.") % {"s": subject})


def _lock_stratum(code: str) -> Stratum:
    stratum = Stratum.objects.select_for_update(of=("self",)).filter(allocation_list__active=True, code=code).first()
    if stratum is None:
        raise RandomizationRefused(_("No allocation list for stratum %(c)s. Contact the data manager.") % {"c": code})
    return stratum


def _next_entry(stratum: Stratum) -> AllocationEntry:
    """The first unused entry; read while the stratum row is locked, so never one twice."""
    entry = AllocationEntry.objects.filter(stratum=stratum, allocation__isnull=True).order_by("sequence").first()
    if entry is None:
        raise RandomizationRefused(
            _(
                "The allocation list for stratum %(c)s is exhausted. Contact the data "
                "manager; no participant of this stratum can be randomized until then."
            )
            % {"c": stratum.code}
        )
    return entry


def _alert_if_low(stratum: Stratum) -> None:
    remaining = AllocationEntry.objects.filter(stratum=stratum, allocation__isnull=True).count()
    if remaining >= LOW_LIST_THRESHOLD or stratum.low_alerted:
        return
    stratum.low_alerted = True
    stratum.save(update_fields=["low_alerted"])

    def render() -> tuple[str, str]:
        # The PI and safety contacts receive it too: "low", never how many entries are left,
        # which would help predict the next arm.
        subject = _("Allocation list running low in stratum %(c)s") % {"c": stratum.code}
        body = _(
            "Stratum %(c)s of the SCR-ESCC-01 allocation list is running low. The data manager extends it on "
            "the Randomization page: randomization in an exhausted stratum is refused."
        ) % {"c": stratum.code}
        return subject, body

    queue_alert(
        kind=Alert.Kind.ALLOCATION_LIST_LOW,
        key=f"allocation_list_low:{stratum.allocation_list_id}:{stratum.code}",
        render=render,
        link="/randomization/",
    )
