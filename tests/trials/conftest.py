"""Builders for the trial tests: a programme, a listed solution with its provider user, and a
``flow`` that takes applications through the real services (file, submit, approve, milestones,
evaluators, evaluation forms), so every figure comes through the real data path."""
from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.factories import AFTERS, BASELINES, attach_required_materials, build_programme, build_solution  # noqa: F401 (tests import them from here)
from voucher.applications import services as applications
from voucher.applications.services import Content
from voucher.trials import services
from voucher.trials.models import CRITERIA, MILESTONE_KINDS, Trial

D = Decimal


def evaluation_input(score="80", afters=None, comments="Works well on the shop floor.", recommendation="continue",
                     correction_reason=None, scores=None) -> services.EvaluationInput:
    return services.EvaluationInput(afters=dict(AFTERS if afters is None else afters),
                                    scores=scores or {c: D(score) for c in CRITERIA}, comments=comments,
                                    recommendation=recommendation, correction_reason=correction_reason)


class Flow:
    def __init__(self, make_org, make_user, programme):
        self.make_org, self.make_user, self.programme = make_org, make_user, programme
        self.provider_org = make_org("provider")
        self.provider = make_user("provider", self.provider_org)
        self.solution = build_solution(self.provider_org)
        self.officer = make_user("officer")
        self.evaluators = {}
        self.smes = {}

    def new_solution(self, title=None, provider_org=None):
        return build_solution(provider_org or self.provider_org, title=title)

    def sme_of(self, trial: Trial):
        return self.smes[trial.id]

    def approved(self, amount="100000.00", solution=None, baselines=None) -> Trial:
        """A new SME files, submits, the officer approves: the trial is open."""
        org = self.make_org("enterprise")
        sme = self.make_user("sme", org)
        today = applications.local_today()
        content = Content(requested_amount=D(amount), need_statement="Orders get lost.",
                          contract_date=today + timedelta(days=1), trial_start_date=today + timedelta(days=2),
                          baselines=dict(BASELINES if baselines is None else baselines))
        app, _ = applications.create_application(sme.actor(), token=secrets.token_urlsafe(24),
                                                 programme_id=self.programme.id,
                                                 solution_id=(solution or self.solution).id, content=content)
        attach_required_materials(app)
        applications.submit(sme.actor(), app.id)
        applications.approve(self.officer.actor(), app.id)
        trial = services.trial_for_application(app.id)
        self.smes[trial.id] = sme
        return trial

    def report(self, trial, kind, note="Done."):
        return services.report_milestone(self.provider.actor(), trial.id, kind, note)

    def confirm(self, trial, kind, today=None, early_reason="The provider finished ahead of plan."):
        """Confirm a milestone (a final report confirmed early gives this reason)."""
        return services.confirm_milestone(self.sme_of(trial).actor(), trial.id, kind, today=today,
                                          early_reason=early_reason if kind == "final_report" else None)

    def accept(self, trial, *parties):
        """The enterprise and/or the provider accept the delivered scope (every checklist item ticked)."""
        parties = parties or ("sme", "provider")
        out = []
        for party in parties:
            actor = self.sme_of(trial).actor() if party == "sme" else self.provider.actor()
            codes = frozenset(i.code for i in services.acceptance_checklist(trial))
            out.append(services.record_acceptance(actor, trial.id, services.AcceptanceInput(
                "Installed, configured and handed over as applied.", codes)))
        return out

    def started(self, **kwargs) -> Trial:
        trial = self.approved(**kwargs)
        self.report(trial, "kickoff")
        self.confirm(trial, "kickoff")
        return trial

    def completed(self, **kwargs) -> Trial:
        trial = self.approved(**kwargs)
        for kind in MILESTONE_KINDS:
            self.report(trial, kind)
            self.confirm(trial, kind)
        return trial

    def evaluator(self, name="e1"):
        if name not in self.evaluators:
            self.evaluators[name] = self.make_user("evaluator")
        return self.evaluators[name]

    def assign(self, trial, *names, declare=True):
        out = []
        for name in names:
            ev = self.evaluator(name)
            services.assign_evaluator(self.officer.actor(), trial.id, ev.id)
            if declare:
                services.declare_no_conflict(ev.actor(), trial.id, True)
            out.append(ev)
        return out

    def evaluate(self, trial, *scores, **kwargs):
        """One evaluator per score, each assigned, declared and submitting all five criteria at it."""
        evaluators = self.assign(trial, *[f"{trial.id}-{i}" for i in range(len(scores))])
        return [services.submit_evaluation(ev.actor(), trial.id, evaluation_input(str(score), **kwargs))
                for ev, score in zip(evaluators, scores)]

    def evaluated(self, *scores, solution=None, **kwargs) -> Trial:
        trial = self.completed(solution=solution)
        self.evaluate(trial, *scores, **kwargs)
        return trial


@pytest.fixture()
def programme(db_conn):
    return build_programme()


@pytest.fixture()
def flow(make_org, make_user, programme):
    return Flow(make_org, make_user, programme)
