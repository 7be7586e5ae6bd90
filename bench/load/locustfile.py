"""The simulated people of the load benchmark (locust). Started by bench/load_bench.py, headless.

    SiteStaff        coordinators and investigators at their own site: screen a patient (API; one in
                     five fails a criterion), enroll and randomize an eligible one (API), record AEs
                     through the API and through the AE form (open the participant, the form, the
                     term picker, post, follow the redirect), read their site's lists.
    DashboardViewer  the PI (and the data manager) on the safety dashboard, whole study or one site,
                     and the AE list the dashboard links to.
    Monitor          read-only: the participants, screenings and AE list pages with sort, filter and
                     page parameters, a participant's page, and the list API.
    AEWriter         the write phase: one AE after another through the API (grades 1–4).

Every person signs in with what `bench.load.data prepare` made: a server-side session (second
factor already given for the PI and the data manager) with a CSRF cookie for the pages, and an
API token. Nobody types a password, so django-axes never counts a failure.

Each request is kept (start, name, ms, status, outcome) and written as JSON to SCR_LOAD_SAMPLES
when locust stops: load_bench.py computes the percentiles from these exact times. The outcome is
"ok" when the status is the one the step expects (200 for a page or list, 201 for an API
create, 302 after a form post), "refused" for a refusal the step declares expected, else "error".
"""

import json
import os
import random
import time
from http.cookiejar import Cookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

import gevent
from locust import FastHttpUser, between, constant, events, task
from locust.contrib.fasthttp import FastHttpSession

DATA = json.loads(Path(os.environ["SCR_LOAD_USERS"]).read_text())
THINK = tuple(float(x) for x in os.environ.get("SCR_LOAD_THINK", "1,5").split(","))
TODAY = DATA["today"]
SITE_PK = DATA["sites"]
COUNTS = DATA["counts"]
ATTRIBUTIONS = ("unrelated", "unlikely", "unlikely", "possible", "probable")
SAMPLES: list[list] = []
ERRORS: list[list] = []  # the first 50 errors: what went wrong


