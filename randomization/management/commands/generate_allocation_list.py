from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from randomization import lists
from randomization.management.commands import data_manager_named
from scr_escc.exceptions import DomainError


class Command(BaseCommand):
    help = (
        "Generate the concealed allocation list: stratified permuted blocks of randomly chosen size, 1:1 in "
        "every block. The seed is drawn by the server (256 bits) unless you give one of at least 128 bits; "
        "same seed and parameters → same list and fingerprint."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--by", required=True, metavar="USERNAME", help="The data manager doing this (named in the audit trail)."
        )
        parser.add_argument(
            "--seed", default="", help="Seed of ≥ 128 bits (e.g. 32 random letters and digits); empty: the server's."
        )
        parser.add_argument("--per-stratum", type=int, required=True, help="Entries at least, per stratum.")
        parser.add_argument("--block-sizes", default="2,4", help="Even block sizes, comma-separated (default 2,4).")

    def handle(self, *args, by, seed, per_stratum, block_sizes, **options):
        try:
            sizes = [int(s) for s in block_sizes.split(",") if s.strip()]
        except ValueError:
            raise CommandError("--block-sizes takes whole numbers, e.g. 2,4")
        try:
            allocation_list = lists.generate_allocation_list(
                seed=seed, per_stratum=per_stratum, block_sizes=sizes, user=data_manager_named(by)
            )
        except ValidationError as error:
            raise CommandError("; ".join(m for ms in error.message_dict.values() for m in ms))
        except DomainError as refusal:
            raise CommandError(refusal.message)
        strata = ", ".join(f"{s.code} ({s.entries.count()})" for s in allocation_list.strata.all())
        self.stdout.write(self.style.SUCCESS(f"Allocation list generated: {strata}"))
        self.stdout.write(f"Seed (keep it with the trial master file, concealed): {allocation_list.seed}")
        self.stdout.write(f"Fingerprint (HMAC-SHA-256): {allocation_list.fingerprint}")
