"""Builders for the payment tests: a programme, grants taken through the real services (trial
applications to kick-off and evaluation, loan discounts and robot subsidies to approval), the public
notice published in the past so its period has ended, and finance officers."""
from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import AFTERS, BASELINES, attach_required_materials, build_org, fresh_user
from voucher.applications import services as applications
from voucher.applications.services import Content
from voucher.calc import InterestPeriod, RobotLine, loan_discount, robot_subsidy
from voucher.catalogue.models import Solution
from voucher.db import utcnow
from voucher.extensions import db
from voucher.payments import services
from voucher.programmes.models import Programme
from voucher.subsidies import services as subsidies
from voucher.subsidies.models import LoanApplication, RobotApplication
from voucher.trials import services as trials
from voucher.trials.models import CRITERIA, MILESTONE_KINDS

D = Decimal
class World:
    """One programme and the people who act on it; grants made through the real services."""

    def __init__(self, budget="50000000.00", **programme_fields):
        today = applications.local_today()
        self.programme = Programme(name=programme_fields.pop("name", f"数字化转型试点 {secrets.token_hex(3)}"),
                                   year=today.year, budget=D(budget), opens_on=today - timedelta(days=60),
                                   closes_on=today + timedelta(days=60), pilot_industries=["pumps_valves"],
                                   **programme_fields)
        db.session.add(self.programme)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(self.programme)  # version 1, as create_programme makes it
        db.session.flush()
        self.officer = fresh_user("officer")
        self.finance_a = fresh_user("finance")
        self.finance_b = fresh_user("finance")
        self.provider_org = build_org("provider", name=f"瓯海数字服务有限公司 {secrets.token_hex(2)}")
        self.provider = fresh_user("provider", self.provider_org)
        self.solution = Solution(provider_id=self.provider_org.id, title=f"MES {secrets.token_hex(3)}", category="mes",
                                 target_industries=["pumps_valves"], description="Digital workshop",
                                 list_price=D("500000.00"), trial_price=D("250000.00"), trial_period_days=90,
                                 status="listed")
        db.session.add(self.solution)
        db.session.flush()
        self.smes = {}

    # --- trial vouchers ------------------------------------------------------------------------
    def trial(self, amount="200000.00", enterprise=None):
        """An approved trial-voucher application (its trial is open)."""
        org = enterprise or build_org("enterprise", name=f"温州泵阀有限公司 {secrets.token_hex(2)}")
        sme = fresh_user("sme", org)
        today = applications.local_today()
        content = Content(requested_amount=D(amount), need_statement="Orders get lost.",
                          contract_date=today + timedelta(days=1), trial_start_date=today + timedelta(days=2),
                          baselines=dict(BASELINES))
        app, _ = applications.create_application(sme.actor(), token=secrets.token_urlsafe(24),
                                                 programme_id=self.programme.id, solution_id=self.solution.id,
                                                 content=content)
        attach_required_materials(app)
        applications.submit(sme.actor(), app.id)
        applications.approve(self.officer.actor(), app.id)
        trial = trials.trial_for_application(app.id)
        self.smes[trial.id] = sme
        return trial

    def kick_off(self, trial):
        trials.report_milestone(self.provider.actor(), trial.id, "kickoff", "Started.")
        trials.confirm_milestone(self.smes[trial.id].actor(), trial.id, "kickoff")
        return trial

    def complete(self, trial):
        for kind in MILESTONE_KINDS:
            if kind == "kickoff" and trial.status != "open":
                continue
            trials.report_milestone(self.provider.actor(), trial.id, kind, "Done.")
            trials.confirm_milestone(self.smes[trial.id].actor(), trial.id, kind,
                                     early_reason="Finished ahead of plan." if kind == "final_report" else None)
        return trial

    def accept(self, trial, *parties):
        """The enterprise and/or the provider accept the delivered scope (every checklist item ticked)."""
        for party in parties or ("sme", "provider"):
            actor = self.smes[trial.id].actor() if party == "sme" else self.provider.actor()
            codes = frozenset(i.code for i in trials.acceptance_checklist(trial))
            trials.record_acceptance(actor, trial.id, trials.AcceptanceInput("Delivered as applied.", codes))
        return trial

    def evaluate(self, trial, score: str):
        evaluator = fresh_user("evaluator")
        trials.assign_evaluator(self.officer.actor(), trial.id, evaluator.id)
        trials.declare_no_conflict(evaluator.actor(), trial.id, True)
        trials.submit_evaluation(evaluator.actor(), trial.id, trials.EvaluationInput(
            afters=dict(AFTERS), scores={c: D(score) for c in CRITERIA}, comments="Evaluated on site.",
            recommendation="continue" if D(score) >= 60 else "not_recommended", correction_reason=None))
        return trial

    # --- loan discount and robot subsidy --------------------------------------------------------
    def loan(self, enterprise=None):
        """The worked example approved: 8,000,000 over 90 days at 2% → 40,000.00 reserved."""
        org = enterprise or build_org("enterprise", name=f"鹿城鞋革有限公司 {secrets.token_hex(2)}")
        loan_params, _robot = subsidies.params_for(self.programme)
        period = InterestPeriod(date(2026, 1, 1), date(2026, 4, 1), D("8000000.00"), D("48000.00"))
        result = loan_discount(D("3.00"), D("2.40"), [period], loan_params)
        app = LoanApplication(programme_id=self.programme.id, enterprise_id=org.id, status="submitted",
                              bank_name="温州银行", contract_no=f"WZ-{secrets.token_hex(3)}", contract_date=date(2025, 12, 15),
                              principal=D("8000000.00"), loan_rate=D("2.40"), term_start=date(2025, 12, 20),
                              term_end=date(2027, 12, 19), benchmark_rate=D("3.00"),
                              benchmark_effective_from=date(2025, 5, 20), rate_ceiling=str(result.rate_ceiling),
                              computed_discount=result.total_discount, working=subsidies.working_json(result.working),
                              params=subsidies.loan_params_json(loan_params), submitted_at=utcnow())
        db.session.add(app)
        db.session.flush()
        subsidies.act(self.officer.actor(), "loan", app.id, "approve")
        return app

    def robot(self, enterprise=None):
        """The worked example approved: 2 domestic robots at 150,000 (pilot industry) + 1 imported at
        400,000 → 100,000.00 reserved."""
        org = enterprise or build_org("enterprise", name=f"龙湾机器人应用有限公司 {secrets.token_hex(2)}",
                                      industry="pumps_valves")
        _loan, robot_params = subsidies.params_for(self.programme)
        lines = [RobotLine("ER20", "埃斯顿", True, 2, D("150000.00"), f"INV-{secrets.token_hex(4)}", date(2026, 3, 1)),
                 RobotLine("KR16", "KUKA", False, 1, D("400000.00"), f"INV-{secrets.token_hex(4)}", date(2026, 3, 2))]
        result = robot_subsidy(lines, True, D("0"), robot_params)
        app = RobotApplication(programme_id=self.programme.id, enterprise_id=org.id, status="submitted",
                               pilot_industry=True, industry="pumps_valves", already_granted=D("0.00"),
                               uncapped_total=result.uncapped_total, computed_subsidy=result.total_subsidy,
                               cap_applied=result.cap_applied, working=subsidies.working_json(result.working),
                               params=subsidies.robot_params_json(robot_params))
        db.session.add(app)
        db.session.flush()
        subsidies.act(self.officer.actor(), "robot", app.id, "approve")
        return app

    # --- notice, preparation, approval ----------------------------------------------------------
    def announce(self, on: date = date(2026, 10, 20)):
        """Publish the programme's notice as of ``on`` (by default a day whose period has long ended)."""
        return services.publish_notice(self.officer.actor(), self.programme.id, today=on)

    def prepare(self, source_type, source_id, milestone, who=None):
        return services.prepare((who or self.finance_a).actor(), source_type, source_id, milestone)

    def approve(self, d, who=None):
        who = who or self.finance_b
        return services.approve(who.actor(), d.id, who.plain_password)

    def approved(self, source_type, source_id, milestone):
        d = self.prepare(source_type, source_id, milestone)
        return self.approve(d)

    def batch(self, *ds, who=None):
        return services.create_batch((who or self.finance_a).actor(), self.programme.id, [d.id for d in ds])

    def pay(self, d, ref=None, who=None):
        return services.record_result((who or self.finance_a).actor(), d.id, "paid",
                                      bank_reference=ref or f"BANK-{secrets.token_hex(4)}")

    def fail(self, d, reason="Account closed", who=None):
        return services.record_result((who or self.finance_a).actor(), d.id, "failed", reason=reason)


