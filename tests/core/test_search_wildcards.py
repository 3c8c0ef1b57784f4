"""A search box matches what was typed, literally: ``%`` and ``_`` (LIKE's wildcards) and the
backslash (the escape character) are characters like any other (:func:`voucher.db.like_literal`).

On the API world (an enterprise with trial, loan and robot applications, trials and disbursements),
the enterprise, its solution, programme and payee are named plainly, then with a ``%``, a ``_`` and a
backslash in the name; each search entry point, as a role that may use it, is searched for ``%``,
``_`` and ``\\``: every row it answers contains that character, and the named row is found when its
name has it.  Before the fix ``%`` and ``_`` matched every row.
"""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select, update

from tests.api.conftest import build_world
from tests.factories import do_login
from voucher.extensions import db

SEARCHED_KEYS = re.compile(r"name|title|uscc|number")
CHARACTERS = ("%", "_", "\\")
NAMES = ("Alpha Works", "Alpha%Works", "Alpha_Works", "Alpha\\Works")

# (role, URL without the search, the search parameter, API?)
ENTRY_POINTS = [
    ("officer", "/api/v1/enterprises", "q", True),
    ("officer", "/api/v1/trial-applications", "q", True),
    ("officer", "/api/v1/programmes", "q", True),
    ("officer", "/enterprises/?format=csv", "q", False),
    ("officer", "/applications/review?status=&format=csv", "q", False),
    ("officer", "/applications/review?status=&format=csv", "solution", False),
    ("finance", "/payments/disbursements?format=csv", "q", False),
    ("officer", "/trials/?format=csv", "q", False),
    ("officer", "/subsidies/review?format=csv", "q", False),
    ("admin", "/admin/users?format=csv", "q", False),
    ("officer", "/programmes/?format=csv", "q", False),
    ("sme", "/applications/new?format=csv", "q", False),
]


def _name_everything(world, name: str) -> None:
    """The first enterprise, every solution, the programme and every payee called ``name``."""
    from voucher.catalogue.models import Solution
    from voucher.enterprises.models import Organisation
    from voucher.payments.models import Disbursement
    from voucher.programmes.models import Programme

    db.session.execute(update(Organisation).where(Organisation.id == world.ids["ent_a"]).values(name=name))
    db.session.execute(update(Solution).values(title=name))
    db.session.execute(update(Programme).where(Programme.id == world.ids["programme"]).values(name=name))
    db.session.execute(update(Disbursement).values(payee_name=name))
    db.session.flush()
    db.session.expire_all()


def _values(value, key: str = "") -> list[str]:
    """The searchable texts of a JSON item: names, titles, credit codes, numbers (not the codes such
    as ``pumps_valves`` nor the keys, which have a ``_`` of their own)."""
    if isinstance(value, dict):
        return [text for k, v in value.items() for text in _values(v, k)]
    if isinstance(value, list):
        return [text for v in value for text in _values(v, key)]
    return [str(value)] if value is not None and SEARCHED_KEYS.search(key) else []


def _rows(client, world, role: str, url: str, param: str, api: bool, text: str) -> list[str]:
    """The rows the entry point answers for the search ``text``, each as one string."""
    if api:
        response = world.apis[role].get(url, query_string={param: text, "per_page": 100})
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return ["\t".join(_values(item)) for item in response.get_json()["items"]]
    path, _, query = url.partition("?")
    response = client.get(path, query_string={**dict(parse_qsl(query, keep_blank_values=True)), param: text})
    assert response.status_code == 200, (url, response.status_code)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    return ["\t".join(row) for row in rows[1:]]


@pytest.mark.parametrize(("role", "url", "param", "api"), ENTRY_POINTS,
                         ids=[f"{url.split('?')[0]}?{param}" for _r, url, param, _a in ENTRY_POINTS])
def test_wildcards_are_searched_literally(client, db_conn, role, url, param, api):
    world = build_world(client)
    if not api:
        client.post("/logout")
        assert do_login(client, world.users[role]).status_code == 302
    _name_everything(world, NAMES[0])
    assert _rows(client, world, role, url, param, api, "Alpha"), "the entry point lists nothing to search"
    problems = []
    for name in NAMES:
        _name_everything(world, name)
        for character in CHARACTERS:
            rows = _rows(client, world, role, url, param, api, character)
            wrong = [row for row in rows if character not in row]
            if wrong:
                problems.append(f"{name!r}: {character!r} matched {len(wrong)} rows without it, e.g. {wrong[0][:200]}")
            if character in name and not any(name in row for row in rows):
                problems.append(f"{name!r}: {character!r} did not find the row named so")
    assert not problems, "\n".join(problems)


def test_the_audit_trail_action_filter_is_a_literal_prefix(client, db_conn):
    """The audit trail's ``action`` filter keeps its prefix match, but ``%`` or ``_`` is no wildcard."""
    from voucher.audit.models import AuditEvent

    world = build_world(client)
    assert do_login(client, world.users["auditor"]).status_code == 302
    actions = set(db.session.scalars(select(AuditEvent.action)))
    prefix = sorted(actions)[0].split(".")[0]

    def listed(action):
        response = client.get("/audit/", query_string={"action": action, "format": "csv"})
        assert response.status_code == 200
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        column = rows[0].index("Action") if "Action" in rows[0] else 4
        return [row[column] for row in rows[1:]]

    found = listed(prefix)
    assert found and all(a.startswith(prefix) for a in found)
    for character in CHARACTERS:
        assert [a for a in listed(character) if not a.startswith(character)] == []
        assert [a for a in listed(prefix[0] + character) if not a.startswith(prefix[0] + character)] == []
