"""Scale-out: two web processes (gunicorn) and two RQ workers (the production ``flask voucher worker``)
share one PostgreSQL, one Redis and one object store (the local S3 server), as separate hosts would.

Checked across them: a session opened on web 1 works on web 2 (and a logout on web 2 ends it on web 1),
the login rate limit counts the attempts made on both, and a document asked for on web 1 is built by one
of the two workers, stored in the bucket and downloaded from web 2.  Bounded: everything is started
at once and the test gives up after its deadline (about 60 s on this machine's two busy cores)."""
from __future__ import annotations

import hashlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.conftest import PG_URL, needs_postgres

pytestmark = needs_postgres

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 55
PASSWORD = "scale-out-pass-long-enough"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Browser:
    """One person's cookies, used against any of the web processes (as behind a load balancer)."""

    def __init__(self):
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, base: str, path: str, data: dict | None = None, timeout: float = 15):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(base + path, data=body, headers={"Accept-Language": "en"})
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read()

    def csrf(self, base: str, path: str = "/login") -> str:
        status, _, body = self.request(base, path)
        match = re.search(rb'name="csrf_token" value="([^"]+)"', body)
        assert status == 200 and match, (status, body[:300])
        return match.group(1).decode()

    def login(self, base: str, email: str, password: str) -> int:
        return self.request(base, "/login", {"csrf_token": self.csrf(base), "email": email,
                                             "password": password})[0]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Processes:
    def __init__(self, logs: Path):
        self.logs = logs
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        out = (self.logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.running:
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        for _, proc in self.running:  # each in the process group it was started in
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in self.running:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def _wait(what: str, check, deadline: float, procs: Processes, every: float = 0.25):
    while True:
        procs.check_alive()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def test_two_web_processes_and_two_workers_share_sessions_limits_and_documents(committed_app, redis_url,
                                                                               s3_server, tmp_path):
    from voucher.documents.models import Document, JobRecord
    from voucher.extensions import db
    from voucher.tasks import redis_connection

    started = time.monotonic()
    deadline = started + DEADLINE_SECONDS
    bucket = s3_server.new_bucket()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOUCHER_", "FLASK_"))}
    env.update(s3_server.env)
    env.update({
        "DATABASE_URL": PG_URL, "REDIS_URL": redis_url, "SECRET_KEY": secrets.token_hex(32),
        "VOUCHER_STORAGE_BACKEND": "s3", "VOUCHER_S3_BUCKET": bucket, "VOUCHER_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "VOUCHER_S3_REGION": "us-east-1", "VOUCHER_STORAGE_DIR": str(tmp_path / "unused-storage"),
        "VOUCHER_LOGIN_RATE_LIMIT": "4 per minute", "VOUCHER_ARGON2_TIME_COST": "1",
        "VOUCHER_ARGON2_MEMORY_COST": "8", "VOUCHER_ARGON2_PARALLELISM": "1", "PYTHONUNBUFFERED": "1",
    })
    ports = [_free_port(), _free_port()]
    webs = [f"http://127.0.0.1:{p}" for p in ports]
    procs = Processes(tmp_path)
    try:
        for i, port in enumerate(ports, 1):
            procs.start(f"web{i}", [sys.executable, "-m", "gunicorn", "-k", "sync", "-w", "1", "-b",
                                    f"127.0.0.1:{port}", "wsgi:app"], env)
        workers = [procs.start(f"worker{i}", [sys.executable, "-m", "flask", "--app", "wsgi", "voucher", "worker"],
                               env) for i in (1, 2)]
        worker_names = {f"voucher-{w.pid}" for w in workers}
        # The people and the programme are written while the processes start.
        with committed_app.app_context():
            from tests.applications.conftest import build_programme
            from tests.factories import build_user

            run = secrets.token_hex(4)  # the limiter's counters in Redis outlive a run: fresh accounts each time
            officer = build_user("officer", password=PASSWORD, email=f"officer-{run}@test.example")
            target = build_user("finance", password=PASSWORD, email=f"target-{run}@test.example")  # limited
            programme = build_programme(name=f"Scale-out {run}")
            db.session.commit()
            officer_email, officer_name, target_email = officer.email, officer.name, target.email
            programme_id = programme.id
            db.session.remove()
        for base in webs:
            _wait(f"{base} to answer", lambda: _answers(base), deadline, procs)
        print(f"web processes answer after {time.monotonic() - started:.1f} s")
        for base in webs:  # every process reaches the same database, Redis and bucket
            status, _, body = Browser().request(base, "/readyz")
            assert status == 200, body

        # A session opened on web 1 is a session on web 2.
        officer_browser = Browser()
        assert officer_browser.login(webs[0], officer_email, PASSWORD) == 302
        status, _, page = officer_browser.request(webs[1], f"/documents/programme/{programme_id}")
        assert status == 200 and officer_name.encode() in page and b'action="/logout"' in page
        assert Browser().request(webs[1], f"/documents/programme/{programme_id}")[0] == 302  # not signed in

        # The login limit (4 a minute for one account) counts the attempts on both processes.
        attacker = Browser()
        tries = [attacker.login(webs[n % 2], target_email, "wrong-password") for n in range(4)]
        assert 429 not in tries, tries
        assert attacker.login(webs[0], target_email, "wrong-password") == 429
        assert attacker.login(webs[1], target_email, PASSWORD) == 429  # even with the right password now

        # A document asked for on web 1 is built by one of the workers and downloaded from web 2.
        _wait("the workers to register", lambda: {f"rq:worker:{n}" for n in worker_names} <= {
            w.decode() for w in redis_connection(redis_url).smembers("rq:workers")}, deadline, procs)
        token = officer_browser.csrf(webs[0], f"/documents/programme/{programme_id}")
        status, headers, _ = officer_browser.request(webs[0], "/documents/request", {
            "csrf_token": token, "kind": "programme_report", "subject_type": "programme",
            "subject_id": str(programme_id), "lang": "en"})
        assert status == 302, status
        job_id = int(re.search(r"/jobs/(\d+)", headers["Location"]).group(1))

        def finished():
            with committed_app.app_context():
                record = db.session.get(JobRecord, job_id)
                state = (record.status, record.result_document_id, record.rq_job_id, record.message)
                db.session.remove()
            assert state[0] != "failed", state
            return state if state[0] == "succeeded" else None

        _, document_id, rq_job_id, _ = _wait("the document job", finished, deadline, procs, every=0.5)
        print(f"document built after {time.monotonic() - started:.1f} s")
        from rq.job import Job

        built_by = Job.fetch(rq_job_id, connection=redis_connection(redis_url)).worker_name
        assert built_by in worker_names, (built_by, worker_names)

        with committed_app.app_context():
            document = db.session.get(Document, document_id)
            key, sha256 = document.stored_file.relative_path, document.sha256
            db.session.remove()
        assert s3_server.keys(bucket) == [key]
        assert not (tmp_path / "unused-storage" / key).exists()
        status, headers, data = officer_browser.request(webs[1], f"/documents/{document_id}/download")
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        assert hashlib.sha256(data).hexdigest() == sha256 and data.startswith(b"%PDF-")

        # A logout on web 2 ends the session for web 1 too (sessions live in the shared database).
        token = officer_browser.csrf(webs[1], f"/documents/programme/{programme_id}")
        assert officer_browser.request(webs[1], "/logout", {"csrf_token": token})[0] in (302, 303)
        assert officer_browser.request(webs[0], f"/documents/programme/{programme_id}")[0] == 302
    except AssertionError:
        for name, _ in procs.running:
            print(f"--- {name} ---\n{procs.tail(name)}")
        raise
    finally:
        procs.stop()
    assert time.monotonic() - started < DEADLINE_SECONDS + 15
