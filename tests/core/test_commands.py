"""SPEC §11 commands."""

import pytest
from django.core.management import CommandError, call_command

from scr_escc.models import Site, User


def test_create_site(db):
    call_command("create_site", "SH03", "Third hospital")
    assert Site.objects.get(code="SH03").name == "Third hospital"


def test_create_site_refuses_bad_code(db):
    with pytest.raises(CommandError, match="code"):
        call_command("create_site", "sh-3", "Bad")
    assert not Site.objects.exists()


def test_create_user_takes_password_from_environment(db, monkeypatch, sh01):
    monkeypatch.setenv("SCR_USER_PASSWORD", "Long-Enough-Pass-7")
    call_command("create_user", "wang", "--role", "coordinator", "--site", "SH01", "--email", "wang@example.org")
    user = User.objects.get(username="wang")
    assert user.role == "coordinator"
    assert user.site_codes == ["SH01"]
    assert user.check_password("Long-Enough-Pass-7")
    assert user.email == "wang@example.org"


def test_create_user_refuses_site_staff_without_site(db, monkeypatch):
    monkeypatch.setenv("SCR_USER_PASSWORD", "Long-Enough-Pass-7")
    with pytest.raises(CommandError, match="at least one site"):
        call_command("create_user", "li", "--role", "investigator")
    assert not User.objects.filter(username="li").exists()


def test_create_user_refuses_unknown_site(db, monkeypatch):
    monkeypatch.setenv("SCR_USER_PASSWORD", "Long-Enough-Pass-7")
    with pytest.raises(CommandError, match="No site ZZ99"):
        call_command("create_user", "li", "--role", "coordinator", "--site", "ZZ99")
    assert not User.objects.filter(username="li").exists()


def test_create_user_refuses_weak_password(db, monkeypatch):
    monkeypatch.setenv("SCR_USER_PASSWORD", "abc")
    with pytest.raises(CommandError, match="password"):
        call_command("create_user", "li", "--role", "monitor")
    assert not User.objects.filter(username="li").exists()


def test_seed_demo_is_safe_to_run_twice(db, capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "coordinator" in out and "Demo-Escc-2026" in out
    assert sorted(Site.objects.values_list("code", flat=True)) == ["SH01", "SH02"]
    roles = {u.role for u in User.objects.all()}
    assert roles == {"coordinator", "investigator", "pi", "monitor", "admin"}
    from efficacy.models import SystemicDose, TumourAssessment
    from efficacy.worklist import worklist_for
    from enrollment.models import Participant, Screening

    assert Screening.objects.count() == 5
    assert Participant.objects.count() == 4
    assert SystemicDose.objects.count() == 3 and TumourAssessment.objects.count() == 1
    # The demo coordinator's worklist has SH01-003's week-6 scan overdue (enrolled 52 days ago).
    overdue = [
        d.participant.subject_id
        for d in worklist_for(User.objects.get(username="coordinator")).assessments
        if d.overdue
    ]
    assert overdue == ["SH01-003"]
