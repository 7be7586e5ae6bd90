"""SPEC §9: edits need a reason; history keeps who, when, old and new; stale edits are refused."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from scr_escc.audit import StaleEdit, history_entries
from scr_escc.models import Study
from scr_escc.services import SCHEDULE_FIELDS, update_study_settings


def _settings_post(study, **changes):
    data = {
        "run_in_min": study.run_in_min,
        "run_in_max": study.run_in_max,
        "stopping_threshold": study.stopping_threshold,
        "safety_contact_emails": study.safety_contact_emails,
        "two_factor_required": "on",
        **{f: getattr(study, f) for f in SCHEDULE_FIELDS},
        "default_language": study.default_language,
        "version": study.version,
        "reason_for_change": "",
    }
    data.update(changes)
    return data


def test_edit_without_reason_is_refused_on_the_page(login, admin_user, study):
    response = login(admin_user).post(reverse("study-settings"), _settings_post(study, run_in_max=24))
    assert response.status_code == 200
    assert "reason_for_change" in response.context["form"].errors
    assert Study.objects.get().run_in_max == 25
    assert Study.history.count() == study.history.count()


def test_edit_with_reason_keeps_history_with_old_and_new_values(login, admin_user, study):
    before = study.history.count()
    response = login(admin_user).post(
        reverse("study-settings"),
        _settings_post(study, run_in_max=24, reason_for_change="Protocol amendment 2"),
    )
    assert response.status_code == 302
    assert Study.objects.get().run_in_max == 24
    assert study.history.count() == before + 1
    newest = history_entries(Study.objects.get())[0]
    assert newest.reason == "Protocol amendment 2"
    assert newest.user == admin_user.username
    assert [(c.field, c.old, c.new) for c in newest.changes] == [("run_in_max", 25, 24)]


def test_service_refuses_blank_reason(admin_user, study):
    history = study.history.count()
    with pytest.raises(ValidationError) as error:
        update_study_settings(user=admin_user, data={"run_in_max": 24}, reason="   ")
    assert "reason_for_change" in error.value.message_dict
    assert Study.objects.get().run_in_max == 25
    assert study.history.count() == history


def test_stale_edit_is_refused_not_overwritten(admin_user, study):
    update_study_settings(user=admin_user, data={"run_in_max": 24}, reason="first", expected_version=study.version)
    with pytest.raises(StaleEdit):
        update_study_settings(user=admin_user, data={"run_in_max": 23}, reason="second", expected_version=study.version)
    assert Study.objects.get().run_in_max == 24


def test_stale_edit_on_the_page_shows_a_message(login, admin_user, study):
    update_study_settings(user=admin_user, data={"stopping_threshold": 3}, reason="meanwhile")
    response = login(admin_user).post(
        reverse("study-settings"), _settings_post(study, run_in_max=24, reason_for_change="late edit")
    )
    assert response.status_code == 200
    assert "changed by someone else" in str(response.context["form"].non_field_errors())
    assert Study.objects.get().run_in_max == 25


def test_minimum_above_maximum_is_a_field_error(admin_user, study):
    with pytest.raises(ValidationError) as error:
        update_study_settings(user=admin_user, data={"run_in_min": 26}, reason="typo")
    assert "run_in_min" in error.value.message_dict
    assert Study.objects.values_list("run_in_min", "run_in_max").get() == (20, 25)


def test_bad_safety_email_is_a_field_error(login, admin_user, study):
    response = login(admin_user).post(
        reverse("study-settings"),
        _settings_post(study, safety_contact_emails="dsmb@x.org, not-an-email", reason_for_change="contacts"),
    )
    assert response.status_code == 200
    assert "safety_contact_emails" in response.context["form"].errors
    assert Study.objects.get().safety_contact_emails == study.safety_contact_emails


def test_history_page_lists_the_change(login, admin_user, monitor, study):
    update_study_settings(user=admin_user, data={"run_in_max": 24}, reason="Amendment 3")
    content = login(monitor).get(reverse("study-history")).content.decode()
    assert "Amendment 3" in content and "run_in_max" in content
