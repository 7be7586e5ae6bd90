"""Each user reads the pages in their own language (a field on the user), else the study's default;
the switcher remembers the choice; the Chinese catalog is complete and compiles."""

from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

from scr_escc.models import Study, User

pytestmark = pytest.mark.django_db
CATALOG = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_the_switcher_remembers_the_language_on_the_user_with_a_history_row(coordinator, login):
    client = login(coordinator)
    response = client.post("/accounts/language/", {"language": "zh-hans", "next": "/screenings/"})
    assert (response.status_code, response["Location"]) == (302, "/screenings/")
    assert User.objects.get(pk=coordinator.pk).language == "zh-hans"
    assert coordinator.history.order_by("-history_id").first().history_change_reason == "Language changed"
    page = client.get("/screenings/")
    assert page.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page.content.decode()


def test_an_unknown_language_is_refused_and_nothing_changes(coordinator, login):
    response = login(coordinator).post("/accounts/language/", {"language": "fr"})
    assert response.status_code == 400
    assert User.objects.get(pk=coordinator.pk).language == ""


def test_a_switch_never_redirects_to_another_host(coordinator, login):
    response = login(coordinator).post("/accounts/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_without_a_choice_the_studys_default_language_applies(coordinator, login, study):
    Study.objects.filter(pk=1).update(default_language="zh-hans")
    assert login(coordinator).get("/").headers["Content-Language"] == "zh-hans"
    User.objects.filter(pk=coordinator.pk).update(language="en")
    assert login(coordinator).get("/").headers["Content-Language"] == "en"


def test_before_sign_in_the_cookie_chooses_the_language(client):
    client.post("/accounts/language/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert client.get("/accounts/login/").headers["Content-Language"] == "zh-hans"


def test_the_catalog_has_no_untranslated_or_fuzzy_message():
    with CATALOG.open("rb") as source:
        catalog = read_po(source)
    missing = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str) else m.string[0])]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert (missing, fuzzy) == ([], [])


def test_the_preferences_page_sets_language_and_time_zone_with_history(coordinator, login):
    client = login(coordinator)
    response = client.post("/accounts/preferences/", {"language": "zh-hans", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    stored = User.objects.get(pk=coordinator.pk)
    assert (stored.language, stored.time_zone) == ("zh-hans", "Asia/Tokyo")
    assert stored.history.order_by("-history_id").first().history_change_reason == "Preferences changed"
    assert "Asia/Tokyo" in client.get("/").content.decode()  # the footer names the zone times are shown in


def test_an_unknown_time_zone_is_a_field_error_and_nothing_changes(coordinator, login):
    response = login(coordinator).post("/accounts/preferences/", {"language": "", "time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "time_zone" in response.context["form"].errors
    assert User.objects.get(pk=coordinator.pk).time_zone == ""


def test_times_are_shown_in_the_users_time_zone(coordinator, login, study):
    from django.utils import timezone

    from scr_escc.middleware import UserLanguageMiddleware

    User.objects.filter(pk=coordinator.pk).update(time_zone="Europe/London")
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return None

    request = type("Request", (), {"user": User.objects.get(pk=coordinator.pk)})()
    UserLanguageMiddleware(view)(request)
    assert seen["zone"] == "Europe/London"


def test_an_e_signature_stores_the_meaning_in_the_language_the_signer_read(pi, password, study):
    from django.utils import translation

    from scr_escc.models import ESignature
    from scr_escc.signatures import record_signature

    with translation.override("zh-hans"):
        signature = record_signature(user=pi, action=ESignature.Action.SIGN_AE_ATTRIBUTION, content={"ae": 1})
    assert signature.meaning == "本人确认该不良事件与各干预措施的相关性"
