"""Stratified permuted blocks with randomly varying block sizes (SPEC §6). Pure: no database.

The list for a stratum is a run of complete blocks; each block's size is drawn from the
allowed sizes and holds as many A as B, in random order. Seeded per stratum, so the same
seed and parameters give the same list, and adding a stratum does not change the others.
"""

import csv
import hashlib
import hmac
import io
import math
import random
import secrets
import string
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _

ARMS = ("A", "B")
DEFAULT_BLOCK_SIZES = (2, 4)
CSV_COLUMNS = ("stratum", "sequence", "block", "block_size", "arm")


@dataclass(frozen=True)
class Entry:
    stratum: str
    sequence: int
    block: int
    block_size: int
    arm: str


def stratum_code(*, ecog: int, site_code: str | None = None) -> str:
    """ECOG 0 vs 1 (the default factor), optionally prefixed by the site."""
    base = f"ECOG{ecog}"
    return f"{site_code}-{base}" if site_code else base


def strata_for(site_codes: Iterable[str] | None) -> list[str]:
    ecog_strata = [stratum_code(ecog=e) for e in (0, 1)]
    if site_codes is None:
        return ecog_strata
    return [stratum_code(ecog=e, site_code=s) for s in sorted(site_codes) for e in (0, 1)]


def validate_block_sizes(block_sizes: Sequence[int]) -> list[str]:
    errors = []
    if not block_sizes:
        errors.append(_("Give at least one block size."))
    for size in block_sizes:
        if size < 2 or size % 2:
            errors.append(_("Block size %(size)s cannot hold as many A as B: use even sizes ≥ 2.") % {"size": size})
    return errors


