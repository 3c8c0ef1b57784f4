"""Keyset ("seek") pages of the audit trail and the API token list: a cursor carries the last row's
sort key, so paging while rows are added neither repeats nor skips a row; an altered cursor is a
400 with a message, never a 500; filters still apply."""
from __future__ import annotations

import re
from html import unescape

import pytest

from voucher.audit.queries import events_seek
from voucher.audit.services import Actor, record_event, seal_pending
from voucher.extensions import db
from voucher.pagination import CursorError, encode_cursor

ACTOR = Actor(user_id=None, role="system", organisation_id=None, label="test")


def _events(n, action="thing.changed", object_type="thing"):
    ids = [record_event(ACTOR, action, object_type, i).id for i in range(n)]
    seal_pending()
    db.session.flush()
    return ids


def test_paging_forward_while_rows_are_added_has_no_duplicates_or_gaps(ctx):
    original = _events(23)
    seen, cursor, pages = [], None, 0
    while True:
        page = events_seek(object_type="thing", object_id=None, action=None, cursor=cursor, per_page=5)
        seen += [e.id for e in page.items]
        pages += 1
        _events(2)  # newer rows arrive between page views: they sort before the cursor, never on later pages
        if not page.has_next:
            break
        cursor = page.next_cursor
    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    assert seen == sorted(original, reverse=True)


def test_previous_page_returns_the_same_rows(ctx):
    _events(12)
    first = events_seek(object_type="thing", object_id=None, action=None, cursor=None, per_page=5)
    assert not first.has_prev and first.page == 1 and first.total == 12 and not first.total_capped
    second = events_seek(object_type="thing", object_id=None, action=None, cursor=first.next_cursor, per_page=5)
    back = events_seek(object_type="thing", object_id=None, action=None, cursor=second.prev_cursor, per_page=5)
    assert [e.id for e in back.items] == [e.id for e in first.items]
    assert not back.has_prev and back.has_next
    third = events_seek(object_type="thing", object_id=None, action=None, cursor=second.next_cursor, per_page=5)
    assert len(third.items) == 2 and not third.has_next and third.has_prev


def test_filters_combine_with_the_cursor(ctx):
    _events(6, action="alpha.done")
    _events(6, action="beta.done")
    first = events_seek(object_type="thing", object_id=None, action="alpha", cursor=None, per_page=4)
    rest = events_seek(object_type="thing", object_id=None, action="alpha", cursor=first.next_cursor, per_page=4)
    actions = {e.action for e in first.items + rest.items}
    assert actions == {"alpha.done"} and len(first.items + rest.items) == 6 and first.total == 6


def test_count_stops_at_the_cap(ctx, monkeypatch):
    from voucher import pagination

    _events(8)
    monkeypatch.setattr(pagination, "COUNT_CAP", 5)
    page = pagination.keyset_paginate(
        db.select(pagination_model()).where(pagination_model().object_type == "thing"),
        [pagination_model().id], list_name="audit", cursor=None, per_page=3, count_cap=5)
    assert page.total == 5 and page.total_capped


def pagination_model():
    from voucher.audit.models import AuditEvent

    return AuditEvent


@pytest.mark.parametrize("cursor", ["garbage", "", "eyJ4IjoxfQ", None])
def test_tampered_cursors_are_refused(ctx, cursor):
    if cursor is None:  # a valid cursor of another list
        cursor = encode_cursor("api-tokens", "next", [5])
    if cursor == "":
        return  # empty means the first page (below)
    with pytest.raises(CursorError) as err:
        events_seek(object_type=None, object_id=None, action=None, cursor=cursor, per_page=5)
    assert err.value.status == 400 and "cursor" in err.value.fields


def test_an_edited_signed_cursor_is_refused(ctx):
    good = encode_cursor("audit", "next", [10])
    bad = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    with pytest.raises(CursorError):
        events_seek(object_type=None, object_id=None, action=None, cursor=bad, per_page=5)


def _ids(html):
    return [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", html)]


def _next(html):
    found = re.search(r'rel="next" href="([^"]+)"', html)
    return unescape(found.group(1)) if found else None


@pytest.mark.parametrize("lang, word", [("zh_Hans_CN", "下一页"), ("en", "Next")])
def test_audit_page_walks_by_cursor_in_both_languages(client, make_user, lang, word):
    from tests.factories import do_login

    do_login(client, make_user("auditor"))
    client.post("/lang", data={"lang": lang, "next": "/"})
    with client.application.app_context():
        _events(45, object_type="seekthing")
        db.session.commit()
    url, seen = "/audit/?object_type=seekthing", []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        seen += _ids(html)
        if _next(html):
            assert word in html
            assert "object_type=seekthing" in _next(html)  # the filter rides along
        url = _next(html)
        with client.application.app_context():
            _events(1, object_type="seekthing")  # inserted while paging
            db.session.commit()
    assert len(seen) == len(set(seen)) == 45


@pytest.mark.parametrize("lang, text", [("zh_Hans_CN", "翻页链接"), ("en", "page link (cursor)")])
def test_audit_page_with_a_tampered_cursor_is_400_with_a_message(client, make_user, lang, text):
    from tests.factories import do_login

    do_login(client, make_user("auditor"))
    client.post("/lang", data={"lang": lang, "next": "/"})
    response = client.get("/audit/?cursor=not-a-cursor")
    assert response.status_code == 400
    assert text in response.get_data(as_text=True)
