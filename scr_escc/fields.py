"""Small building blocks of the core's models: e-mail lists, bounded numbers, the time zones offered."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, validate_email
from django.db import models
from django.utils.translation import gettext_lazy as _

# The time zones a user of this trial may choose (stored times are UTC; pages show local time).
TIME_ZONES = [
    (zone, zone)
    for zone in ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
                 "Europe/Berlin", "America/New_York", "UTC")
]  # fmt: skip


def validate_email_list(value: str) -> None:
    for address in split_emails(value):
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                _("“%(address)s” is not a valid email address."), params={"address": address}
            ) from None


def split_emails(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def _bounded(label, default: int, low: int, high: int, help_text) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        label, default=default, validators=[MinValueValidator(low), MaxValueValidator(high)], help_text=help_text
    )
