"""Every role walks every page in Simplified Chinese: no English word is left outside a short
allow-list (codes, CTCAE terms, SDTM/ADaM names, user names, units). Screenshots of the screening
form, an AE form, the dashboard and the Efficacy page, with the Noto CJK fonts installed."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone, translation

from deviations.models import ProtocolDeviation
from deviations.services import record_deviation
from efficacy.models import Lesion, RadiotherapyCourse, TumourAssessment
from efficacy.treatment import record_course
from enrollment.models import Participant, Screening
from safety.models import AdverseEvent, CtcaeTerm
from scr_escc.models import Site, Study, User
from tests.factories import make_ae, make_participant, make_screening
from tests.reports.conftest import randomized_trial  # noqa: F401 - a fixture

SHOTS = Path("/tmp/chinese-walk-shots")
ALLOWED = {
    # Codes, abbreviations and proper names the same in both languages.
    "SCR", "ESCC", "NCT", "SAE", "AE", "AEs", "ECOG", "PG", "SGA", "CTCAE", "MedDRA", "RECIST", "CR", "PR", "SD",
    "PD", "NE", "NN", "HR", "CI", "PFS", "OS", "LDRT", "CFRT", "CRC", "PI", "SOC", "CSV", "API", "SVG", "UTC",
    "ISO", "SDTM", "ADaM", "ADTTE", "ICH", "E2A", "E3", "DSMB", "ID", "Kaplan", "Meier", "Cox", "Efron", "Gy", "mm",
    "mg", "AUC", "kg", "fx", "TOTP", "HMAC", "SHA", "Asia", "Shanghai", "English", "log", "rank", "lifelines",
    "Brookmeyer", "Crowley", "Freireich", "Gehan", "Part", "CFR", "ALCOA", "GCP", "Excel", "BOM", "UTF",
    "Google", "Microsoft", "Authenticator", "FreeOTP", "IVB", "M1", "IIb", "IIa", "vs", "Arm", "non", "nadir",
    "mL", "min",
}  # fmt: skip
# Code values of the exports, quoted in the data dictionary's Chinese text (exports keep English codes),
# the ISO 8601 pattern, and CTCAE's "Other, specify".
ALLOWED |= {"voided", "pending", "randomized", "run", "system", "changed", "DDThh", "ssZ", "Other", "specify"}
CODE = re.compile(r"^(?:[A-Z0-9]+(?:[-_][A-Z0-9]+)*|[A-Z][a-z]?\d+|[A-Za-z]\d+)$")  # SH01, INC3, AETERM, T1, C1


PATH = re.compile(r"\S*(?:/|\?|=|@|\.(?:csv|md|py)\b)\S*")  # URLs, paths, query strings, e-mail addresses
HASH = re.compile(r"^(?=.*\d)[A-Za-z0-9]{12,}$")  # fingerprints and seeds
# The page's text without what it marks as not to be translated (codes, variable names, values).
VISIBLE_TEXT = """() => { const body = document.body.cloneNode(true);
  body.querySelectorAll('[translate=no]').forEach((node) => node.remove());
  document.documentElement.appendChild(body); const text = body.innerText; body.remove(); return text; }"""


def _english_words(text: str, data_words: set[str]) -> set[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9]+", PATH.sub(" ", text)))
    return {w for w in words if w not in ALLOWED and w not in data_words and not CODE.match(w) and not HASH.match(w)}


def _data_words() -> set[str]:
    """Words that come from the data, not from the interface: user names, site names and the study
    title as registered, the CTCAE v5.0 terms and grade definitions of the AEs (the standard's
    language), and what the test's records typed in English (lesion organs, causes of death)."""
    texts = list(User.objects.values_list("username", flat=True))
    texts += list(Site.objects.values_list("name", flat=True)) + list(Study.objects.values_list("title", flat=True))
    ctcae = CtcaeTerm.objects.filter(pk__in=AdverseEvent.objects.values("ctcae_term"))
    for fields in ctcae.values_list("soc", "term", "grade_1", "grade_2", "grade_3", "grade_4", "grade_5", "definition"):
        texts += list(fields)
    texts += list(Lesion.objects.values_list("organ", flat=True)) + list(
        Lesion.objects.values_list("location", flat=True)
    )
    texts += list(TumourAssessment.objects.values_list("new_lesion_description", flat=True))
    texts += list(Participant.objects.values_list("death_cause", flat=True))
    return set(re.findall(r"[A-Za-z][A-Za-z0-9]+", " ".join(texts)))


@pytest.fixture
def chinese_trial(randomized_trial, sh01, coordinator, investigator, pi, monitor, admin_user):  # noqa: F811
    User.objects.update(language="zh-hans")
    with translation.override("zh-hans"):  # as Chinese users enter them: system reasons in Chinese
        return _chinese_records(sh01, coordinator)