def generate(
    *, seed: int | str, strata: Sequence[str], per_stratum: int, block_sizes: Sequence[int] = DEFAULT_BLOCK_SIZES
) -> list[Entry]:
    """At least `per_stratum` entries per stratum, in complete 1:1 blocks."""
    if per_stratum < 1:
        raise ValueError("per_stratum must be at least 1")
    problems = validate_block_sizes(block_sizes)
    if problems:
        raise ValueError(" ".join(problems))
    sizes = sorted(set(block_sizes))
    entries: list[Entry] = []
    for stratum in strata:
        rng = random.Random(f"{seed}:{stratum}")
        sequence, block = 0, 0
        while sequence < per_stratum:
            block += 1
            size = rng.choice(sizes)
            arms = list(ARMS) * (size // 2)
            rng.shuffle(arms)
            for arm in arms:
                sequence += 1
                entries.append(Entry(stratum, sequence, block, size, arm))
    return entries


def to_csv(entries: Iterable[Entry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for e in sorted(entries, key=lambda e: (e.stratum, e.sequence)):
        writer.writerow([e.stratum, e.sequence, e.block, e.block_size, e.arm])
    return out.getvalue()


def fingerprint(entries: Iterable[Entry], *, key: bytes) -> str:
    """HMAC-SHA-256 of the list's canonical CSV under a server secret.

    The same list always has the same fingerprint, but nobody without the key can test a
    guessed seed against it offline (a plain SHA-256 would let them, a millisecond a guess).
    """
    return hmac.new(key, to_csv(entries).encode("utf-8"), hashlib.sha256).hexdigest()


MIN_SEED_BITS = 128
_CHARACTER_CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)


def new_seed() -> str:
    """A seed from the operating system's CSPRNG: 256 bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def seed_entropy_bits(seed: str) -> float:
    """A conservative estimate of a typed seed's entropy: length × log2 of the smaller of the
    alphabet its character classes span and the number of distinct characters it uses."""
    if not seed:
        return 0.0
    pool = sum(len(chars) for chars in _CHARACTER_CLASSES if any(c in chars for c in seed))
    if any(not any(c in chars for chars in _CHARACTER_CLASSES) for c in seed):
        pool += 33  # punctuation and other characters
    return len(seed) * math.log2(max(2, min(pool, len(set(seed)))))


def parse_csv(text: str, *, known_strata: Sequence[str]) -> tuple[list[Entry], list[str]]:
    """Read a statistician's list. Returns (entries, errors); any error refuses the whole file.

    Columns: stratum, sequence, block, arm (block_size optional, checked when present).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"stratum", "sequence", "block", "arm"} - set(reader.fieldnames or [])
    if missing:
        message = _("Line 1: missing column(s) %(missing)s; expected %(expected)s.")
        return [], [message % {"missing": ", ".join(sorted(missing)), "expected": ", ".join(CSV_COLUMNS)}]
    rows, errors = _read_rows(reader, known_strata)
    if not rows and not errors:
        errors.append(_("The file has no entries."))
    by_stratum: dict[str, list[tuple[int, Entry]]] = defaultdict(list)
    for line, entry in rows:
        by_stratum[entry.stratum].append((line, entry))
    result: list[Entry] = []
    for stratum, items in by_stratum.items():
        items.sort(key=lambda item: item[1].sequence)
        errors += _sequence_errors(stratum, items)
        blocks: dict[int, list[tuple[int, Entry]]] = defaultdict(list)
        for line, entry in items:
            blocks[entry.block].append((line, entry))
        errors += _block_errors(stratum, blocks)
        result += [Entry(e.stratum, e.sequence, e.block, len(blocks[e.block]), e.arm) for _line, e in items]
    return (result if not errors else []), errors


def _read_rows(reader: csv.DictReader, known_strata: Sequence[str]) -> tuple[list[tuple[int, Entry]], list[str]]:
    """Each line as (line number, entry), with the errors of single lines."""
    rows: list[tuple[int, Entry]] = []
    errors: list[str] = []
    for line, row in enumerate(reader, start=2):
        stratum = (row.get("stratum") or "").strip()
        arm = (row.get("arm") or "").strip().upper()
        if stratum not in known_strata:
            errors.append(
                _("Line %(line)s: unknown stratum “%(stratum)s” (known: %(known)s).")
                % {"line": line, "stratum": stratum, "known": ", ".join(known_strata)}
            )
        if arm not in ARMS:
            errors.append(_("Line %(line)s: arm “%(arm)s” is not A or B.") % {"line": line, "arm": row.get("arm")})
        try:
            sequence, block = int(row["sequence"]), int(row["block"])
        except (TypeError, ValueError):
            errors.append(_("Line %(line)s: sequence and block must be whole numbers.") % {"line": line})
            continue
        declared = (row.get("block_size") or "").strip()
        size = int(declared) if declared.isdigit() else 0
        rows.append((line, Entry(stratum, sequence, block, size, arm)))
    return rows, errors


def _sequence_errors(stratum: str, items: list[tuple[int, Entry]]) -> list[str]:
    """Sequences start at 1 and have no gaps or repeats (the first break is reported)."""
    for expected, (line, entry) in enumerate(items, start=1):
        if entry.sequence != expected:
            message = _(
                "Line %(line)s: stratum %(stratum)s sequence %(sequence)s, expected %(expected)s "
                "(sequences start at 1 and have no gaps or repeats)."
            )
            return [message % {"line": line, "stratum": stratum, "sequence": entry.sequence, "expected": expected}]
    return []


def _block_errors(stratum: str, blocks: dict[int, list[tuple[int, Entry]]]) -> list[str]:
    """Blocks numbered 1, 2, …; each 1:1, one run of sequences, its declared size right."""
    errors: list[str] = []
    previous_block = 0
    for number in sorted(blocks):
        members = blocks[number]
        first_line = members[0][0]
        if number != previous_block + 1:
            errors.append(
                _("Line %(line)s: stratum %(stratum)s block %(block)s follows block %(previous)s.")
                % {"line": first_line, "stratum": stratum, "block": number, "previous": previous_block}
            )
        previous_block = number
        arms = [e.arm for _line, e in members]
        if arms.count("A") != arms.count("B"):
            errors.append(
                _("Line %(line)s: stratum %(stratum)s block %(block)s is not balanced (%(a)s A, %(b)s B).")
                % {"line": first_line, "stratum": stratum, "block": number, "a": arms.count("A"), "b": arms.count("B")}
            )
        sequences = sorted(e.sequence for _line, e in members)
        if sequences != list(range(sequences[0], sequences[0] + len(sequences))):
            errors.append(
                _("Line %(line)s: stratum %(stratum)s block %(block)s is not one run of sequences.")
                % {"line": first_line, "stratum": stratum, "block": number}
            )
        for line, e in members:
            if e.block_size and e.block_size != len(members):
                errors.append(
                    _("Line %(line)s: block_size %(size)s but block %(block)s has %(n)s entries.")
                    % {"line": line, "size": e.block_size, "block": number, "n": len(members)}
                )
                break
    return errors


def max_prefix_imbalance(arms: Sequence[str]) -> int:
    """Largest |#A − #B| over every prefix of an allocation sequence."""
    worst = balance = 0
    for arm in arms:
        balance += 1 if arm == "A" else -1
        worst = max(worst, abs(balance))
    return worst
