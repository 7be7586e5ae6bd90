"""The safety alerts (SPEC §5 Alerts): what the PI, data managers and safety contacts are told
when an AE changes the stopping-rule count or is serious. Written into the outbox inside the
AE's transaction by safety.services."""

from django.utils.translation import gettext as _

from safety.models import AdverseEvent, Intervention
from scr_escc.alerts import queue_alert
from scr_escc.models import Alert, Study
from scr_escc.phases import halt_number


def alert_stopping_rule_triggered(*, study: Study, ae: AdverseEvent, events, count: int) -> None:
    _alert_stopping_rule(
        kind=Alert.Kind.STOPPING_RULE_TRIGGERED,
        key=f"stopping_rule_triggered:{halt_number()}",
        subject=_("STOPPING RULE TRIGGERED — study halted (%(n)s of %(t)s)"),
        headline=_(
            "The stopping rule of SCR-ESCC-01 is met: the study is HALTED. Enrollment and randomization are "
            "blocked. The PI must confirm termination, or an admin may resume only if a correction brings the "
            "count below the threshold."
        ),
        study=study,
        ae=ae,
        events=events,
        count=count,
    )


def alert_stopping_rule_warning(*, study: Study, ae: AdverseEvent, events, count: int) -> None:
    one_more_halts = count == study.stopping_threshold - 1
    _alert_stopping_rule(
        kind=Alert.Kind.STOPPING_RULE_WARNING,
        key="stopping_rule_warning:" + ",".join(sorted({e.participant.subject_id for e in events})),
        subject=_("Stopping-rule warning: %(n)s of %(t)s treatment-related Grade 5 in run-in"),
        headline=_(
            "A run-in participant has a treatment-related Grade 5 adverse event. One more reaches the stopping "
            "rule and halts the study."
        )
        if one_more_halts
        else _("The count of run-in participants with a treatment-related Grade 5 AE went up."),
        study=study,
        ae=ae,
        events=events,
        count=count,
    )


def _alert_stopping_rule(
    *, kind: str, key: str, subject: str, headline: str, study: Study, ae: AdverseEvent, events, count: int
) -> None:
    queue_alert(
        kind=kind,
        key=key,
        subject=subject % {"n": count, "t": study.stopping_threshold},
        body=_stopping_rule_body(study, ae, events, headline=headline),
        link=f"/adverse-events/{ae.pk}/",
    )


def alert_sae(*, study: Study, ae: AdverseEvent) -> None:
    participant = ae.participant
    queue_alert(
        kind=Alert.Kind.SAE_REPORTED,
        key=f"sae_reported:{ae.pk}",
        subject=_("SAE reported: %(subject)s at %(site)s — %(term)s, grade %(grade)s")
        % {"subject": participant.subject_id, "site": participant.site.code, "term": ae.term, "grade": ae.grade},
        body=_ae_facts(study, ae) + "\n" + _("Sites report every SAE within 24 hours."),
        link=f"/adverse-events/{ae.pk}/",
    )


def _ae_facts(study: Study, ae: AdverseEvent) -> str:
    participant = ae.participant
    attribution = ", ".join(f"{Intervention(k).label}: {v}" for k, v in ae.attributions.items())
    criteria = ", ".join(ae.seriousness_criteria) or "—"
    return "\n".join(
        [
            f"Study: SCR-ESCC-01 (NCT05978193), phase: {study.get_phase_display()}",
            f"Subject: {participant.subject_id} ({participant.get_cohort_display()}), site {participant.site}",
            f"Event: {ae.term} [{ae.soc}], CTCAE grade {ae.grade}",
            f"Onset: {ae.onset_date.isoformat()}"
            + (f", end: {ae.end_date.isoformat()}" if ae.end_date else "")
            + (f", date of death: {ae.death_date.isoformat()}" if ae.death_date else ""),
            f"Serious: {'yes' if ae.serious else 'no'} ({criteria}); outcome: {ae.get_outcome_display()}",
            f"Attribution: {attribution}",
            f"Treatment-related: {'yes' if ae.treatment_related else 'no'}; attribution sign-off: "
            + (f"signed by {ae.attribution_signature.signer_name}" if ae.attribution_signature else "pending"),
            f"Stopping rule: {study.treatment_related_grade5} of {study.stopping_threshold} run-in participants "
            f"with a treatment-related Grade 5 AE",
        ]
    )


def _stopping_rule_body(study: Study, ae: AdverseEvent, events, *, headline: str) -> str:
    lines = [headline, "", _ae_facts(study, ae), "", "Events behind the count:"]
    for event in events:
        lines.append(
            f"  - {event.participant.subject_id} ({event.participant.site.code}): {event.term}, "
            f"death {event.death_date.isoformat() if event.death_date else '?'}"
        )
    return "\n".join(lines)


def alert_stopping_rule_mismatch(*, study: Study, stored: int, recount: int) -> None:
    queue_alert(
        kind=Alert.Kind.STOPPING_RULE_MISMATCH,
        key=f"stopping_rule_mismatch:{study.version}:{stored}:{recount}",
        subject=_("Stopping-rule count corrected: stored %(s)s, recount %(r)s") % {"s": stored, "r": recount},
        body=_(
            "The periodic check recounted the run-in participants with a treatment-related Grade 5 AE from the "
            "adverse event records and found %(r)s, while the study row held %(s)s. The recount is now in force "
            "(threshold %(t)s). Something changed the records outside the application: the data manager should "
            "find out what."
        )
        % {"r": recount, "s": stored, "t": study.stopping_threshold},
        link="/dashboard/",
    )
