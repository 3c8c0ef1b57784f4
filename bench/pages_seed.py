"""What ``bench/pages_bench.py`` adds to the applications seed (``bench/applications_bench.py``) so
that every long list and the finance start page have rows in proportion to the applications: a
trial for each approved application (kick-off confirmed, every third evaluated and passed), a
public notice over most of them (ended, so most items are payable now), bank details for half the
providers, loan-discount and robot-subsidy applications (a fifth and a tenth of the applications'
count, a few approved with their reservations), and disbursements (a tenth: most rejected, some
prepared)."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import func, insert, select, update

STATUSES = ("submitted",) * 5 + ("draft", "rejected", "rejected", "withdrawn", "approved")


def seed_extra(size: int) -> dict:
    from voucher.applications.models import TrialApplication
    from voucher.auth.models import User
    from voucher.enterprises.models import Organisation
    from voucher.extensions import db
    from voucher.payments.models import Disbursement, PublicNotice, PublicNoticeItem
    from voucher.programmes.models import FundLedgerEntry, Programme
    from voucher.subsidies.models import LoanApplication, RobotApplication
    from voucher.trials.models import Trial

    rng = random.Random(15)
    now = datetime.now(timezone.utc)
    today = date.today()
    programme = db.session.scalar(select(Programme))
    officer = db.session.scalar(select(User.id).where(User.role == "officer"))
    finance = db.session.scalar(select(User.id).where(User.role == "finance"))
    providers = list(db.session.scalars(select(Organisation.id).where(Organisation.kind == "provider")
                                        .order_by(Organisation.id)))
    db.session.execute(update(Organisation).where(Organisation.id.in_(providers[::2]))
                       .values(bank_name="温州银行", bank_account="6222000011112222"))
    approved = db.session.execute(select(TrialApplication).where(TrialApplication.status == "approved")
                                  .order_by(TrialApplication.id)).scalars().all()
    trials = []
    for n, a in enumerate(approved):
        start = (a.decided_at or now).date() + timedelta(days=5)
        advance = (a.requested_amount / 2).quantize(Decimal("0.01"))
        passed = n % 3 == 0
        trials.append({"application_id": a.id, "programme_id": a.programme_id, "enterprise_id": a.enterprise_id,
                       "provider_id": a.provider_id, "solution_id": a.solution_id,
                       "status": "evaluated" if passed else "running", "period_days": 90,
                       "approved_amount": a.requested_amount, "opened_at": a.decided_at or now,
                       "start_date": start, "end_date": start + timedelta(days=90), "advance_pct": Decimal("50.00"),
                       "advance_amount": advance, "balance_amount": a.requested_amount - advance,
                       "outcome": "passed" if passed else None,
                       "evaluated_at": (a.decided_at or now) + timedelta(days=100) if passed else None})
    if trials:
        db.session.execute(insert(Trial.__table__), trials)
    notice_id = db.session.execute(insert(PublicNotice.__table__).returning(PublicNotice.__table__.c.id), [{
        "programme_id": programme.id, "title": "bench notice", "published_by": officer, "published_at": now,
        "published_on": today - timedelta(days=40), "working_days": 5, "ends_on": today - timedelta(days=30)}]
    ).scalar_one()
    names = dict(db.session.execute(select(Organisation.id, Organisation.name)).all())
    items = [{"notice_id": notice_id, "source_type": "trial_application", "source_id": a.id,
              "funding_kind": "trial_voucher", "enterprise_id": a.enterprise_id,
              "enterprise_name": names[a.enterprise_id], "amount": a.requested_amount}
             for n, a in enumerate(approved) if n % 10]
    if items:
        db.session.execute(insert(PublicNoticeItem.__table__), items)

    enterprises = list(db.session.scalars(select(Organisation.id).where(Organisation.kind == "enterprise")
                                          .order_by(Organisation.id)))
    seq = db.session.scalar(select(func.max(FundLedgerEntry.seq))) or 0
    reserved = db.session.scalar(select(FundLedgerEntry.reserved_after).order_by(FundLedgerEntry.seq.desc())
                                 .limit(1)) or Decimal("0.00")
    budget = reserved + Decimal(100000000)  # room for the subsidies' reservations
    db.session.execute(update(Programme).where(Programme.id == programme.id).values(budget=budget))
    counts = {}
    for model, kind, n_apps in ((LoanApplication, "loan_discount", size // 5),
                                (RobotApplication, "robot_subsidy", size // 10)):
        rows = []
        for n in range(n_apps):
            status = rng.choice(STATUSES)
            created = now - timedelta(days=rng.randint(0, 290), minutes=rng.randint(0, 1440))
            submitted = None if status == "draft" else created + timedelta(hours=3)
            amount = Decimal(rng.randint(1, 60) * 500)
            row = {"programme_id": programme.id, "enterprise_id": enterprises[(n * 7) % len(enterprises)],
                   "status": status, "working": [], "params": {},
                   "approved_amount": amount if status == "approved" else None,
                   "created_at": created, "updated_at": created, "submitted_at": submitted,
                   "decided_at": submitted + timedelta(days=4) if status in ("approved", "rejected") else None}
            if model is LoanApplication:
                start = created.date() - timedelta(days=200)
                row.update(bank_name="温州银行", contract_no=f"LN{n:08d}", contract_key=f"LN{n:08d}",
                           contract_date=start, principal=Decimal("1000000.00"), loan_rate=Decimal("4.35"),
                           term_start=start, term_end=start + timedelta(days=365), benchmark_rate=Decimal("3.45"),
                           benchmark_effective_from=start, rate_ceiling="0.5", computed_discount=amount)
            else:
                row.update(pilot_industry=False, industry="clothing", already_granted=Decimal("0.00"),
                           uncapped_total=amount, computed_subsidy=amount)
            rows.append(row)
        db.session.execute(insert(model.__table__), rows)
        entries = []
        for a in db.session.execute(select(model.id, model.enterprise_id, model.approved_amount)
                                    .where(model.status == "approved").order_by(model.id)).all():
            seq += 1
            reserved += a.approved_amount
            entries.append({"programme_id": programme.id, "seq": seq, "kind": "reserve", "funding_kind": kind,
                            "amount": a.approved_amount, "enterprise_id": a.enterprise_id, "provider_id": None,
                            "source_type": model.__tablename__, "source_id": a.id, "created_at": now,
                            "budget_at_entry": budget, "reserved_after": reserved,
                            "paid_after": Decimal("0.00"), "enterprise_committed_after": a.approved_amount,
                            "enterprise_cap": None, "provider_committed_after": None, "provider_cap": None,
                            "source_outstanding_after": a.approved_amount})
        if entries:
            db.session.execute(insert(FundLedgerEntry.__table__), entries)
        counts[model.__tablename__] = n_apps

    # Disbursements: a tenth of the applications' count, most rejected (history), every 20th prepared.
    disb = []
    taken = set()
    for n in range(size // 10):
        a = approved[n % len(approved)]
        live = n % 20 == 0 and a.id not in taken
        if live:
            taken.add(a.id)
        disb.append({"programme_id": a.programme_id, "funding_kind": "trial_voucher",
                     "source_type": "trial_application", "source_id": a.id, "milestone": "advance",
                     "enterprise_id": a.enterprise_id, "payee_id": a.provider_id, "payee_name": names[a.provider_id],
                     "bank_name": "温州银行", "bank_account": "6222000011112222",
                     "amount": (a.requested_amount / 2).quantize(Decimal("0.01")), "basis": {},
                     "status": "prepared" if live else "rejected", "prepared_by": officer,
                     "prepared_at": now - timedelta(minutes=n), "rejected_by": None if live else finance,
                     "rejected_at": None if live else now, "decision_reason": None if live else "bench",
                     "created_at": now, "updated_at": now})
    if disb:
        db.session.execute(insert(Disbursement.__table__), disb)
    db.session.commit()
    return {"trials": len(trials), "notice_items": len(items), "disbursements": len(disb), **counts}
