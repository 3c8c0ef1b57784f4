"""E-mail copies of notifications: off by default; with a mail server configured, the
notifications of a committed transaction are mailed by a background job in the recipient's
language (a rolled-back one mails nothing).  The SMTP server here is a small real one on a socket."""
from __future__ import annotations

import email
import email.policy
import socketserver
import threading

import pytest
from rq import SimpleWorker

from voucher.extensions import db
from voucher.notifications.services import notify_users
from voucher.tasks import AppJob, queue


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self):
        self.reply("220 fake.smtp ready")
        envelope: dict = {"to": []}
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-fake.smtp")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 fake.smtp")
            elif verb == "MAIL":
                envelope = {"from": command[10:].strip("<> "), "to": []}
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(command[8:].strip("<> "))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b".\n", b""):
                        break
                    chunks.append(data[1:] if data.startswith(b"..") else data)
                self.server.received.append({**envelope, "data": b"".join(chunks)})
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP
                self.reply("250 OK")


@pytest.fixture()
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def mail_on(app, smtp_server, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp_server.server_address[1])
    monkeypatch.setitem(app.config, "MAIL_SENDER", "voucher@bureau.example")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://voucher.example")
    return smtp_server


def _mail_queue():
    q = queue("voucher-default")
    q.empty()
    return q


def _run_jobs(q) -> None:
    SimpleWorker([q], connection=q.connection, job_class=AppJob).work(burst=True)


def test_mail_is_off_by_default(app, ctx, make_user):
    assert app.config["MAIL_SERVER"] is None
    q = _mail_queue()
    notify_users([make_user("sme").id], "Your trial-voucher application for %(solution)s was approved.", "/x",
                 solution="MES")
    db.session.commit()
    assert q.count == 0


def test_committed_notifications_are_mailed_by_a_background_job_in_the_users_language(mail_on, ctx, make_user):
    zh_user = make_user("sme")
    en_user = make_user("provider")
    en_user.locale = "en"
    q = _mail_queue()
    notify_users([zh_user.id], "A document you asked for is ready.", "/jobs/7")
    notify_users([en_user.id], "Solution %(title)s is waiting for screening.", "/catalogue/screening/3",
                 title="轻量化MES")
    assert q.count == 0  # nothing leaves before the commit
    db.session.commit()
    assert q.count == 1  # one job for the transaction's notifications
    _run_jobs(q)
    received = {m["to"][0]: email.message_from_bytes(m["data"], policy=email.policy.default)
                for m in mail_on.received}
    assert set(received) == {zh_user.email, en_user.email}
    zh = received[zh_user.email]
    assert zh["Subject"] == "【{}】{}".format(_zh("SME Digital Vouchers"), _zh("A document you asked for is ready."))
    assert "https://voucher.example/jobs/7" in zh.get_content()
    en = received[en_user.email]
    assert en["Subject"].startswith("[SME Digital Vouchers] Solution 轻量化MES is waiting for screening.")
    assert "Open: https://voucher.example/catalogue/screening/3" in en.get_content()
    assert en["From"] == "voucher@bureau.example"


def test_a_rolled_back_transaction_mails_nothing(mail_on, ctx, make_user):
    user = make_user("sme")
    db.session.commit()
    q = _mail_queue()
    notify_users([user.id], "A document you asked for is ready.", "/jobs/1")
    db.session.rollback()
    db.session.commit()
    assert q.count == 0 and mail_on.received == []


def test_a_request_that_commits_mails_its_notifications(as_demo, mail_on):
    """Through the web: the SME submits its draft; the officers' notification is mailed after the
    request commits (a deactivated officer gets nothing)."""
    from sqlalchemy import select

    from voucher.applications.models import TrialApplication

    client = as_demo("sme")
    draft = db.session.scalar(select(TrialApplication).where(
        TrialApplication.idempotency_token == "demo-app-l-draft-0012"))
    q = _mail_queue()
    response = client.post(f"/applications/{draft.id}/submit", data={})
    assert response.status_code == 303
    # one mail job for the request's notifications (and the submission's risk scan, also after the commit)
    assert sorted(job.func_name.rsplit(".", 1)[1] for job in q.jobs) == ["scan_submitted", "send_notification_mails"], \
        [job.func_name for job in q.jobs]
    _run_jobs(q)
    assert [m["to"] for m in mail_on.received] == [["officer@demo.test"]]
    message = email.message_from_bytes(mail_on.received[0]["data"], policy=email.policy.default)
    assert f"https://voucher.example/applications/{draft.id}" in message.get_content()


def _zh(msgid: str) -> str:
    from voucher.i18n import merged_catalog

    return merged_catalog().get(msgid).string
