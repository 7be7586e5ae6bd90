from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from randomization import lists
from randomization.management.commands import data_manager_named
from scr_escc.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Import the statistician's allocation list (CSV: stratum,sequence,block,block_size,arm). A bad file is "
        "refused whole, with line-numbered errors."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--by", required=True, metavar="USERNAME", help="The data manager doing this (named in the audit trail)."
        )
        parser.add_argument("file")

    def handle(self, *args, by, file, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {file}: {error}")
        try:
            allocation_list = lists.import_allocation_list(text=text, file_name=path.name, user=data_manager_named(by))
        except ValidationError as error:
            raise CommandError(
                "The file was refused, nothing imported:\n"
                + "\n".join(m for ms in error.message_dict.values() for m in ms)
            )
        except DomainError as refusal:
            raise CommandError(refusal.message)
        self.stdout.write(
            self.style.SUCCESS(f"Imported {path.name}: " + ", ".join(s.code for s in allocation_list.strata.all()))
        )
        self.stdout.write(f"Fingerprint (HMAC-SHA-256): {allocation_list.fingerprint}")
