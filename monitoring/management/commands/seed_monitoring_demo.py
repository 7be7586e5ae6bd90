"""Demo monitoring data on top of seed_demo: a monitor's query on an AE's grade, the source data of
SH01-001's screening verified, and the automatic data checks run. Safe to run twice."""

from django.core.management.base import BaseCommand
from django.db import transaction

from enrollment.models import Participant
from monitoring import queries, sdv
from monitoring.models import Query
from monitoring.rules import raise_automatic_queries
from safety.models import AdverseEvent
from scr_escc.models import User


class Command(BaseCommand):
    help = "Demo data queries and source data verification (after seed_demo). Safe to run twice."

    def handle(self, *args, **options):
        participant = Participant.objects.filter(subject_id="SH01-001").first()
        monitor = User.objects.filter(username="monitor").first()
        if participant is None or monitor is None or Query.objects.exists():
            return
        with transaction.atomic():
            ae = AdverseEvent.objects.filter(participant=participant, voided=False).order_by("pk").first()
            if ae is not None:
                queries.raise_query(
                    user=monitor,
                    record=ae,
                    field="grade",
                    text="The clinic note of the onset day describes vomiting 3 times a day: please check the grade.",
                )
            sdv.verify(user=monitor, record=participant.screening)
            raised = raise_automatic_queries()
        self.stdout.write(f"Demo monitoring: 1 query, 1 verified screening, {raised} automatic queries.")
