"""The simulated users of the deadline rush (run by ``bench/deadline_rush.py``, which sets the environment).

Each simulated user signs in with its own account (``RUSH_DATA``: the accounts, solutions and the
payable pool the driver seeded) and acts through the pages, CSRF tokens included:

* SMEs browse (home, catalogue, their applications) and apply: the form, a draft, the submission;
* programme officers open the review queue (newest first) and approve (sometimes return or reject)
  what is waiting;
* finance officers open the payment queue, prepare the payable trial advances and approve what
  another finance officer prepared, re-entering the password (kept under the per-account limit of
  10 a minute);
* auditors read the audit trail, the review queue, applications and disbursements.

Every request's time and status is recorded (``samples.json``), every 5xx body too (``errors.json``).
A 4xx the rules give (a cap or the budget refusing: 422; two officers on one item: 409) is counted,
not failed.
"""
from __future__ import annotations

import collections
import itertools
import json
import os
import random
import re
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from locust import HttpUser, between, events, task

DATA = json.loads(Path(os.environ["RUSH_DATA"]).read_text())
OUT = Path(os.environ["RUSH_OUT"])
COUNTS = json.loads(os.environ["RUSH_COUNTS"])
WAIT = tuple(float(x) for x in os.environ.get("RUSH_WAIT", "2,6").split(","))
PASSWORD = DATA["password"]
SOLUTIONS = DATA["solutions"]
TODAY = date.fromisoformat(DATA["today"])
REQUIRED = DATA.get("required_materials", [])
MATERIAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
                b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

SAMPLES: dict[str, list] = collections.defaultdict(list)
ERRORS: list[dict] = []
ACCOUNTS = {role: itertools.count() for role in COUNTS}
PAYABLES = collections.deque(DATA["payables"])  # shared by the finance officers of this process
PREPARED: collections.deque = collections.deque()  # (disbursement id, preparer's e-mail)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
APP_LINK = re.compile(r'href="/applications/(\d+)"')
DISBURSEMENT = re.compile(r"/payments/disbursements/(\d+)")


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None, **_kw):
    status = getattr(response, "status_code", 0) or 0
    cpu = response.headers.get("X-Rush-Cpu-Ms") if response is not None and response.headers else None
    SAMPLES[name].append((round(response_time, 1), status, float(cpu) if cpu else None))
    if status >= 500 or status == 0:
        body = response.text[:4000] if response is not None and response.text else repr(exception)
        ERRORS.append({"name": name, "status": status, "body": body})


@events.quitting.add_listener
def _dump(environment, **_kw):
    (OUT / "samples.json").write_text(json.dumps(SAMPLES))
    (OUT / "errors.json").write_text(json.dumps(ERRORS))


class RushUser(HttpUser):
    abstract = True
    role = ""
    wait_time = between(*WAIT)

    def on_start(self):
        accounts = DATA["users"][self.role]
        self.email = accounts[next(ACCOUNTS[self.role]) % len(accounts)]
        self.token = ""
        self.login()

    # --- helpers --------------------------------------------------------------------------------
    def req(self, method: str, path: str, name: str, ok=(200,), **kw):
        """A request named for the table; statuses outside ``ok`` and below 500 are counted, not failures."""
        kw.setdefault("allow_redirects", False)
        with self.client.request(method, path, name=name, catch_response=True, **kw) as r:
            if r.status_code >= 500 or r.status_code == 0:
                r.failure(f"{r.status_code}")
            else:
                r.success()
            match = CSRF.search(r.text or "")
            if match:
                self.token = match.group(1)
            return r

    def post(self, path: str, name: str, data: dict, prefix: str = ""):
        data = dict(data)
        data[f"{prefix}csrf_token"] = self.token
        return self.req("POST", path, name, data=data)

    def login(self):
        self.req("GET", "/login", "GET /login")
        r = self.post("/login", "POST /login", {"email": self.email, "password": PASSWORD})
        if r.status_code != 302:
            raise RuntimeError(f"login of {self.email} answered {r.status_code}")
        self.req("GET", "/", f"GET / ({self.role} start page)")

    def home(self):
        self.req("GET", "/", f"GET / ({self.role} start page)")


