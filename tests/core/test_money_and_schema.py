"""Money round-trips exactly on the running backend; migrations build the models' schema."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from voucher.db import Money
from voucher.enterprises.models import Enterprise
from voucher.extensions import db


@pytest.mark.parametrize("amount", ["9999999999.99", "0.01", "0.00", "200000.00", "123.45"])
def test_money_round_trips_exactly(ctx, make_org, amount):
    org = make_org("enterprise", annual_revenue=Decimal(amount))
    db.session.expire_all()
    stored = db.session.scalar(select(Enterprise.annual_revenue).where(Enterprise.organisation_id == org.id))
    assert stored == Decimal(amount) and isinstance(stored, Decimal)
    assert str(stored) == str(Decimal(amount).quantize(Decimal("0.01")))


@pytest.mark.parametrize("bad", ["0.001", "NaN", "Infinity", "abc"])
def test_money_refuses_what_it_cannot_hold_exactly(bad):
    with pytest.raises(ValueError):
        Money().process_bind_param(Decimal(bad) if bad != "abc" else bad, None)


def test_money_is_never_a_float():
    with pytest.raises(ValueError):
        Money().process_bind_param(0.5, None)


def test_migrations_build_exactly_the_models_schema(app, db_conn):
    """Nothing left to autogenerate after `flask db upgrade` (the fixture built the schema that way)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    context = MigrationContext.configure(db_conn, opts={"compare_type": True})
    diff = compare_metadata(context, db.metadata)
    assert diff == [], diff


def test_migrations_build_every_check_constraint_of_the_models(app, db_conn):
    """Autogenerate does not compare CHECK constraints, and they are written by hand in migrations:
    every model CHECK exists in the migrated database under its name, and the values it allows
    (the quoted literals: the states of a status CHECK) are the model's."""
    import re

    from sqlalchemy import CheckConstraint, inspect

    inspector = inspect(db_conn)
    literals = re.compile(r"'([^']*)'")
    # The name as created: SQLAlchemy shortens a long name to the dialect's limit (63 on PostgreSQL).
    preparer = db_conn.dialect.identifier_preparer
    problems = []
    for table in db.metadata.sorted_tables:
        in_db = {c["name"]: c["sqltext"] for c in inspector.get_check_constraints(table.name)}
        for constraint in table.constraints:
            if not isinstance(constraint, CheckConstraint):
                continue
            name = preparer.format_constraint(constraint, _alembic_quote=False)
            if name not in in_db:
                problems.append(f"{table.name}: {constraint.name} missing")
                continue
            wanted = set(literals.findall(str(constraint.sqltext)))
            found = set(literals.findall(str(in_db[name])))
            if wanted != found:
                problems.append(f"{table.name}: {constraint.name} allows {sorted(found)}, the model {sorted(wanted)}")
    assert not problems, problems
