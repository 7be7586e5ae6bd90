import getpass
import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from scr_escc import accounts
from scr_escc.models import Role, Site


class Command(BaseCommand):
    help = (
        "Create a user with one role: create_user USERNAME --role ROLE [--site CODE ...] [--email ...]. "
        "The password comes from SCR_USER_PASSWORD, else it is prompted for."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--site", action="append", default=[], dest="sites", metavar="CODE")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")

    def handle(self, *args, username, role, sites, email, first_name, last_name, **options):
        site_objects = []
        for code in sites:
            try:
                site_objects.append(Site.objects.get(code=code))
            except Site.DoesNotExist:
                raise CommandError(f'No site {code}. Create it first: manage.py create_site {code} "Name"')
        password = os.environ.get("SCR_USER_PASSWORD")
        if not password:
            password = getpass.getpass(f"Password for {username}: ")
            if password != getpass.getpass("Again: "):
                raise CommandError("The passwords differ.")
        try:
            user = accounts.create_user(
                username=username,
                role=role,
                password=password,
                sites=site_objects,
                email=email,
                first_name=first_name,
                last_name=last_name,
            )
        except ValidationError as error:
            messages = error.message_dict if hasattr(error, "error_dict") else {"password": error.messages}
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in messages.items()))
        where = ", ".join(user.site_codes) or "all sites"
        self.stdout.write(self.style.SUCCESS(f"Created {role} {username} ({where})"))
