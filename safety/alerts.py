"""The safety alerts (SPEC §5 Alerts): what the PI, data managers and safety contacts are told
when an AE changes the stopping-rule count or is serious. Written into the outbox inside the
AE's transaction by safety.services.

Each alert's text is a `render()` that scr_escc.alerts.queue_alert calls once per language
(under translation.override), so every recipient reads it in their own language; the facts
(counts, dates, codes, CTCAE terms) are the same in every rendering."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from safety.models import AdverseEvent, Attribution, Intervention, Seriousness
from scr_escc.alerts import queue_alert
from scr_escc.models import Alert, Study
from scr_escc.phases import halt_number


def alert_stopping_rule_triggered(*, study: Study, ae: AdverseEvent, events, count: int) -> None:
    _alert_stopping_rule(
        kind=Alert.Kind.STOPPING_RULE_TRIGGERED,
        key=f"stopping_rule_triggered:{halt_number()}",
        subject=gettext_lazy("STOPPING RULE TRIGGERED — study halted (%(n)s of %(t)s)"),
        headline=gettext_lazy(
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
        subject=gettext_lazy("Stopping-rule warning: %(n)s of %(t)s treatment-related Grade 5 in run-in"),
        headline=gettext_lazy(
            "A run-in participant has a treatment-related Grade 5 adverse event. One more reaches the stopping "
            "rule and halts the study."
        )
        if one_more_halts
        else gettext_lazy("The count of run-in participants with a treatment-related Grade 5 AE went up."),
        study=study,
        ae=ae,
        events=events,
        count=count,
    )


def _alert_stopping_rule(
    *, kind: str, key: str, subject, headline, study: Study, ae: AdverseEvent, events, count: int
) -> None:
    events = list(events)

    def render() -> tuple[str, str]:
        return (
            str(subject) % {"n": count, "t": study.stopping_threshold},
            _stopping_rule_body(study, ae, events, headline=str(headline)),
        )

    queue_alert(kind=kind, key=key, render=render, link=f"/adverse-events/{ae.pk}/")


def alert_sae(*, study: Study, ae: AdverseEvent) -> None:
    participant = ae.participant

    def render() -> tuple[str, str]:
        subject = _("SAE reported: %(subject)s at %(site)s — %(term)s, grade %(grade)s") % {
            "subject": participant.subject_id,
            "site": participant.site.code,
            "term": ae.term,
            "grade": ae.grade,
        }
        return subject, _ae_facts(study, ae) + "\n" + _("Sites report every SAE within 24 hours.")

    queue_alert(
        kind=Alert.Kind.SAE_REPORTED, key=f"sae_reported:{ae.pk}", render=render, link=f"/adverse-events/{ae.pk}/"
    )


def _list_separator() -> str:
    return pgettext("list separator", ", ")


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _attributions(ae: AdverseEvent) -> str:
    labels = dict(Attribution.choices)
    return _list_separator().join(
        _("%(intervention)s: %(attribution)s")
        % {"intervention": Intervention(k).label, "attribution": str(labels.get(v, v or "—")).lower()}
        for k, v in ae.attributions.items()
    )


def _dates(ae: AdverseEvent) -> str:
    text = _("Onset: %(date)s") % {"date": ae.onset_date.isoformat()}
    if ae.end_date:
        text += _(", end: %(date)s") % {"date": ae.end_date.isoformat()}
    if ae.death_date:
        text += _(", date of death: %(date)s") % {"date": ae.death_date.isoformat()}
    return text


def _ae_facts(study: Study, ae: AdverseEvent) -> str:
    participant = ae.participant
    criteria = dict(Seriousness.choices)
    signature = ae.attribution_signature
    return "\n".join(
        [
            _("Study: SCR-ESCC-01 (NCT05978193), phase: %(phase)s") % {"phase": study.get_phase_display()},
            _("Subject: %(subject)s (%(cohort)s), site %(site)s")
            % {"subject": participant.subject_id, "cohort": participant.get_cohort_display(), "site": participant.site},
            _("Event: %(term)s [%(soc)s], CTCAE grade %(grade)s") % {"term": ae.term, "soc": ae.soc, "grade": ae.grade},
            _dates(ae),
            _("Serious: %(serious)s (%(criteria)s); outcome: %(outcome)s")
            % {
                "serious": _yes_no(ae.serious),
                "criteria": _list_separator().join(str(criteria.get(c, c)) for c in ae.seriousness_criteria) or "—",
                "outcome": ae.get_outcome_display(),
            },
            _("Attribution: %(attribution)s") % {"attribution": _attributions(ae)},
            _("Treatment-related: %(related)s; attribution sign-off: %(sign_off)s")
            % {
                "related": _yes_no(ae.treatment_related),
                "sign_off": _("signed by %(name)s") % {"name": signature.signer_name}
                if signature
                else pgettext("attribution sign-off", "pending"),
            },
            _("Stopping rule: %(n)s of %(t)s run-in participants with a treatment-related Grade 5 AE")
            % {"n": study.treatment_related_grade5, "t": study.stopping_threshold},
        ]
    )


def _stopping_rule_body(study: Study, ae: AdverseEvent, events, *, headline: str) -> str:
    lines = [headline, "", _ae_facts(study, ae), "", _("Events behind the count:")]
    for event in events:
        lines.append(
            "  - "
            + _("%(subject)s (%(site)s): %(term)s, death %(date)s")
            % {
                "subject": event.participant.subject_id,
                "site": event.participant.site.code,
                "term": event.term,
                "date": event.death_date.isoformat() if event.death_date else "?",
            }
        )
    return "\n".join(lines)


def alert_stopping_rule_mismatch(*, study: Study, stored: int, recount: int) -> None:
    def render() -> tuple[str, str]:
        subject = _("Stopping-rule count corrected: stored %(s)s, recount %(r)s") % {"s": stored, "r": recount}
        body = _(
            "The periodic check recounted the run-in participants with a treatment-related Grade 5 AE from the "
            "adverse event records and found %(r)s, while the study row held %(s)s. The recount is now in force "
            "(threshold %(t)s). Something changed the records outside the application: the data manager should "
            "find out what."
        ) % {"r": recount, "s": stored, "t": study.stopping_threshold}
        return subject, body

    queue_alert(
        kind=Alert.Kind.STOPPING_RULE_MISMATCH,
        key=f"stopping_rule_mismatch:{study.version}:{stored}:{recount}",
        render=render,
        link="/dashboard/",
    )
