"""Two scans storing the same new pattern at the same instant keep one signal (PostgreSQL: real
commits; the second insert waits on the UNIQUE key, fails in its savepoint and is skipped)."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from tests.conftest import needs_postgres
from tests.factories import build_programme
from tests.risk.seed import BASE, _Builder
from voucher.extensions import db
from voucher.risk import services
from voucher.risk.models import RiskSignal

pytestmark = needs_postgres


def test_two_scans_at_once_store_each_pattern_once(committed_app):
    app = committed_app
    with app.app_context():
        b = _Builder(build_programme().id)
        a, _ = b.org("enterprise", "Race A", "甲", "13800009901", "6222 0000 9999 0001", "race-a.cn")
        c, _ = b.org("enterprise", "Race B", "乙", "13800009902", "6222000099990001", "race-b.cn")
        sol = b.solution(b.org("provider", "Race P", "丙", "13800009903", "6228000099990003", "race-p.cn")[0])
        b.trial(a, sol, None, BASE)
        b.trial(c, sol, None, BASE + timedelta(days=60))
        for row in b.trials:
            row["provider_id"] = b.sols[0]["provider_id"]
        b.flush()
        db.session.commit()
    barrier = threading.Barrier(2)
    stored: list[int] = []
    errors: list[BaseException] = []

    def scan() -> None:
        try:
            with app.app_context():
                barrier.wait()
                stored.append(len(services.scan(now=datetime(2026, 3, 10, tzinfo=UTC))))
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with app.app_context():
        kinds = db.session.scalars(select(RiskSignal.kind)).all()
        assert kinds == ["shared_bank_account"]
        assert db.session.scalar(select(func.count()).select_from(RiskSignal)) == 1
    assert sorted(stored) == [0, 1]   # the loser found it stored, or lost the insert race and skipped it
