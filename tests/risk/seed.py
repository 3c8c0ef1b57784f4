"""A seeded data set for the risk signals: 1,000 clean applications (with the near misses a real
programme has: free-mail domains, a shared gateway address, one enterprise's claims on one loan
contract, an invoice claimed again after a withdrawal, two solutions by one enterprise) and 10
planted patterns, built in bulk straight into the tables (fixed dates, explicit ids and numbers)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert

from voucher.applications.models import TrialApplication
from voucher.auth.models import LoginSession, User
from voucher.catalogue.models import Solution
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.identifiers import invoice_key, normalise_identifier
from voucher.subsidies.models import LoanApplication, RobotApplication, RobotLineItem

BASE = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
NOW = BASE + timedelta(days=25)   # the scan's "now": the logins are within its look-back
ORG0, USER0, SOL0, APP0 = 700_000, 700_000, 700_000, 700_000
PUBLIC = ("qq.com", "163.com", "126.com", "foxmail.com", "139.com")


@dataclass
class Seeded:
    clean: set = field(default_factory=set)          # (source_type, id) of the clean applications
    enterprise_of: dict = field(default_factory=dict)
    planted: dict = field(default_factory=dict)      # pattern name -> (kind, org ids, application keys)


class _Builder:
    def __init__(self, programme_id: int):
        self.programme_id = programme_id
        self.orgs, self.users, self.sols, self.trials, self.logins = [], [], [], [], []
        self.loans, self.robots, self.lines = [], [], []
        self.next = {"org": ORG0, "user": USER0, "sol": SOL0, "trial": APP0, "loan": APP0, "robot": APP0}
        self.seeded = Seeded()

    def _id(self, what):
        self.next[what] += 1
        return self.next[what]

    def org(self, kind, name, contact, phone, account, email_domain, ip=None, at=None):
        oid = self._id("org")
        self.orgs.append(dict(id=oid, kind=kind, name=name, contact_name=contact, contact_phone=phone,
                              bank_account=account, bank_name="Bank", created_at=BASE))
        uid = self._id("user")
        self.users.append(dict(id=uid, email=f"u{uid}@{email_domain}", name=f"User {uid}", password_hash="x",
                               role="sme" if kind == "enterprise" else "provider", organisation_id=oid, active=True,
                               created_at=BASE))
        if ip:
            self.login(uid, ip, at or BASE)
        return oid, uid

    def login(self, uid, ip, at):
        self.logins.append(dict(token_hash=f"{len(self.logins):064d}", user_id=uid, created_at=at, last_seen_at=at,
                                ip=ip))

    def solution(self, provider, price="200000.00"):
        sid = self._id("sol")
        self.sols.append(dict(id=sid, provider_id=provider, title=f"Solution {sid}", category="mes",
                              target_industries=["pumps_valves"], description="d", list_price=Decimal(price) * 2,
                              trial_price=Decimal(price), trial_period_days=90, status="listed", created_at=BASE,
                              updated_at=BASE))
        return sid

    def trial(self, enterprise, solution, provider, at, amount="100000.00", clean=True, status="submitted"):
        aid = self._id("trial")
        self.trials.append(dict(id=aid, number=f"SY-2026-{aid:06d}", programme_id=self.programme_id,
                                enterprise_id=enterprise, solution_id=solution, provider_id=provider,
                                requested_amount=Decimal(amount), need_statement="n", contract_date=at.date(),
                                trial_start_date=at.date(), status=status, submitted_at=at,
                                idempotency_token=f"risk-{aid}", created_at=at, updated_at=at))
        return self._app("trial_application", aid, enterprise, clean)

    def loan(self, enterprise, contract, at, clean=True):
        aid = self._id("loan")
        self.loans.append(dict(id=aid, number=f"TX-2026-{aid:06d}", programme_id=self.programme_id,
                               enterprise_id=enterprise, status="submitted", working=[], params={}, bank_name="Bank",
                               contract_no=contract, contract_key=normalise_identifier(contract), contract_date=date(2026, 1, 5),
                               principal=Decimal("1000000.00"), loan_rate=Decimal("4.00"), term_start=date(2026, 1, 5),
                               term_end=date(2027, 1, 5), benchmark_rate=Decimal("3.10"),
                               benchmark_effective_from=date(2025, 12, 20), rate_ceiling="4.65",
                               computed_discount=Decimal("10000.00"), submitted_at=at, created_at=at, updated_at=at))
        return self._app("loan_application", aid, enterprise, clean)

    def robot(self, enterprise, invoice, at, clean=True, status="submitted", keyed=True):
        aid = self._id("robot")
        self.robots.append(dict(id=aid, number=f"JQ-2026-{aid:06d}", programme_id=self.programme_id,
                                enterprise_id=enterprise, status=status, working=[], params={}, pilot_industry=False,
                                industry="pumps_valves", already_granted=Decimal(0), uncapped_total=Decimal("30000.00"),
                                computed_subsidy=Decimal("30000.00"), cap_applied=False, submitted_at=at,
                                created_at=at, updated_at=at))
        self.lines.append(dict(application_id=aid, position=1, model="R-1", manufacturer="M", domestic=True, quantity=1,
                               unit_price_excl_vat=Decimal("200000.00"), invoice_no=invoice,
                               invoice_key=invoice_key(invoice) if keyed else None, invoice_date=date(2026, 2, 1),
                               rate=Decimal("15.00"), eligible_cost=Decimal("200000.00"), subsidy=Decimal("30000.00"),
                               granted=Decimal("30000.00")))
        return self._app("robot_application", aid, enterprise, clean)

    def _app(self, source_type, aid, enterprise, clean):
        key = (source_type, aid)
        self.seeded.enterprise_of[key] = enterprise
        if clean:
            self.seeded.clean.add(key)
        return key

    def flush(self):
        for model, rows in ((Organisation, self.orgs), (User, self.users), (Solution, self.sols),
                            (TrialApplication, self.trials), (LoginSession, self.logins), (LoanApplication, self.loans),
                            (RobotApplication, self.robots), (RobotLineItem, self.lines)):
            if rows:
                db.session.execute(insert(model), rows)
        db.session.flush()


def seed(programme_id: int, clean_trials: int = 900, clean_loans: int = 50, clean_robots: int = 50) -> Seeded:
    rng = random.Random(20)
    b = _Builder(programme_id)
    providers, solutions = [], []
    for j in range(40):
        pid, puid = b.org("provider", f"Provider {j}", f"服务商联系人{j:03d}", f"0577-6600{j:04d}", f"6228 4800 {j:08d}",
                          f"prov{j}.com", ip=f"172.16.{j}.1", at=BASE + timedelta(hours=rng.randint(0, 600)))
        providers.append(pid)
        solutions += [(b.solution(pid), pid), (b.solution(pid), pid)]
    gateway = "202.96.134.133"   # a shared gateway: many enterprises log in through it
    n_ent = clean_trials - 20
    ents = []
    for i in range(n_ent):
        domain = PUBLIC[i % len(PUBLIC)] if i % 5 < 3 else f"corp{i}.cn"
        ip = gateway if i % 30 == 0 else f"10.{i // 250}.{i % 250}.{rng.randint(1, 250)}"
        at = BASE + timedelta(hours=rng.randint(0, 600))
        eid, euid = b.org("enterprise", f"Enterprise {i}", f"联系人{i:04d}", f"1390577{i:04d}", f"6222 0200 {i:08d}",
                          domain, ip=ip, at=at)
        ents.append(eid)
        sol, prov = solutions[rng.randrange(len(solutions))]
        b.trial(eid, sol, prov, at)
        if i < 20:   # a second application, for another solution: not a split
            sol2, prov2 = next(s for s in solutions if s[0] != sol)
            b.trial(eid, sol2, prov2, at + timedelta(days=3))
        if i % 30 == 0:   # the gateway also carries a provider's login at the same hour
            b.login(USER0 + 1, gateway, at + timedelta(minutes=10))
    for i in range(clean_loans - 2):
        b.loan(ents[i], f"JK-2026-{i:05d}", BASE + timedelta(days=i % 20))
    b.loan(ents[100], "JK-2026-77777", BASE + timedelta(days=40))   # one contract, two claims, one enterprise
    b.loan(ents[100], "jk 2026 77777".replace(" ", "-"), BASE + timedelta(days=70))
    for i in range(clean_robots - 2):
        b.robot(ents[200 + i], f"3300261109-{i:08d}", BASE + timedelta(days=i % 20))
    b.robot(ents[300], "3300261109-99999999", BASE, status="withdrawn", keyed=False)   # given back, claimed again
    b.robot(ents[300], "3300261109-99999999", BASE + timedelta(days=9))

    # --- the 10 planted patterns (organisations of their own) ----------------------------------
    t = BASE + timedelta(days=5)
    planted = b.seeded.planted
    sol, prov = solutions[0]
    a, _ = b.org("enterprise", "P1a", "甲一", "13800000101", "6222 9999 0000 0101", "p1a.cn")
    c, _ = b.org("enterprise", "P1b", "甲二", "13800000102", "6222999900000101", "p1b.cn")
    planted["bank account shared by two enterprises"] = ("shared_bank_account", {a, c}, {b.trial(a, sol, prov, t, clean=False),
                                                                                      b.trial(c, sol, prov, t, clean=False)})
    pp, _ = b.org("provider", "PP2", "乙服务", "+86 138 0000 0201", "6228480000000201", "pp2.com")
    s2 = b.solution(pp)
    e, _ = b.org("enterprise", "P2", "乙企业", "138-0000-0201", "6222999900000201", "p2.cn")
    planted["phone shared by an enterprise and its provider"] = ("shared_phone", {e, pp}, {b.trial(e, s2, pp, t, clean=False)})
    a, _ = b.org("enterprise", "P3a", "丙一", "13800000301", "6222999900000301", "Group-Three.cn")
    c, _ = b.org("enterprise", "P3b", "丙二", "13800000302", "6222999900000302", "group-three.cn")
    planted["e-mail domain shared by two enterprises"] = ("shared_email_domain", {a, c},
                                                          {b.trial(a, sol, prov, t, clean=False), b.trial(c, sol, prov, t, clean=False)})
    pp, _ = b.org("provider", "PP4", "王 小明", "13800000401", "6228480000000401", "pp4.com")
    s4 = b.solution(pp)
    e, _ = b.org("enterprise", "P4", "王小明", "13800000402", "6222999900000401", "p4.cn")
    planted["representative shared by an enterprise and its provider"] = ("same_representative", {e, pp},
                                                                          {b.trial(e, s4, pp, t, clean=False)})
    pp, ppu = b.org("provider", "PP5", "丁服务", "13800000501", "6228480000000501", "pp5.com")
    s5 = b.solution(pp)
    e, eu = b.org("enterprise", "P5", "丁企业", "13800000502", "6222999900000501", "p5.cn")
    b.login(eu, "61.164.5.5", t - timedelta(minutes=30))
    b.login(ppu, "61.164.5.5", t - timedelta(minutes=5))
    planted["SME and its provider from one IP address"] = ("same_ip", {e, pp}, {b.trial(e, s5, pp, t, clean=False)})
    e, _ = b.org("enterprise", "P6", "戊企业", "13800000601", "6222999900000601", "p6.cn")
    planted["one enterprise splitting its applications"] = ("split_applications", {e}, {
        b.trial(e, sol, prov, t + timedelta(days=d), amount="90000.00", clean=False) for d in (0, 4, 9)})
    a, _ = b.org("enterprise", "P7a", "己代表", "13800000701", "6222999900000701", "p7a.cn")
    c, _ = b.org("enterprise", "P7b", " 己代表 ", "13800000702", "6222999900000702", "p7b.cn")
    planted["enterprises sharing a representative splitting"] = ("split_applications", {a, c}, {
        b.trial(a, sol, prov, t, clean=False), b.trial(c, sol, prov, t + timedelta(days=6), clean=False)})
    e, _ = b.org("enterprise", "P8", "庚企业", "13800000801", "6222999900000801", "p8.cn")
    s8, _ = solutions[1]
    planted["price above the catalogue's price"] = ("price_above_list", {e}, {
        b.trial(e, s8, solutions[1][1], t, amount="250000.00", clean=False)})
    a, _ = b.org("enterprise", "P9a", "辛一", "13800000901", "6222999900000901", "p9a.cn")
    c, _ = b.org("enterprise", "P9b", "辛二", "13800000902", "6222999900000902", "p9b.cn")
    planted["invoice claimed by two enterprises"] = ("duplicate_invoice", {a, c}, {
        b.robot(a, "3300261109-55550001", t, clean=False), b.robot(c, "3300 261109—55550001", t, clean=False, keyed=False)})
    a, _ = b.org("enterprise", "P10a", "壬一", "13800001001", "6222999900001001", "p10a.cn")
    c, _ = b.org("enterprise", "P10b", "壬二", "13800001002", "6222999900001002", "p10b.cn")
    planted["loan contract claimed by two enterprises"] = ("duplicate_contract", {a, c}, {
        b.loan(a, "JK-2026-88888", t, clean=False), b.loan(c, "jk-2026-88888", t, clean=False)})
    b.flush()
    return b.seeded