# The day the tests run on (Asia/Shanghai): fixed, so notice periods never reach a year the
# working-day calendar does not know; the clock ticks on from there.
TEST_NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture()
def world(db_conn, app):
    with time_machine.travel(TEST_NOW, tick=True), app.test_request_context():
        yield World()


@pytest.fixture()
def login_as(client):
    """Log in as ``user`` (logging out whoever was logged in), pages in English unless ``lang`` says."""
    from tests.factories import do_login

    def _login(user, lang="en"):
        client.post("/logout")
        response = do_login(client, user, user.plain_password)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        client.post("/lang", data={"lang": lang, "next": "/"})
        return client

    return _login


class Jobs:
    """A real RQ queue on the test Redis and a burst SimpleWorker (jobs run in the app's context)."""

    def __init__(self, app):
        from voucher.documents.jobs import DOCUMENT_QUEUE
        from voucher.tasks import queue, redis_connection

        self.app = app
        self.conn = redis_connection()
        self.queue = queue(DOCUMENT_QUEUE, connection=self.conn)

    def clear(self) -> None:
        self.queue.empty()
        for registry in (self.queue.scheduled_job_registry, self.queue.failed_job_registry,
                         self.queue.finished_job_registry, self.queue.started_job_registry):
            for job_id in registry.get_job_ids():
                registry.remove(job_id, delete_job=True)

    def drain(self) -> None:
        from rq import SimpleWorker

        from voucher.tasks import AppJob

        db.session.remove()
        SimpleWorker([self.queue], connection=self.conn, job_class=AppJob).work(
            burst=True, with_scheduler=True, logging_level="WARNING")
        db.session.remove()


@pytest.fixture()
def jobs(committed_app):
    with committed_app.app_context():
        env = Jobs(committed_app)
        env.clear()
        try:
            yield env
        finally:
            env.clear()
            db.session.remove()