def _chinese_records(sh01, coordinator):
    today = timezone.localdate()
    run_in = make_participant(site=sh01, user=coordinator, enrollment_date=today - timedelta(days=5))
    make_ae(participant=run_in, user=coordinator, term="Nausea", grade=2)
    make_screening(site=sh01, user=coordinator, inc3=False, ecog=2)
    record_deviation(
        data={"deviation_date": today, "category": "visit_schedule", "description": "第6周影像检查推迟"},
        user=coordinator,
        participant=run_in,
    )
    arm_a = Participant.objects.filter(arm="A").first()
    record_course(
        participant=arm_a,
        data={"modality": "cfrt", "start_date": today - timedelta(days=1), "end_date": None,
              "total_dose_gy": 50, "fractions": 25, "target_site": "食管原发灶"},
        user=coordinator,
    )  # fmt: skip
    return {"run_in": run_in, "arm_a": arm_a}


def _pages(trial) -> dict[str, list[str]]:
    sid = trial["run_in"].subject_id
    ae = AdverseEvent.objects.filter(participant=trial["run_in"]).first()
    assessment = TumourAssessment.objects.filter(baseline=False).first()
    course = RadiotherapyCourse.objects.first()
    arm_a = trial["arm_a"].subject_id
    common = ["/", "/screenings/", "/participants/", f"/participants/{sid}/", f"/participants/{arm_a}/",
              "/adverse-events/", f"/adverse-events/{ae.pk}/", f"/adverse-events/{ae.pk}/history/", "/deviations/",
              f"/assessments/{assessment.pk}/", f"/efficacy/radiotherapy/{course.pk}/",
              f"/screenings/{Screening.objects.order_by('pk').first().pk}/", "/exports/dictionary/",
              "/accounts/password/", "/accounts/two-factor/", "/accounts/preferences/", "/sites/", "/sites/SH01/",
              f"/participants/{sid}/history/", "/study/history/"]  # fmt: skip
    site_staff = ["/worklist/", "/screenings/new/", f"/participants/{sid}/adverse-events/new/",
                  f"/participants/{sid}/cycles/new/", f"/participants/{arm_a}/assessments/new/",
                  "/deviations/new/", f"/adverse-events/{ae.pk}/edit/", f"/participants/{sid}/baseline/new/",
                  f"/participants/{arm_a}/clinical-progression/new/", f"/efficacy/radiotherapy/{course.pk}/edit/",
                  f"/assessments/{assessment.pk}/edit/"]  # fmt: skip
    oversight = ["/dashboard/", "/efficacy/"]
    pi_pk = User.objects.get(username="pi").pk
    screening_pk = Screening.objects.order_by("pk").first().pk
    deviation_pk = ProtocolDeviation.objects.first().pk
    site_staff += [
        f"/screenings/{screening_pk}/edit/", f"/screenings/{screening_pk}/history/", f"/adverse-events/{ae.pk}/void/",
        f"/deviations/{deviation_pk}/", f"/deviations/{deviation_pk}/edit/", f"/participants/{sid}/withdraw/",
        f"/participants/{sid}/complete/", f"/efficacy/radiotherapy/{course.pk}/void/",
        f"/efficacy/radiotherapy/{course.pk}/history/", f"/assessments/{assessment.pk}/history/",
        f"/participants/{sid}/follow-up-contact/new/", f"/participants/{sid}/new-therapy/new/",
    ]  # fmt: skip
    return {
        "coord1": common + site_staff,
        "inv1": common + site_staff + [f"/participants/{sid}/death/", f"/adverse-events/{ae.pk}/sign/"],
        "pi": common + oversight + ["/alerts/", "/study/decisions/", "/randomization/"],
        "monitor": common + oversight,
        "datamanager": common
        + oversight
        + [
            "/alerts/",
            "/exports/",
            "/study/settings/",
            "/accounts/users/",
            "/accounts/users/new/",
            f"/accounts/users/{pi_pk}/",
            "/randomization/",
            "/study/decisions/",
        ],  # fmt: skip
    }


def test_every_role_reads_every_page_in_chinese(page, sign_in, live_server, password, chinese_trial):
    SHOTS.mkdir(exist_ok=True)
    data_words = _data_words()
    found: dict[str, set[str]] = {}
    for username, paths in _pages(chinese_trial).items():
        sign_in(username, password)
        for path in paths:
            page.goto(live_server.url + path)
            assert page.locator("html").get_attribute("lang") == "zh-hans", path
            words = _english_words(page.evaluate(VISIBLE_TEXT), data_words)
            if words:
                found[f"{username} {path}"] = words
            if (username, path) in {("coord1", "/screenings/new/"), ("pi", "/dashboard/"), ("pi", "/efficacy/")}:
                page.screenshot(path=str(SHOTS / f"{path.strip('/').replace('/', '_') or 'home'}.png"), full_page=True)
            if username == "coord1" and path.endswith("adverse-events/new/"):
                page.screenshot(path=str(SHOTS / "ae_form.png"), full_page=True)
        page.context.clear_cookies()
    (SHOTS / "english_words.txt").write_text("\n".join(f"{k}: {sorted(v)}" for k, v in sorted(found.items())))
    assert found == {}


def test_the_sign_in_page_is_in_chinese_once_chosen(page, live_server):
    page.goto(live_server.url + "/accounts/login/")
    page.click("[data-testid=language-switcher] button")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert _english_words(page.evaluate(VISIBLE_TEXT), set()) == set()
