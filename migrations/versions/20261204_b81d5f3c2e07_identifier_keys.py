"""identifiers behind "once" rules are stored normalised

``robot_line.invoice_key`` (UNIQUE, NULL once its application is withdrawn — unchanged semantics)
is recomputed with ``voucher.identifiers.invoice_key`` (NFKC, invisible characters and spaces
dropped, dashes unified, upper case, code and number run together), and
``loan_application.contract_key`` (indexed, not unique: one contract has one claim per run of
periods) is added and filled with ``normalise_identifier(contract_no)``.

Rows that were distinct before and are one identifier now do not make the migration fail: for an
invoice the earlier line (lowest id) keeps the key and the later one's key stays NULL; for a loan
contract both keep their key (the service refuses new overlaps from now on).  Each such pair is
written to ``identifier_collision`` and logged, for an officer to decide
(``flask voucher identifier-collisions``).

Plain ADD/DROP COLUMN: batch mode would rebuild ``loan_application``, which periods reference.

Revision ID: b81d5f3c2e07
Revises: a7d3c5e1f209
Create Date: 2026-12-04 05:00:00

"""
import logging
import re

import sqlalchemy as sa
from alembic import op

from voucher.db import UTCDateTime, utcnow
from voucher.identifiers import invoice_key, normalise_identifier

# revision identifiers, used by Alembic.
revision = 'b81d5f3c2e07'
down_revision = 'a7d3c5e1f209'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

_DEAD = ("withdrawn", "rejected")  # loan applications whose days may be claimed again (as the service)


def _record(bind, kind, key, kept, other):
    log.warning("identifier collision (%s %s): %s %s kept, %s %s to be checked by an officer",
                kind, key, kept[0], kept[1], other[0], other[1])
    bind.execute(sa.text("INSERT INTO identifier_collision (kind, key, kept_type, kept_id, other_type, other_id, "
                         "detected_at) VALUES (:kind, :key, :kt, :ki, :ot, :oi, :at)"),
                 {"kind": kind, "key": key, "kt": kept[0], "ki": kept[1], "ot": other[0], "oi": other[1],
                  "at": utcnow()})


def _rekey_invoices(bind, keyer, record: bool) -> None:
    rows = bind.execute(sa.text("SELECT id, invoice_no FROM robot_line WHERE invoice_key IS NOT NULL "
                                "ORDER BY id")).all()
    # Cleared first, so that a row's new key never meets another row's old one.
    bind.execute(sa.text("UPDATE robot_line SET invoice_key = NULL WHERE invoice_key IS NOT NULL"))
    holder: dict[str, int] = {}
    for line_id, number in rows:
        key = keyer(number or "")[:64]
        if key in holder:
            if record:
                _record(bind, "invoice", key, ("robot_line", holder[key]), ("robot_line", line_id))
            continue
        holder[key] = line_id
        bind.execute(sa.text("UPDATE robot_line SET invoice_key = :k WHERE id = :i"), {"k": key, "i": line_id})


def _old_contract_key(contract_no: str) -> str:
    return re.sub(r"\s+", "", contract_no).casefold()


def upgrade():
    op.create_table(
        "identifier_collision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kept_type", sa.String(length=40), nullable=False),
        sa.Column("kept_id", sa.Integer(), nullable=False),
        sa.Column("other_type", sa.String(length=40), nullable=False),
        sa.Column("other_id", sa.Integer(), nullable=False),
        sa.Column("detected_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identifier_collision")),
    )
    op.add_column("loan_application", sa.Column("contract_key", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_loan_application_contract_key"), "loan_application", ["contract_key"], unique=False)

    bind = op.get_bind()
    _rekey_invoices(bind, invoice_key, record=True)

    loans = bind.execute(sa.text("SELECT id, enterprise_id, contract_no, status FROM loan_application ORDER BY id")).all()
    periods: dict[int, list] = {}
    for app_id, start, end in bind.execute(sa.text("SELECT application_id, start_date, end_date "
                                                   "FROM loan_interest_period")):
        periods.setdefault(app_id, []).append((str(start), str(end)))
    live: dict[tuple, list] = {}
    for app_id, enterprise_id, contract_no, status in loans:
        key = normalise_identifier(contract_no)[:64]
        bind.execute(sa.text("UPDATE loan_application SET contract_key = :k WHERE id = :i"), {"k": key, "i": app_id})
        if status in _DEAD:
            continue
        for other_id, other_no in live.get((enterprise_id, key), []):
            # Same old key: the old check already refused overlaps; only the new spellings' overlaps are news.
            overlap = any(a < d and c < b for a, b in periods.get(app_id, []) for c, d in periods.get(other_id, []))
            if overlap and _old_contract_key(other_no) != _old_contract_key(contract_no):
                _record(bind, "loan_contract", key, ("loan_application", other_id), ("loan_application", app_id))
        live.setdefault((enterprise_id, key), []).append((app_id, contract_no))


def downgrade():
    _rekey_invoices(op.get_bind(), lambda number: number.strip().casefold(), record=False)
    op.drop_index(op.f("ix_loan_application_contract_key"), table_name="loan_application")
    op.drop_column("loan_application", "contract_key")
    op.drop_table("identifier_collision")
