"""Notification preferences per user (in the application, e-mail, SMS) and the SMS backend: a text
leaves only after the transaction commits, through the configured backend, in the user's language."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from rq import SimpleWorker

from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.notifications import sms
from voucher.notifications.models import Notification, NotificationPreference
from voucher.notifications.services import notify_users, preferences_of, save_preferences
from voucher.tasks import AppJob, queue

MESSAGE = "Your trial-voucher application %(number)s for %(solution)s was returned for revision: %(comment)s"


def _queue():
    q = queue("voucher-default")
    q.empty()
    return q


def _run(q) -> None:
    SimpleWorker([q], connection=q.connection, job_class=AppJob).work(burst=True)


@pytest.fixture()
def console(app):
    backend = sms.ConsoleSmsBackend()
    app.extensions["voucher_console_sms"] = backend
    yield backend
    app.extensions.pop("voucher_console_sms", None)


def test_defaults_and_saving_with_the_phone_checked(ctx, make_user):
    user = make_user("sme")
    assert preferences_of([user.id])[user.id] == {"in_app": True, "email": True, "sms": False, "phone": None}
    with pytest.raises(ValidationFailed) as err:
        save_preferences(user.id, in_app=True, email=True, sms=True, phone="")
    assert set(err.value.fields) == {"phone"}
    with pytest.raises(ValidationFailed) as err:
        save_preferences(user.id, in_app=True, email=True, sms=True, phone="1380013800")  # 10 digits
    assert set(err.value.fields) == {"phone"}
    pref = save_preferences(user.id, in_app=False, email=False, sms=True, phone="+86 138-0013 8000")
    assert (pref.in_app, pref.email, pref.sms, pref.phone) == (False, False, True, "13800138000")


def test_in_app_off_keeps_the_message_but_it_arrives_read(ctx, make_user):
    quiet, normal = make_user("sme"), make_user("sme")
    save_preferences(quiet.id, in_app=False, email=True, sms=False, phone=None)
    notify_users([quiet.id, normal.id], "A document you asked for is ready.", "/jobs/1")
    by_user = {n.user_id: n for n in db.session.scalars(db.select(Notification).where(
        Notification.user_id.in_([quiet.id, normal.id])))}
    assert by_user[quiet.id].read_at is not None and by_user[normal.id].read_at is None


def test_sms_leaves_only_after_the_commit_in_the_users_language(ctx, make_user, console):
    zh_user, en_user, no_sms = make_user("sme"), make_user("sme"), make_user("sme")
    en_user.locale = "en"
    save_preferences(zh_user.id, in_app=True, email=True, sms=True, phone="13800138000")
    save_preferences(en_user.id, in_app=True, email=True, sms=True, phone="13900139000")
    db.session.commit()
    q = _queue()
    notify_users([zh_user.id, en_user.id, no_sms.id], MESSAGE, "/applications/13", number="SY-2026-000013",
                 solution="智能仓储", comment="请补充材料")
    assert q.count == 0 and list(console.sent) == []  # nothing leaves before the commit
    db.session.commit()
    assert q.count == 1  # one job for the transaction's texts
    _run(q)
    sent = dict(console.sent)
    assert set(sent) == {"13800138000", "13900139000"}
    assert "SY-2026-000013" in sent["13800138000"] and "退回修改" in sent["13800138000"]
    assert sent["13900139000"].startswith("Your trial-voucher application SY-2026-000013 for 智能仓储")


def test_a_rolled_back_transaction_texts_nobody(ctx, make_user, console):
    user = make_user("sme")
    save_preferences(user.id, in_app=True, email=True, sms=True, phone="13800138000")
    db.session.commit()
    q = _queue()
    notify_users([user.id], "A document you asked for is ready.", "/jobs/1")
    db.session.rollback()
    db.session.commit()
    assert q.count == 0 and list(console.sent) == []


def test_users_without_sms_enqueue_nothing(ctx, make_user, console):
    user = make_user("sme")
    q = _queue()
    notify_users([user.id], "A document you asked for is ready.", "/jobs/1")
    db.session.commit()
    assert q.count == 0


class _Provider(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.headers.get("Authorization"), json.loads(body)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b'{"ok": true}')

    def log_message(self, *args):
        pass


def test_the_http_adapter_posts_to_the_configured_provider(app, ctx, make_user, monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), _Provider)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setitem(app.config, "SMS_BACKEND", "http")
        monkeypatch.setitem(app.config, "SMS_HTTP_URL", f"http://127.0.0.1:{server.server_address[1]}/send")
        monkeypatch.setitem(app.config, "SMS_HTTP_TOKEN", "secret-token")
        monkeypatch.setitem(app.config, "SMS_SIGN", "【温州经信局】")
        user = make_user("sme")
        save_preferences(user.id, in_app=True, email=True, sms=True, phone="13800138000")
        db.session.commit()
        q = _queue()
        notify_users([user.id], "A document you asked for is ready.", "/jobs/1")
        db.session.commit()
        _run(q)
    finally:
        server.shutdown()
        server.server_close()
    assert len(server.received) == 1
    auth, body = server.received[0]
    assert auth == "Bearer secret-token"
    assert body["phone"] == "13800138000" and body["sign"] == "【温州经信局】" and body["text"]


def test_users_edit_their_preferences_on_their_account(client, login, make_user):
    user = make_user("provider")
    login(user)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "Notification settings" in client.get("/account/password").get_data(as_text=True)
    page = client.get("/notifications/preferences")
    assert page.status_code == 200 and 'name="sms"' in page.get_data(as_text=True)
    refused = client.post("/notifications/preferences", data={"in_app": "y", "sms": "y", "phone": ""})
    assert refused.status_code == 422 and "mobile number" in refused.get_data(as_text=True)
    saved = client.post("/notifications/preferences", data={"in_app": "y", "sms": "y", "phone": "13800138000"})
    assert saved.status_code == 302
    pref = db.session.get(NotificationPreference, user.id)
    assert (pref.in_app, pref.email, pref.sms, pref.phone) == (True, False, True, "13800138000")
