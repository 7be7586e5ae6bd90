"""The concealed allocation list (SPEC §6): generate, import, extend a stratum, add a new site's
strata. Every change is an AllocationListChange row (who, when, what, why) in the audit trail.

Seeds come from the operating system's CSPRNG unless the statistician imports a list; a typed
seed needs the same entropy (≥ 128 bits). The fingerprint is an HMAC under a server secret,
so a guessed seed cannot be tested against it offline.
"""

import hashlib
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from randomization import blocks
from randomization.models import Allocation, AllocationEntry, AllocationList, AllocationListChange, Stratum
from scr_escc.audit import require_reason
from scr_escc.exceptions import DomainError
from scr_escc.models import Site, Study
from scr_escc.phases import lock_study

Action = AllocationListChange.Action


class AllocationListLocked(DomainError):
    pass


def fingerprint_key() -> bytes:
    """The server secret of list fingerprints: ALLOCATION_FINGERPRINT_KEY, else derived from SECRET_KEY."""
    configured = getattr(settings, "ALLOCATION_FINGERPRINT_KEY", "")
    return (configured or hashlib.sha256(f"allocation-fingerprint:{settings.SECRET_KEY}".encode()).hexdigest()).encode()


def list_fingerprint(allocation_list: AllocationList) -> str:
    entries = AllocationEntry.objects.filter(stratum__allocation_list=allocation_list).select_related("stratum")
    return blocks.fingerprint(
        (blocks.Entry(e.stratum.code, e.sequence, e.block, e.block_size, e.arm) for e in entries),
        key=fingerprint_key(),
    )


def _checked_seed(seed: str | None) -> str:
    seed = (seed or "").strip()
    if not seed:
        return blocks.new_seed()
    if blocks.seed_entropy_bits(seed) < blocks.MIN_SEED_BITS:
        raise ValidationError(
            {
                "seed": _(
                    "This seed is too easy to guess (under %(bits)s bits). Leave it empty and the server draws "
                    "one, or type at least 32 random letters and digits."
                )
                % {"bits": blocks.MIN_SEED_BITS}
            }
        )
    return seed


def _known_strata(study: Study) -> list[str]:
    site_codes = list(Site.objects.values_list("code", flat=True)) if study.stratify_by_site else None
    return blocks.strata_for(site_codes)


def _store_entries(allocation_list: AllocationList, entries: list[blocks.Entry]) -> None:
    sites = {s.code: s for s in Site.objects.all()}
    strata = {s.code: s for s in allocation_list.strata.all()}
    for code in sorted({e.stratum for e in entries} - set(strata)):
        site_code, _sep, ecog_part = code.rpartition("-")
        strata[code] = Stratum.objects.create(
            allocation_list=allocation_list,
            code=code,
            ecog=int(ecog_part.removeprefix("ECOG")),
            site=sites.get(site_code) if site_code else None,
        )
    AllocationEntry.objects.bulk_create(
        AllocationEntry(
            stratum=strata[e.stratum], sequence=e.sequence, block=e.block, block_size=e.block_size, arm=e.arm
        )
        for e in entries
    )


def _record(allocation_list, *, action, entries, user, seed="", reason="") -> AllocationListChange:
    allocation_list.fingerprint = list_fingerprint(allocation_list)
    allocation_list.save(update_fields=["fingerprint"])
    return AllocationListChange.objects.create(
        allocation_list=allocation_list,
        action=action,
        strata=sorted({e.stratum for e in entries}),
        entries_added=len(entries),
        seed=seed,
        reason=reason,
        fingerprint=allocation_list.fingerprint,
        by=user,
    )


def _replace_list(*, entries: list[blocks.Entry], study: Study, user, action: str, **list_fields) -> AllocationList:
    """Store a new active list (the old one, never used, is kept inactive for the record)."""
    if Allocation.objects.exists():
        raise AllocationListLocked(_("The allocation list is locked: randomization has started."))
    AllocationList.objects.filter(active=True).update(active=False)
    allocation_list = AllocationList.objects.create(
        created_by=user, fingerprint="", stratify_by_site=study.stratify_by_site, **list_fields
    )
    _store_entries(allocation_list, entries)
    _record(allocation_list, action=action, entries=entries, user=user, seed=list_fields.get("seed", ""))
    return allocation_list


def _check_sizes(per_stratum: int, block_sizes: Sequence[int]) -> None:
    problems = blocks.validate_block_sizes(block_sizes)
    if per_stratum < 1:
        problems.append(_("Entries per stratum must be at least 1."))
    if problems:
        raise ValidationError({"block_sizes": problems})


