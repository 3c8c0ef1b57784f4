"""The one application number (受理编号) of every application, in one format everywhere.

``SY-2026-000013``: a kind prefix, the programme's year, and the row id padded to six digits.

* The three kinds keep separate id sequences (three tables), so the prefix names the kind:
  ``SY`` trial voucher (试用), ``TX`` loan interest discount (贴息), ``JQ`` robot subsidy (机器人).
* The year is the year of the programme the application belongs to (its ``programme.year``), not
  the calendar day of filing: an application never changes programme, so its number never changes.
* The serial is the row id (at least six digits, more when the id grows past 999,999): unique per
  kind without a counter to lock, so two simultaneous filings never race for a number.

The number is stored (``number`` column, UNIQUE) at creation by a mapper ``after_insert`` hook, so
every path that creates an application (services, demo data, fixtures) numbers it in the same
INSERT's transaction; pages, notifications, documents, exports and the API read the column.
:func:`parse_number` reads a number typed by a person (any case, full-width, spaces, dashes) for
searching and the public progress look-up.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import event, select, update
from sqlalchemy.orm import attributes

from voucher.identifiers import normalise_identifier

PREFIXES = {"trial_application": "SY", "loan_application": "TX", "robot_application": "JQ"}
KINDS = {prefix: kind for kind, prefix in PREFIXES.items()}
NUMBER_MAX_LENGTH = 20
_SHAPE = re.compile(r"(SY|TX|JQ)-?(\d{4})-?(\d{6,12})", re.ASCII)


@dataclass(frozen=True)
class ParsedNumber:
    kind: str  # the object type: trial_application, loan_application, robot_application
    year: int
    id: int

    @property
    def text(self) -> str:
        return format_number(self.kind, self.year, self.id)


def format_number(kind: str, year: int, row_id: int) -> str:
    """``format_number("trial_application", 2026, 13)`` → ``SY-2026-000013``."""
    return f"{PREFIXES[kind]}-{int(year):04d}-{int(row_id):06d}"


def parse_number(raw: str | None) -> ParsedNumber | None:
    """A typed number in its one form, or None when the text is not shaped like one.  Spelling
    variants (lower case, full-width characters, spaces, other dashes) are accepted."""
    match = _SHAPE.fullmatch(normalise_identifier(raw))
    if match is None:
        return None
    prefix, year, serial = match.groups()
    return ParsedNumber(KINDS[prefix], int(year), int(serial))


def number_filter(model, raw: str | None):
    """A WHERE clause for a list's search box: the exact number when the text is one, else None."""
    parsed = parse_number(raw)
    if parsed is None or PREFIXES.get(model.__tablename__) != PREFIXES[parsed.kind]:
        return None
    return model.number == parsed.text


def _assign(mapper, connection, target) -> None:
    """After the INSERT: write the number (the id is known only now) in the same transaction."""
    if getattr(target, "number", None):
        return
    from voucher.programmes.models import Programme

    year = connection.scalar(select(Programme.year).where(Programme.id == target.programme_id))
    number = format_number(mapper.local_table.name, year, target.id)
    connection.execute(update(mapper.local_table).where(mapper.local_table.c.id == target.id).values(number=number))
    attributes.set_committed_value(target, "number", number)


def register(*models) -> None:
    """Number every new row of these application models (called once per model at import)."""
    for model in models:
        if not event.contains(model, "after_insert", _assign):
            event.listen(model, "after_insert", _assign)


def _model(kind: str):
    from voucher.applications.models import TrialApplication
    from voucher.subsidies.models import LoanApplication, RobotApplication

    # "application" is the documents' subject type of a trial-voucher application (its audit dossier).
    return {"trial_application": TrialApplication, "application": TrialApplication,
            "loan_application": LoanApplication, "robot_application": RobotApplication}.get(kind)


def find_id(kind: str, raw: str | None) -> int | None:
    """The row id of the application of ``kind`` whose number is typed in ``raw`` (None if none)."""
    from voucher.extensions import db

    parsed, model = parse_number(raw), _model(kind)
    if parsed is None or model is None or PREFIXES[parsed.kind] != PREFIXES[model.__tablename__]:
        return None
    return db.session.scalar(select(model.id).where(model.number == parsed.text))


def _plain_id(row_id) -> bool:
    """An id a query may use: ASCII digits, at most 12 (never a superscript two, never an overflow)."""
    text = str(row_id) if row_id is not None else ""
    return 0 < len(text) <= 12 and text.isascii() and text.isdigit()


def number_of(kind: str, row_id: int | None) -> str | None:
    """The number of the application ``kind`` #``row_id`` (a payment's or a ledger entry's source),
    remembered for the request, so a list naming the same grant twice reads it once."""
    from flask import g, has_app_context

    from voucher.extensions import db

    model = _model(kind)
    if model is None or not _plain_id(row_id):
        return None
    cache = g.setdefault("_application_numbers", {}) if has_app_context() else {}
    key = (kind, int(row_id))
    if key not in cache:
        cache[key] = db.session.scalar(select(model.number).where(model.id == int(row_id)))
    return cache[key]


def prime(pairs) -> None:
    """Read the numbers of many ``(kind, id)`` sources in one query per kind (for list pages)."""
    from flask import g, has_app_context

    from voucher.extensions import db

    if not has_app_context():
        return
    cache = g.setdefault("_application_numbers", {})
    wanted: dict[str, set[int]] = {}
    for kind, row_id in pairs:
        if _model(kind) is not None and _plain_id(row_id) and (kind, int(row_id)) not in cache:
            wanted.setdefault(kind, set()).add(int(row_id))
    for kind, ids in wanted.items():
        model = _model(kind)
        for row_id, number in db.session.execute(select(model.id, model.number).where(model.id.in_(ids))):
            cache[(kind, row_id)] = number


def number_missing(model) -> int:
    """Number the rows a Core bulk INSERT wrote without the mapper (benchmarks, scale tests): one
    executemany UPDATE with the same :func:`format_number`.  Returns how many were numbered."""
    from sqlalchemy import bindparam

    from voucher.extensions import db
    from voucher.programmes.models import Programme

    table = model.__table__
    rows = db.session.execute(select(table.c.id, Programme.year).join(Programme, Programme.id == table.c.programme_id)
                              .where(table.c.number.is_(None))).all()
    if rows:
        db.session.execute(update(table).where(table.c.id == bindparam("row_id")).values(number=bindparam("row_number")),
                           [{"row_id": i, "row_number": format_number(table.name, year, i)} for i, year in rows])
    return len(rows)