@events.request.add_listener
def _record(request_type, name, response_time, response, context, exception, start_time, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    if status in context.get("expect", ()):
        outcome = "ok"
        # A form post must land on the record, not on the sign-in page.
        if "location" in context and not (response.headers.get("Location") or "").startswith(context["location"]):
            outcome = "error"
    elif status in context.get("refusals", ()):
        outcome = "refused"
    else:
        outcome = "error"
    SAMPLES.append([round(start_time, 3), f"{request_type} {name}", round(response_time, 2), status, outcome])
    if outcome == "error" and len(ERRORS) < 50:
        body = (getattr(response, "text", None) or "")[:300] if status else ""
        ERRORS.append([round(start_time, 3), f"{request_type} {name}", status, repr(exception)[:300], body])


@events.quitting.add_listener
def _write_samples(environment, **kwargs):
    path = os.environ.get("SCR_LOAD_SAMPLES")
    if path:
        Path(path).write_text(json.dumps({"samples": SAMPLES, "errors": ERRORS}))


_taken: dict[str, int] = {}


def _take(pool_name: str, pool: list) -> dict:
    """The next credential of a pool: each simulated person gets their own."""
    n = _taken.get(pool_name, 0)
    _taken[pool_name] = n + 1
    return pool[n % len(pool)]


def _cookie(name: str, value: str, host: str) -> Cookie:
    return Cookie(0, name, value, None, False, host, False, False, "/", True, False, None, True, None, None, {})


def _page(n_rows: int, per_page: int) -> int:
    """Mostly the first pages, sometimes anywhere in the list."""
    last = max(1, -(-n_rows // per_page))
    return random.randint(1, min(3, last)) if random.random() < 0.7 else random.randint(1, last)


class Person(FastHttpUser):
    abstract = True
    wait_time = between(*THINK)
    pool = "staff"

    def on_start(self):
        self.creds = _take(self.pool, DATA[self.pool])
        host = urlparse(self.host).hostname
        self.client.cookiejar.set_cookie(_cookie("sessionid", self.creds["session"], host))
        self.client.cookiejar.set_cookie(_cookie("csrftoken", self.creds["csrf"], host))
        self.api_headers = {"Authorization": f"Token {self.creds['token']}"}
        # An API client holds a token, not the browser's cookies (a session would be loaded and saved too).
        self.api = FastHttpSession(
            base_url=self.host, request_event=self.environment.events.request, user=self, insecure=True
        )

    def think(self):
        gevent.sleep(random.uniform(*THINK))

    # --- requests, each with the status it expects -------------------------------------------

    def page(self, path: str, name: str, params: dict | None = None):
        url = f"{path}?{urlencode(params, doseq=True)}" if params else path
        return self.client.get(url, name=name, allow_redirects=False, context={"expect": (200,)})

    def post_form(self, path: str, name: str, form: dict, *, redirect_to: str):
        form = {**form, "csrfmiddlewaretoken": self.creds["csrf"]}
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"{self.host}{path}"}
        return self.client.post(
            path, name=name, data=urlencode(form, doseq=True), headers=headers, allow_redirects=False,
            context={"expect": (302,), "location": redirect_to},
        )  # fmt: skip

    def api_get(self, path: str, name: str, params: dict | None = None):
        url = f"{path}?{urlencode(params, doseq=True)}" if params else path
        return self.api.get(url, name=name, headers=self.api_headers, context={"expect": (200,)})

    def api_post(self, path: str, name: str, body: dict | None = None, refusals=()):
        return self.api.post(
            path, name=name, json=body or {}, headers=self.api_headers,
            context={"expect": (200, 201), "refusals": refusals},
        )  # fmt: skip

    # --- the pages a monitor, the PI and site staff read ---------------------------------------

    def participant_list(self, n_rows: int, site_pk: int | None = None):
        params = {"sort": random.choice(("subject_id", "-subject_id", "enrollment_date", "-enrollment_date", "status"))}
        if random.random() < 0.4:
            params.update(random.choice(({"cohort": "randomized"}, {"status": "on_study"}, {"arm": "A"})))
            n_rows //= 3
        if site_pk is None and random.random() < 0.3:
            params["site"] = random.choice(list(SITE_PK.values()))
            n_rows //= 3
        params["page"] = _page(n_rows, 25)
        self.page("/participants/", "/participants/", params)

    def screening_list(self, n_rows: int, site_pk: int | None = None):
        params = {"sort": random.choice(("-screening_date", "screening_number", "participant"))}
        if random.random() < 0.4:
            params.update(random.choice(({"eligible": "false"}, {"enrolled": "false"}, {"failed": "EXC6"})))
            n_rows //= 8
        elif random.random() < 0.2:
            params["q"] = random.choice(list(SITE_PK)) + "-S00"
            n_rows //= 3
        params["page"] = _page(n_rows, 25)
        self.page("/screenings/", "/screenings/", params)

    def ae_list(self, n_rows: int, site_pk: int | None = None):
        params = {"sort": random.choice(("-onset_date", "onset_date", "grade", "-grade", "subject", "term"))}
        if random.random() < 0.5:
            params.update(
                random.choice(
                    (
                        {"grade": ["3", "4", "5"], "treatment_related": "true"},
                        {"serious": "true", "voided": "false"},
                        {"grade": ["5"]},
                        {"treatment_related": "true"},
                    )
                )
            )
            n_rows //= 5
        if site_pk is None and random.random() < 0.3:
            params["site"] = random.choice(list(SITE_PK.values()))
            n_rows //= 3
        params["page"] = _page(n_rows, 50)
        self.page("/adverse-events/", "/adverse-events/", params)


def _ae_body(subject: list, *, grades=(1, 1, 2, 2, 3)) -> dict:
    """A valid AE for [subject_id, cohort, arm]: radiotherapy rated unless Arm B; a quarter of
    the Grade 3–4 AEs serious (an SAE: an alert row in the outbox, published to Redis)."""
    _subject_id, cohort, arm = subject
    grade = random.choice(grades)
    serious = grade >= 3 and random.random() < 0.25
    radiotherapy = cohort == "run_in" or arm != "B"
    return {
        "term": random.choice(DATA["terms"]),
        "grade": grade,
        "onset_date": TODAY,
        "end_date": None,
        "ongoing": True,
        "serious": serious,
        "seriousness_criteria": ["hospitalization"] if serious else [],
        "attribution": {
            "pd1": random.choice(ATTRIBUTIONS),
            "chemo": random.choice(ATTRIBUTIONS),
            "ldrt": random.choice(ATTRIBUTIONS) if radiotherapy else "not_applicable",
            "cfrt": random.choice(ATTRIBUTIONS) if radiotherapy else "not_applicable",
        },
        "action_taken": "none",
        "outcome": "not_recovered",
        "death_date": None,
    }


def _screening_body(site: str, *, fail: bool) -> dict:
    age = random.randint(45, 75)
    year, month, day = (int(x) for x in TODAY.split("-"))
    body = {
        "site": site,
        "initials": "".join(random.choice("ABCDEFGHJKLMNPQRSTWXYZ") for _ in range(3)),
        "date_of_birth": f"{year - age}-{month:02d}-{min(day, 28):02d}",
        "sex": random.choice(("male", "female")),
        "consent_date": TODAY,
        "screening_date": TODAY,
        "ecog": random.choice((0, 1)),
        "pgsga_score": random.randint(0, 8),
        "histology": "squamous",
        **{f"inc{i}": True for i in range(1, 6)},
        **{f"exc{i}": False for i in range(1, 13)},
    }
    if fail:
        body.update(pgsga_score=12, exc6=True)
    return body


class SiteStaff(Person):
    fixed_count = int(os.environ.get("SCR_LOAD_STAFF", "24"))
    pool = "staff"

    def on_start(self):
        super().on_start()
        self.site = self.creds["sites"][0]
        self.site_pk = SITE_PK[self.site]
        self.subjects = DATA["participants"][self.site]
        self.site_rows = {k: v // len(SITE_PK) for k, v in COUNTS.items()}

    @task(6)
    def record_ae_api(self):
        subject = random.choice(self.subjects)
        self.api_post(
            f"/api/v1/participants/{subject[0]}/adverse-events/",
            "/api/v1/participants/{subject_id}/adverse-events/",
            _ae_body(subject),
        )

    @task(3)
    def record_ae_page(self):
        subject = random.choice(self.subjects)
        detail = f"/participants/{subject[0]}/"
        self.page(detail, "/participants/{subject_id}/")
        self.think()
        form_url = f"/participants/{subject[0]}/adverse-events/new/"
        self.page(form_url, "/participants/{subject_id}/adverse-events/new/")
        body = _ae_body(subject)
        self.client.get(
            f"/adverse-events/terms/?{urlencode({'q': body['term'][:5]})}",
            name="/adverse-events/terms/?q=",
            context={"expect": (200,)},
        )
        self.think()
        attribution = body["attribution"]
        self.post_form(
            form_url,
            "/participants/{subject_id}/adverse-events/new/",
            {
                "ctcae_term": body["term"],
                "other_specify": "",
                "grade": body["grade"],
                "onset_date": TODAY,
                "end_date": "",
                "ongoing": "on",
                "serious": str(body["serious"]),
                "seriousness_criteria": body["seriousness_criteria"],
                **{f"attribution_{k}": v for k, v in attribution.items()},
                "action_taken": "none",
                "outcome": "not_recovered",
                "death_date": "",
            },
            redirect_to=detail,
        )
        self.page(detail, "/participants/{subject_id}/")

    @task(2)
    def screen_enroll_randomize(self):
        fail = random.random() < 0.2
        response = self.api_post("/api/v1/screenings/", "/api/v1/screenings/", _screening_body(self.site, fail=fail))
        if response.status_code != 201 or fail:
            return
        self.think()
        screening = response.json()["id"]
        response = self.api_post(f"/api/v1/screenings/{screening}/enroll/", "/api/v1/screenings/{id}/enroll/")
        if response.status_code != 201:
            return
        subject_id = response.json()["subject_id"]
        self.think()
        response = self.api_post(
            f"/api/v1/participants/{subject_id}/randomize/",
            "/api/v1/participants/{subject_id}/randomize/",
            refusals=(409,),  # e.g. a stratum exhausted: a clear refusal, not a failure
        )
        if response.status_code == 201:
            self.subjects = [*self.subjects, [subject_id, "randomized", response.json()["arm"]]]

    @task(3)
    def read_site_lists(self):
        choice = random.random()
        if choice < 0.4:
            self.participant_list(self.site_rows["participants"], self.site_pk)
        elif choice < 0.7:
            self.ae_list(self.site_rows["adverse_events"], self.site_pk)
        else:
            self.screening_list(self.site_rows["screenings"], self.site_pk)

    @task(1)
    def participant_aes_api(self):
        subject = random.choice(self.subjects)
        self.api_get(
            f"/api/v1/participants/{subject[0]}/adverse-events/", "/api/v1/participants/{subject_id}/adverse-events/"
        )


class DashboardViewer(Person):
    fixed_count = int(os.environ.get("SCR_LOAD_DASHBOARD", "6"))
    pool = "dashboard"

    @task(5)
    def dashboard(self):
        self.page("/dashboard/", "/dashboard/")

    @task(2)
    def dashboard_site(self):
        self.page("/dashboard/", "/dashboard/?site=", {"site": random.choice(list(SITE_PK))})

    @task(1)
    def related_aes(self):
        self.page("/adverse-events/", "/adverse-events/", {"grade": ["3", "4", "5"], "treatment_related": "true"})


class Monitor(Person):
    fixed_count = int(os.environ.get("SCR_LOAD_MONITORS", "20"))
    pool = "monitor"

    @task(3)
    def participants_page(self):
        self.participant_list(COUNTS["participants"])

    @task(2)
    def screenings_page(self):
        self.screening_list(COUNTS["screenings"])

    @task(3)
    def aes_page(self):
        self.ae_list(COUNTS["adverse_events"])

    @task(1)
    def participant_page(self):
        site = random.choice(list(SITE_PK))
        subject = random.choice(DATA["participants"][site])
        self.page(f"/participants/{subject[0]}/", "/participants/{subject_id}/")

    @task(2)
    def participants_api(self):
        params = {"page": random.randint(1, COUNTS["participants"] // 50)}
        if random.random() < 0.5:
            params = {"site": random.choice(list(SITE_PK)), "page": random.randint(1, 10)}
        self.api_get("/api/v1/participants/", "/api/v1/participants/", params)

    @task(1)
    def screenings_api(self):
        params = {"eligible": random.choice(("true", "false")), "page": 1}
        if random.random() < 0.5:
            params = {"page": random.randint(1, COUNTS["screenings"] // 50)}
        self.api_get("/api/v1/screenings/", "/api/v1/screenings/", params)

    @task(1)
    def participant_aes_api(self):
        site = random.choice(list(SITE_PK))
        subject = random.choice(DATA["participants"][site])
        self.api_get(
            f"/api/v1/participants/{subject[0]}/adverse-events/", "/api/v1/participants/{subject_id}/adverse-events/"
        )


class SoloReader(Monitor, DashboardViewer):
    """One person alone on the server (the PI): the dashboard's and the monitor's steps, one
    after another with 0.2 s between clicks — each page's own speed."""

    fixed_count = 1
    pool = "dashboard"
    wait_time = constant(0.2)


def _interleaved_staff() -> list:
    """Site staff taken in turn from each site, so 16 writers are spread over the 3 sites."""
    by_site: dict[str, list] = {}
    for creds in DATA["staff"]:
        by_site.setdefault(creds["sites"][0], []).append(creds)
    rounds = max(len(v) for v in by_site.values())
    return [people[n] for n in range(rounds) for people in by_site.values() if n < len(people)]


DATA["writers"] = _interleaved_staff()


PACING = float(os.environ.get("SCR_LOAD_WRITER_PACING", "0.3"))


class AEWriter(Person):
    """One AE after another through the API: a new one SCR_LOAD_WRITER_PACING seconds (default
    0.3 s: 200 a minute, under the API's 240 writes a minute per user) after the previous one
    started, or as soon as it is answered if that takes longer. Each interval is drawn from
    0.5–1.5 × the pacing and each writer starts at a random moment: writers paced in step would
    all post in the same instant, a burst no group of people makes."""

    fixed_count = int(os.environ.get("SCR_LOAD_WRITERS", "16"))
    pool = "writers"

    def wait_time(self):
        interval = PACING * random.uniform(0.5, 1.5)
        return max(0.0, interval - (time.monotonic() - self.started))

    def on_start(self):
        super().on_start()
        self.subjects = DATA["participants"][self.creds["sites"][0]]
        gevent.sleep(random.uniform(0, PACING))

    @task
    def record_ae(self):
        self.started = time.monotonic()
        subject = random.choice(self.subjects)
        self.api_post(
            f"/api/v1/participants/{subject[0]}/adverse-events/",
            "/api/v1/participants/{subject_id}/adverse-events/",
            _ae_body(subject, grades=(1, 2, 3, 4)),
        )