def generate_allocation_list(
    *, per_stratum: int, block_sizes: Sequence[int] = blocks.DEFAULT_BLOCK_SIZES, seed: str | None = None, user=None
) -> AllocationList:
    """A seeded list of permuted blocks for every stratum; the seed is the server's unless typed."""
    _check_sizes(per_stratum, block_sizes)
    seed = _checked_seed(seed)
    with transaction.atomic():
        study = lock_study()
        entries = blocks.generate(
            seed=seed, strata=_known_strata(study), per_stratum=per_stratum, block_sizes=block_sizes
        )
        return _replace_list(
            entries=entries,
            study=study,
            user=user,
            action=Action.GENERATED,
            source=AllocationList.Source.GENERATED,
            seed=seed,
            per_stratum=per_stratum,
            block_sizes=sorted(set(block_sizes)),
        )


def import_allocation_list(*, text: str, file_name: str = "", user=None) -> AllocationList:
    with transaction.atomic():
        study = lock_study()
        entries, errors = blocks.parse_csv(text, known_strata=_known_strata(study))
        if errors:
            raise ValidationError({"file": errors})
        return _replace_list(
            entries=entries,
            study=study,
            user=user,
            action=Action.IMPORTED,
            source=AllocationList.Source.IMPORTED,
            file_name=file_name,
            block_sizes=sorted({e.block_size for e in entries}),
        )


def _appended(stratum: Stratum, *, entries: int, block_sizes: Sequence[int], seed: str) -> list[blocks.Entry]:
    """New complete blocks after the stratum's last entry and block (never touching used ones)."""
    last = stratum.entries.order_by("-sequence").values_list("sequence", "block").first() or (0, 0)
    fresh = blocks.generate(seed=seed, strata=[stratum.code], per_stratum=entries, block_sizes=block_sizes)
    return [blocks.Entry(e.stratum, e.sequence + last[0], e.block + last[1], e.block_size, e.arm) for e in fresh]


def extend_stratum(
    *, code: str, entries: int, user, reason: str | None, block_sizes: Sequence[int] | None = None
) -> AllocationListChange:
    """Data manager: add blocks to a stratum running low, even after the first allocation."""
    reason = require_reason(reason, field="reason")
    with transaction.atomic():
        lock_study()
        stratum = (
            Stratum.objects.select_for_update(of=("self",)).filter(allocation_list__active=True, code=code).first()
        )
        if stratum is None:
            raise ValidationError({"stratum": _("No stratum %(c)s in the active list.") % {"c": code}})
        sizes = block_sizes or stratum.allocation_list.block_sizes or blocks.DEFAULT_BLOCK_SIZES
        _check_sizes(entries, sizes)
        seed = blocks.new_seed()
        new = _appended(stratum, entries=entries, block_sizes=sizes, seed=seed)
        _store_entries(stratum.allocation_list, new)
        stratum.low_alerted = False  # a new low point alerts again
        stratum.save(update_fields=["low_alerted"])
        return _record(
            stratum.allocation_list, action=Action.STRATUM_EXTENDED, entries=new, user=user, seed=seed, reason=reason
        )


def add_strata_for_site(*, site: Site, user=None) -> AllocationListChange | None:
    """Registered with the core's site-created hooks: a site added while randomization is
    stratified by site gets its strata in the active list."""
    allocation_list = AllocationList.objects.filter(active=True).first()
    if allocation_list is None or not allocation_list.stratify_by_site:
        return None
    sizes = allocation_list.block_sizes or blocks.DEFAULT_BLOCK_SIZES
    per_stratum = allocation_list.per_stratum or max(
        allocation_list.strata.first().entries.count() if allocation_list.strata.exists() else 0, 20
    )
    seed = blocks.new_seed()
    new = blocks.generate(seed=seed, strata=blocks.strata_for([site.code]), per_stratum=per_stratum, block_sizes=sizes)
    _store_entries(allocation_list, new)
    return _record(
        allocation_list,
        action=Action.STRATA_ADDED,
        entries=new,
        user=user,
        seed=seed,
        reason=_("New site %(code)s") % {"code": site.code},
    )


def check_stratification_change(*, before: dict, study: Study) -> None:
    """Registered with the core's settings checks: stratification is fixed once a list exists."""
    if study.stratify_by_site != before["stratify_by_site"] and AllocationList.objects.filter(active=True).exists():
        raise ValidationError({"stratify_by_site": _("Stratification cannot change once an allocation list exists.")})
