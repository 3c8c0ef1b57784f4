"""The grant-kind contract (voucher/grants.py, issue 17 §1): payments knows no kind of grant by name
and imports nothing from the kinds' domains; subsidies imports nothing from payments; every source
type a disbursement may have is a registered kind; and the kinds answer what payments asks."""
from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select, union_all

from tests.payments.conftest import TEST_NOW, World
from voucher import grants, registries
from voucher.errors import Conflict
from voucher.extensions import db
from voucher.payments import queries as payment_queries
from voucher.payments.models import SOURCE_TYPES

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "voucher"
D = Decimal
KIND_NAME = re.compile(r'"(trial|loan|robot)_application"')


def imported_modules(directory: Path) -> dict[str, list[str]]:
    """Every module (and imported name) under ``directory``, also inside functions -> the importing files."""
    found: dict[str, list[str]] = {}
    for path in sorted(directory.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                found.setdefault(name, []).append(str(path.relative_to(directory)))
    return found


def imports_of(directory: Path, *packages: str) -> list[str]:
    return sorted(f"{name} ({', '.join(sorted(set(files)))})" for name, files in imported_modules(directory).items()
                  if any(name == p or name.startswith(p + ".") for p in packages))


def test_payments_names_no_kind_of_grant_but_in_the_models_check_tuple():
    hits = []
    for path in sorted((PACKAGE / "payments").glob("*.py")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if KIND_NAME.search(line):
                hits.append((path.name, line.strip()))
    assert hits == [("models.py", 'SOURCE_TYPES = ("trial_application", "loan_application", "robot_application")')]


def test_payments_imports_nothing_from_the_kinds_domains():
    assert imports_of(PACKAGE / "payments", "voucher.applications", "voucher.trials", "voucher.subsidies") == []


def test_subsidies_imports_nothing_from_payments():
    assert imports_of(PACKAGE / "subsidies", "voucher.payments") == []


def test_the_check_finds_an_import_inside_a_function(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    from voucher.payments.models import Disbursement\n")
    assert imports_of(tmp_path, "voucher.payments") == ["voucher.payments.models (m.py)",
                                                       "voucher.payments.models.Disbursement (m.py)"]


def test_every_source_type_has_a_registered_kind_after_create_app(app):
    assert [k.source_type for k in grants.kinds()] == list(SOURCE_TYPES)
    for source_type in SOURCE_TYPES:
        kind = grants.grant_kind(source_type)
        assert kind is not None and kind.source_type == source_type
    assert {k.funding_kind for k in grants.kinds()} == {"trial_voucher", "loan_discount", "robot_subsidy"}
    assert grants.under_way_registered()
    assert grants.grant_kind("no_such_application") is None


def test_configuring_again_replaces_and_does_not_duplicate(app):
    before = [type(k) for k in grants.kinds()]
    registries.register_grant_kinds()
    registries.register_grant_kinds()
    assert [type(k) for k in grants.kinds()] == before
    assert len(grants._under_way) == 1


@pytest.fixture()
def world(db_conn, app):
    with time_machine.travel(TEST_NOW, tick=True), app.test_request_context():
        yield World()


def _sql():
    return grants.PayableSQL(text=payment_queries._text, paid_exists=payment_queries._paid_exists,
                             live_exists=payment_queries._live_exists, local_day=payment_queries.local_day)


def test_each_kind_lists_its_payables_in_python_and_in_sql_alike(world):
    trial = world.kick_off(world.trial("100000.00"))   # a 30,000.00 advance to the provider
    loan = world.loan()                                # 40,000.00 to the enterprise
    robot = world.robot()                              # 100,000.00 to the enterprise
    pid = world.programme.id
    trial_kind, loan_kind, robot_kind = (grants.grant_kind(t) for t in SOURCE_TYPES)

    [advance] = trial_kind.payables(programme_id=pid)
    assert (advance.source_id, advance.milestone, advance.amount, advance.payee_id) == (
        trial.application_id, "advance", D("30000.00"), world.provider_org.id)
    assert advance.funding_kind == "trial_voucher" and advance.basis["trial_id"] == trial.id
    [full] = loan_kind.payables(programme_id=pid)
    assert (full.source_id, full.milestone, full.amount, full.payee_id) == (loan.id, "full", D("40000.00"),
                                                                           loan.enterprise_id)
    assert [(d.source_id, d.amount) for d in robot_kind.payables(programme_id=pid)] == [(robot.id, D("100000.00"))]
    assert loan_kind.payables(source_id=loan.id) == [full]

    python = {(d.source_type, d.source_id, d.milestone, d.amount) for k in grants.kinds()
              for d in k.payables(programme_id=pid)}
    union = union_all(*[s for k in grants.kinds() for s in k.payable_selects(_sql())]).subquery()
    rows = db.session.execute(select(union).where(union.c.programme_id == pid)).all()
    in_sql = {(r.source_type, r.source_id, r.milestone, (D(r.amount) / 100).quantize(D("0.01"))) for r in rows}
    assert in_sql == python and len(python) == 3

    assert [(i, a) for i, _e, a in trial_kind.granted(pid)] == [(trial.application_id, D("100000.00"))]
    assert [i for i, _e, _a in loan_kind.granted(pid)] == [loan.id]


def test_a_payment_under_way_is_asked_through_the_contract_and_blocks_the_kinds_cancel(world):
    loan = world.loan()
    world.announce()
    assert grants.payment_under_way("loan_application", loan.id) is None
    d = world.prepare("loan_application", loan.id, "full")
    assert grants.payment_under_way("loan_application", loan.id) == d.reference

    kind = grants.grant_kind("loan_application")
    assert kind.label(loan.id).endswith(loan.number)
    lines = kind.working_lines(d, lambda s, **kw: s % kw if kw else s)
    assert lines[-1] == "Amount of this payment: ¥40,000.00 (what is reserved for the grant)"
    kind.lock(loan.id)
    with pytest.raises(Conflict):
        kind.cancel(world.officer.actor(), loan.id, "The enterprise repaid the loan early.")
    db.session.refresh(loan)
    assert loan.status == "approved"
