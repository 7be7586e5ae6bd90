from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from scr_escc import services


class Command(BaseCommand):
    help = 'Create a site: create_site CODE "Name" (code like SH01).'

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("name")
        parser.add_argument("--inactive", action="store_true", help="Create the site inactive.")

    def handle(self, *args, code, name, inactive, **options):
        try:
            site = services.create_site(code=code, name=name, active=not inactive)
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items()))
        self.stdout.write(self.style.SUCCESS(f"Created site {site}"))