class SME(RushUser):
    role = "sme"
    fixed_count = COUNTS["sme"]

    @task(2)
    def start_page(self):
        self.home()

    @task(3)
    def catalogue(self):
        page = random.randint(1, 5)
        self.req("GET", f"/catalogue/?page={page}", "GET /catalogue/")

    @task(2)
    def my_applications(self):
        self.req("GET", "/applications/mine", "GET /applications/mine")

    @task(4)
    def apply(self):
        solution = random.choice(SOLUTIONS)
        price = Decimal(solution["trial_price"])
        amount = min(price, Decimal(random.randint(2, 12) * 5000))
        form = self.req("GET", f"/applications/new?solution_id={solution['id']}", "GET /applications/new (form)")
        if form.status_code != 200:
            return
        m = re.search(r'name="token" type="hidden" value="([^"]+)"', form.text) or \
            re.search(r'name="token"[^>]*value="([^"]+)"', form.text)
        programme = re.search(r'<option[^>]*value="(\d+)"', form.text)
        data = {"token": m.group(1) if m else os.urandom(12).hex(), "solution_id": solution["id"],
                "programme_id": programme.group(1) if programme else DATA["programme_id"],
                "requested_amount": str(amount), "need_statement": "订单排产混乱，需要数字化车间管理。",
                "contract_date": (TODAY + timedelta(days=3)).isoformat(),
                "trial_start_date": (TODAY + timedelta(days=10)).isoformat(),
                "baseline_production_efficiency": "40.00", "baseline_defect_rate": "3.50"}
        r = self.post(f"/applications/new?solution_id={solution['id']}", "POST /applications/new (draft)", data)
        if r.status_code != 303:
            return
        app_id = r.headers["Location"].rstrip("/").rsplit("/", 1)[1]
        self.req("GET", f"/applications/{app_id}", "GET /applications/<id>")
        # The required materials, one PDF each, in one upload (the checklist's form on the application's page).
        files = [(f"material_{code}", (f"{code}.pdf", MATERIAL_PDF, "application/pdf")) for code in REQUIRED]
        if files:
            r = self.req("POST", f"/applications/{app_id}/attachments", "POST /applications/<id>/attachments",
                         data={"upload-csrf_token": self.token}, files=files)
            if r.status_code != 303:
                return
        r = self.post(f"/applications/{app_id}/submit", "POST /applications/<id>/submit", {"submit-confirm": "y"},
                      prefix="submit-")
        if r.status_code == 303:
            self.req("GET", f"/applications/{app_id}", "GET /applications/<id>")


class Officer(RushUser):
    role = "officer"
    fixed_count = COUNTS["officer"]

    @task(1)
    def start_page(self):
        self.home()

    @task(6)
    def review(self):
        page = 1 if random.random() < 0.7 else 2
        queue = self.req("GET", f"/applications/review?page={page}", "GET /applications/review")
        ids = APP_LINK.findall(queue.text or "")
        if not ids:
            return
        app_id = random.choice(ids)
        detail = self.req("GET", f"/applications/{app_id}", "GET /applications/<id>")
        if "/approve" not in (detail.text or ""):
            return  # already decided by another officer
        roll = random.random()
        if roll < 0.85:
            self.post(f"/applications/{app_id}/approve", "POST /applications/<id>/approve",
                      {"approve-comment": "材料齐全，同意。"}, prefix="approve-")
        elif roll < 0.95:
            self.post(f"/applications/{app_id}/return", "POST /applications/<id>/return",
                      {"return-reason": "请补充基线数据。"}, prefix="return-")
        else:
            self.post(f"/applications/{app_id}/reject", "POST /applications/<id>/reject",
                      {"reject-reason": "不符合试点行业。"}, prefix="reject-")


class Finance(RushUser):
    role = "finance"
    fixed_count = COUNTS["finance"]
    APPROVALS_PER_MINUTE = 8  # the per-account re-authentication limit is 10 a minute

    def on_start(self):
        super().on_start()
        self.approvals: collections.deque = collections.deque()

    @task(1)
    def start_page(self):
        self.home()

    @task(2)
    def payment_queue(self):
        self.req("GET", f"/payments/queue?show=payable&page={random.randint(1, 3)}", "GET /payments/queue")

    @task(3)
    def prepare(self):
        if not PAYABLES:
            return
        item = PAYABLES.popleft()
        query = f"source_type={item['source_type']}&source_id={item['source_id']}&milestone={item['milestone']}"
        page = self.req("GET", f"/payments/prepare?{query}", "GET /payments/prepare")
        if page.status_code != 200:
            return
        r = self.post("/payments/prepare", "POST /payments/prepare", dict(item))
        location = r.headers.get("Location", "")
        m = DISBURSEMENT.search(location)
        if r.status_code in (302, 303) and m:
            PREPARED.append((int(m.group(1)), self.email))
            self.req("GET", location, "GET /payments/disbursements/<id>")

    @task(3)
    def approve(self):
        now = time.monotonic()
        while self.approvals and now - self.approvals[0] > 60:
            self.approvals.popleft()
        if len(self.approvals) >= self.APPROVALS_PER_MINUTE:
            return
        mine = [p for p in PREPARED if p[1] != self.email]
        if not mine:
            return
        disbursement_id, preparer = mine[0]
        PREPARED.remove((disbursement_id, preparer))
        path = f"/payments/disbursements/{disbursement_id}/decide"
        self.req("GET", path, "GET /payments/disbursements/<id>/decide")
        self.approvals.append(now)
        self.post(path, "POST /payments/disbursements/<id>/decide (approve)",
                  {"decision": "approve", "password": PASSWORD})


class Auditor(RushUser):
    role = "auditor"
    fixed_count = COUNTS["auditor"]

    @task(1)
    def start_page(self):
        self.home()

    @task(2)
    def audit_trail(self):
        self.req("GET", f"/audit/?page={random.randint(1, 3)}", "GET /audit/")

    @task(2)
    def applications(self):
        queue = self.req("GET", "/applications/review?status=approved", "GET /applications/review")
        ids = APP_LINK.findall(queue.text or "")
        if ids:
            self.req("GET", f"/applications/{random.choice(ids)}", "GET /applications/<id>")

    @task(1)
    def disbursements(self):
        self.req("GET", "/payments/disbursements", "GET /payments/disbursements")
