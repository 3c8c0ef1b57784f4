"""The access table (``voucher.access``): one declaration per action, asked by services, views, templates
and the API.  The role × endpoint test (tests/api/test_access.py) takes its allowed roles from it."""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import render_template_string

from voucher import access
from voucher.access import Rule, can, register_access_rules, require
from voucher.audit.services import Actor
from voucher.errors import Forbidden

ROOT = Path(__file__).resolve().parents[2]


def actor(role: str, organisation_id: int | None = None, user_id: int | None = 1) -> Actor:
    return Actor(user_id=user_id, role=role, organisation_id=organisation_id, label=role)


def test_a_role_the_rule_names_may_and_others_may_not(app):
    assert can(actor("officer"), "programmes.edit")
    for role in ("finance", "auditor", "sme", "provider", "evaluator", "admin", "system"):
        assert not can(actor(role), "programmes.edit"), role


def test_require_raises_forbidden_with_a_403_and_the_message_given(app):
    require(actor("finance"), "payments.handle")
    with pytest.raises(Forbidden) as refused:
        require(actor("officer"), "payments.handle", message="Only a finance officer may do this.")
    assert refused.value.status == 403
    assert refused.value.render() == "Only a finance officer may do this."


@pytest.mark.parametrize("action,attribute", [("applications.file", "enterprise_id"),
                                              ("subsidies.file", "enterprise_id"),
                                              ("trials.confirm_milestone", "enterprise_id"),
                                              ("trials.report_milestone", "provider_id"),
                                              ("maturity.read", "enterprise_id"),
                                              ("benefits.read", "enterprise_id"),
                                              ("benefits.decide", "enterprise_id")])
def test_an_organisations_users_act_only_on_its_own_objects(app, action, attribute):
    role = "provider" if attribute == "provider_id" else "sme"
    obj = SimpleNamespace(**{attribute: 7})
    assert can(actor(role, organisation_id=7), action, obj)
    assert not can(actor(role, organisation_id=8), action, obj)
    assert not can(actor(role, organisation_id=None), action, obj)
    assert can(actor(role, organisation_id=8), action)  # the role alone: which pages and buttons exist


def test_the_bureau_reads_every_enterprises_application_an_sme_only_its_own(app):
    application = SimpleNamespace(enterprise_id=7)
    for role in ("officer", "finance", "auditor"):
        assert can(actor(role), "applications.read", application)
    assert can(actor("sme", 7), "applications.read", application)
    assert not can(actor("sme", 8), "applications.read", application)
    assert not can(actor("provider", 7), "applications.read", application)


def test_benefits_the_bureau_reads_candidates_only_the_enterprise_answers(app):
    candidate = SimpleNamespace(enterprise_id=7)
    for role in ("officer", "finance", "auditor"):
        assert can(actor(role), "benefits.read", candidate)
        assert not can(actor(role), "benefits.decide", candidate)
    assert can(actor("officer"), "benefits.import") and not can(actor("auditor"), "benefits.import")
    assert can(actor("auditor"), "benefits.sources") and not can(actor("finance"), "benefits.sources")
    for role in ("sme", "provider", "evaluator", "admin"):
        assert not can(actor(role, 7), "benefits.import") and not can(actor(role, 7), "benefits.overview")
    assert not can(actor("provider", 7), "benefits.read", candidate)


def test_a_payee_sees_only_its_own_disbursements(app):
    d = SimpleNamespace(payee_id=5)
    assert can(actor("provider", 5), "payments.see_disbursement", d)
    assert not can(actor("sme", 6), "payments.see_disbursement", d)
    assert can(actor("auditor"), "payments.see_disbursement", d)
    assert not can(actor("evaluator"), "payments.see_disbursement", d)


def test_an_evaluator_sees_only_a_trial_assigned_to_them(ctx, make_user, monkeypatch):
    from voucher.trials import common  # where assignment_of is defined (services re-exports it)

    trial = SimpleNamespace(id=3, enterprise_id=1, provider_id=2)
    assigned = {3: SimpleNamespace(status="assigned")}
    monkeypatch.setattr(common, "assignment_of", lambda a, trial_id: assigned.get(trial_id))
    evaluator = actor("evaluator", user_id=99)
    assert can(evaluator, "trials.view", trial)
    assigned[3] = SimpleNamespace(status="conflict")
    assert not can(evaluator, "trials.view", trial)
    assert not can(evaluator, "trials.view", SimpleNamespace(id=4, enterprise_id=1, provider_id=2))


def test_nobody_signed_in_may_do_anything_and_a_signed_in_user_is_asked_as_its_actor(app, ctx, make_user):
    from flask_login import AnonymousUserMixin

    assert not can(AnonymousUserMixin(), "catalogue.screen")
    assert not can(None, "catalogue.screen")
    assert can(make_user("evaluator"), "catalogue.screen")


def test_templates_ask_the_same_table(app, ctx, make_user, login):
    from flask_login import login_user

    login_user(make_user("officer"))
    page = "{% if can(current_user, 'programmes.edit') %}edit{% endif %}|{% if can(current_user, 'payments.handle') %}pay{% endif %}"
    assert render_template_string(page) == "edit|"


def test_an_unknown_action_is_a_mistake_not_a_refusal(app):
    with pytest.raises(KeyError, match="no access rule"):
        can(actor("officer"), "programmes.edti")


def test_one_action_declared_twice_differently_is_refused(app):
    register_access_rules({"programmes.edit": access.rule("programmes.edit")})  # the same rule again: fine
    with pytest.raises(ValueError, match="declared twice"):
        register_access_rules({"programmes.edit": Rule("officer", "finance")})


ACTION_USES = re.compile(r"""(?:\bcan|\brequire|\broles_for)\([^()]*?["']([a-z_]+\.[a-z_]+)["']|ACCESS\[["']([a-z_]+\.[a-z_]+)["']\]""")


def test_every_action_asked_for_in_the_code_and_templates_is_declared(app):
    """A misspelt action would otherwise only fail on the page or call that asks it."""
    declared = set(access.actions())
    asked = {}
    for path in [*ROOT.joinpath("voucher").rglob("*.py"), *ROOT.joinpath("templates").rglob("*.html")]:
        for match in ACTION_USES.finditer(path.read_text(encoding="utf-8")):
            asked.setdefault(match.group(1) or match.group(2), path.relative_to(ROOT))
    assert len(asked) > 30
    unknown = {name: str(where) for name, where in asked.items() if name not in declared}
    assert not unknown, unknown


def test_no_module_restates_the_bureaus_roles():
    """The bureau's roles are written once, in voucher/access.py; the domains' tables use ``BUREAU``."""
    restated = re.compile(r"""\(\s*["']officer["'],\s*["']finance["'],\s*["']auditor["']""")
    offenders = [str(p.relative_to(ROOT)) for p in ROOT.joinpath("voucher").rglob("*.py")
                 if p.name != "access.py" or p.parent.name != "voucher"
                 if restated.search(p.read_text(encoding="utf-8"))]
    assert offenders == [], offenders
