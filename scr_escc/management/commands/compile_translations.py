"""Compile locale/*/LC_MESSAGES/*.po into .mo files, with Babel (no GNU gettext needed).

`make run` and `make test` run it first; the compiled files are not kept in git (.gitignore):
the .po files are the source, reviewed in pull requests.
"""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the translation catalogs (.po → .mo) without GNU gettext."

    def handle(self, *args, **options):
        for folder in settings.LOCALE_PATHS:
            for po in sorted(Path(folder).glob("*/LC_MESSAGES/*.po")):
                with po.open("rb") as source:
                    catalog = read_po(source)
                with po.with_suffix(".mo").open("wb") as target:
                    write_mo(target, catalog, use_fuzzy=False)
                self.stdout.write(f"{po.relative_to(settings.BASE_DIR)}: {len(catalog)} messages")
