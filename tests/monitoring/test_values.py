"""A record's values as plain text (what SDV and the casebook compare, hash and show), and where a
written row belongs (its record type, participant and site)."""

import datetime
from decimal import Decimal

import pytest

from efficacy.assessments import record_baseline
from efficacy.models import Lesion, LesionResult
from monitoring.record_types import RECORD_TYPES, owner_of, participant_id_of, site_id_of, type_of
from monitoring.values import all_fields, as_text, content_hash, diff, record_values
from tests.efficacy.conftest import ago, three_targets
from tests.factories import make_screening


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "yes"),
        (False, "no"),
        (0, "0"),
        (datetime.date(2026, 1, 31), "2026-01-31"),
        (datetime.datetime(2026, 1, 31, 8, 30, tzinfo=datetime.UTC), "2026-01-31T08:30:00+00:00"),
        (Decimal("4.50"), "4.5"),
        (Decimal("4.5"), "4.5"),
        (Decimal("4.00"), "4"),
        (Decimal("100"), "100"),
        (Decimal("1E+2"), "100"),
        (Decimal("0.10"), "0.1"),
        (Decimal("0.00"), "0"),
        (["death", "hospitalization"], "death, hospitalization"),
        ([], ""),
        ("fatal", "fatal"),
    ],
)
def test_values_as_text(value, text):
    assert as_text(value) == text


def test_diff_names_changed_added_and_gone_keys_in_order():
    old = {"grade": "2", "outcome": "fatal", "gone": "x", "same": "1"}
    new = {"grade": "3", "outcome": "fatal", "added": "y", "same": "1"}
    assert diff(old, new) == [
        {"field": "added", "old": "", "new": "y"},
        {"field": "gone", "old": "x", "new": ""},
        {"field": "grade", "old": "2", "new": "3"},
    ]
    assert diff(old, dict(old)) == []


def test_the_hash_does_not_depend_on_key_order():
    assert content_hash({"a": {"x": "1", "y": "2"}, "b": {}}) == content_hash({"b": {}, "a": {"y": "2", "x": "1"}})
    assert content_hash({"a": {"x": "1"}}) != content_hash({"a": {"x": "2"}})


def test_bookkeeping_and_computed_columns_are_never_compared(ae, participant):
    fields = all_fields(ae)
    assert {"grade", "ctcae_term", "onset_date", "voided", "void_reason"} <= set(fields)
    assert not {"id", "version", "created_at", "updated_at", "created_by", "treatment_related", "term", "soc"} & set(
        fields
    )
    assert "attribution_signature" not in fields
    assert "sequence" not in all_fields(participant) and "enrolled_by" not in all_fields(participant)
    assert not {"eligible", "failed_criteria"} & set(all_fields(participant.screening))


def test_a_foreign_key_is_its_id_and_a_tumour_assessment_carries_its_lesions(participant, coordinator):
    baseline = record_baseline(
        participant=participant,
        data={"assessment_date": ago(61), "method": "ct"},
        targets=three_targets(),
        non_targets=[{"organ": "bone", "location": "T8", "lymph_node": False}],
        user=coordinator,
    )
    values = record_values(baseline, ("participant", "method"))
    assert values == {
        "participant": str(participant.pk),
        "method": "ct",
        "lesion T1 (liver)": "30",
        "lesion T2 (lung)": "20",
        "lesion T3 (adrenal)": "10",
        "lesion NT1 (bone)": "present",
    }
    lesion = Lesion.objects.get(baseline=baseline, target=True, number=1)
    result = LesionResult.objects.get(lesion=lesion)
    assert owner_of(lesion) == owner_of(result) == (RECORD_TYPES["assessment"], baseline.pk)
    assert participant_id_of(lesion) == participant_id_of(result) == participant.pk


def test_where_a_record_belongs(ae, participant, sh01, coordinator):
    assert (type_of(ae).code, participant_id_of(ae), site_id_of(ae)) == ("ae", participant.pk, sh01.pk)
    assert (participant_id_of(participant), site_id_of(participant)) == (participant.pk, sh01.pk)
    assert participant_id_of(participant.screening) == participant.pk
    failed = make_screening(site=sh01, user=coordinator, ecog=4, inc3=False)
    assert (participant_id_of(failed), site_id_of(failed)) == (None, sh01.pk)
    assert owner_of(sh01) is None and participant_id_of(sh01) is None


def test_every_queryable_and_key_field_is_a_field_of_its_model():
    for record_type in RECORD_TYPES.values():
        names = {f.name for f in record_type.model._meta.get_fields()}
        assert set(record_type.fields) <= names, record_type.code
        assert set(record_type.key_fields) <= set(record_type.fields), record_type.code
        assert all(str(record_type.field_label(f)) for f in record_type.fields)
