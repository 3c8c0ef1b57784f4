"""The one after-commit mechanism: registered when the app is created, so the first request of a
fresh process that enqueues a job answers normally (no "deque mutated during iteration" 500
after its commit), and a repeated request for the same document returns the job it already made."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from voucher.config import ROOT

# Runs in a fresh interpreter, as the first request of a gunicorn worker does: nothing but the
# app factory has been imported when the request enqueues its job.
FIRST_REQUEST = textwrap.dedent('''
    import json, sys
    from voucher import create_app
    from voucher.config import TestConfig

    db_path, storage, redis_url = sys.argv[1:4]
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}", "STORAGE_DIR": storage,
                      "REDIS_URL": redis_url, "PROPAGATE_EXCEPTIONS": False})  # a 500, as gunicorn answers
    from voucher.extensions import db
    from tests.factories import build_user
    from voucher.documents.builders import register_builder

    register_builder("payment_order", lambda sid, lang, issue: ("p.pdf", b"%PDF-1.4 x", "application/pdf"))
    with app.app_context():
        db.create_all()
        build_user("finance", password="first-request-password", email="finance@first.test")
        db.session.commit()
    tasks_imported = "voucher.tasks" in sys.modules
    client = app.test_client()
    login = client.post("/login", data={"email": "finance@first.test", "password": "first-request-password"})
    form = {"kind": "payment_order", "subject_type": "disbursement", "subject_id": "1", "lang": "zh"}

    def post():
        try:
            return client.post("/documents/request", data=form)
        except Exception as exc:  # what the test client raises where gunicorn answers 500
            print("request failed:", repr(exc), file=sys.stderr)
            return app.response_class(status=500)

    first = post()
    again = post()
    from sqlalchemy import func, select
    from voucher.documents.models import JobRecord
    with app.app_context():
        jobs = db.session.scalar(select(func.count()).select_from(JobRecord))
    print("tasks imported before the request:", tasks_imported, file=sys.stderr)
    print(json.dumps({"login": login.status_code, "first": first.status_code, "again": again.status_code,
                      "first_to": first.headers.get("Location"), "again_to": again.headers.get("Location"),
                      "jobs": jobs}))
''')


def test_the_first_request_of_a_fresh_process_that_enqueues_a_job_answers_normally(tmp_path, redis_url):
    from redis import Redis

    from voucher.documents.jobs import DOCUMENT_QUEUE

    conn = Redis.from_url(redis_url)
    conn.delete(f"rq:queue:{DOCUMENT_QUEUE}")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOUCHER_") and k not in ("DATABASE_URL",
                                                                                            "REDIS_URL")}
    done = subprocess.run([sys.executable, "-c", FIRST_REQUEST, str(tmp_path / "first.db"), str(tmp_path / "files"),
                           redis_url], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert "deque mutated" not in done.stderr
    assert outcome["login"] == 302
    assert outcome["first"] == 302 and outcome["first_to"].startswith("/jobs/")
    # Asked again while the job is queued: the same job, not a second one (so no second version).
    assert outcome["again"] == 302 and outcome["again_to"] == outcome["first_to"]
    assert outcome["jobs"] == 1
    assert conn.llen(f"rq:queue:{DOCUMENT_QUEUE}") == 1
    conn.delete(f"rq:queue:{DOCUMENT_QUEUE}")
