"""Dates in documents are Beijing dates: an approval at 20:00 UTC is on the next day in Beijing
(04:00), and the dossier dates the reservation that day, as its chronology times the approval."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pypdf
import time_machine

from tests.payments.conftest import World
from voucher.deadlines import local_date
from voucher.documents.builders import IssueContext
from voucher.trials.dossier import build_audit_dossier

EVENING_UTC = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)  # 2026-11-20 04:00 in Beijing


def test_the_local_date_of_a_utc_timestamp_is_the_beijing_date():
    assert local_date(EVENING_UTC) == date(2026, 11, 20)
    assert local_date(EVENING_UTC.replace(tzinfo=None)) == date(2026, 11, 20)  # naive: taken as UTC
    assert local_date(datetime(2026, 11, 19, 15, 59, tzinfo=UTC)) == date(2026, 11, 19)
    assert local_date(date(2026, 11, 19)) == date(2026, 11, 19)


def test_the_dossier_dates_a_reservation_made_at_20_utc_on_the_beijing_day(ctx):
    with time_machine.travel(EVENING_UTC, tick=False):
        world = World()
        trial = world.trial("100000.00")  # approved now: the reservation is made at 20:00 UTC
        issue = IssueContext(verification_code="ABCDEFGHJK", verification_url="https://x/verify/ABCDEFGHJK",
                             issued_at=EVENING_UTC, version=1, job_id=0)
        _name, data, _type, _label = build_audit_dossier(trial.application_id, "en", issue)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    assert "on 2026-11-20" in text
    assert "2026-11-19" not in text
    assert "2026-11-20 04:00" in text  # the approval in the chronology, the same Beijing day
