"""Every page, as every demo role, with every integer query parameter a view reads set to something
huge or odd (20 and 40 digits, a superscript two, a negative, scientific and hex notation, a page past
the maximum), and every GET rule with an integer in its path given ids beyond the database's range:
never a server error (a second crawl beside tests/core/test_odd_input.py, which checks the answers)."""
from __future__ import annotations

import re

import pytest

from tests.factories import do_login
from voucher.extensions import db
from voucher.pagination import MAX_PAGE

ROLES = ("sme", "provider", "evaluator", "officer", "finance", "auditor", "admin", "park_operator")
HUGE = "9" * 20
FORTY = "4" * 40
ODD = (HUGE, FORTY, "²", "-5", "1e9", "0x10", str(MAX_PAGE + 1))
INT_ARGS = ("page", "per_page", "programme_id", "provider_id", "application_id", "solution_id", "preview", "year",
            "source_id", "employees", "object_id", "id", "milestone")
SKIP = {"static", "auth.logout"}


@pytest.fixture()
def demo(ctx):
    from voucher.demo import seed

    seed()
    db.session.commit()


def _get_rules(app):
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint not in SKIP]


def _int_rule_urls(app, value: str) -> list[str]:
    """Every GET rule with an ``<int:...>`` argument, each int argument set to ``value`` (others 'x')."""
    urls = []
    for rule in _get_rules(app):
        if not any(_is_int(conv) for conv in rule._converters.values()):
            continue
        url = rule.rule
        for name, conv in rule._converters.items():
            url = re.sub(r"<(?:[^:>]+:)?%s>" % name, value if _is_int(conv) else "x", url)
        urls.append(url)
    return urls


def _is_int(conv) -> bool:
    return "int" in type(conv).__name__.lower() or type(conv).__name__ in ("IdConverter",) or "0-9" in conv.regex \
        or r"\d" in conv.regex


def _list_urls(app) -> list[str]:
    return [r.rule for r in _get_rules(app) if not r.arguments]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_with_huge_or_odd_integers_answers_without_a_server_error(app, client, demo, role):
    assert do_login(client, f"{role}@demo.test", f"demo-{role}-pass").status_code == 302
    lists = _list_urls(app)
    assert len(lists) > 40
    for url in lists:
        for value in ODD:
            query = "&".join(f"{name}={value}" for name in INT_ARGS)
            response = client.get(f"{url}?{query}")
            assert response.status_code < 500, f"{url}?{query}: {response.status_code}"
    for value in (HUGE, FORTY, str(2 ** 31), str(2 ** 63)):
        urls = _int_rule_urls(app, value)
        assert len(urls) > 30
        for url in urls:
            response = client.get(url)
            assert response.status_code < 500, f"{url}: {response.status_code}"
            if response.status_code != 405:
                assert response.status_code in (302, 401, 403, 404), f"{url}: {response.status_code}"
