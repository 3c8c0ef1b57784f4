"""The demo's benefits without applying (免申即享): one import of each kind of source, made by the demo
officer through :func:`voucher.benefits.services.import_source`, then the match run once, so the demo
SME finds an open candidate on its start page and the officer sees candidates (open ones and one
excluded by the blacklist) with the figures by district and industry.

Dates are story dates (``voucher.demo_activity``) moved like the rest of the demo, all before the
day it is loaded.  Idempotent: the imports are keyed by their file names; once present nothing runs
again (the match included, so a later load adds nothing).  Invoice and contract numbers are the
demo's own (no other demo application uses them: the risk scan finds nothing planted here).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from voucher.auth.models import User
from voucher.benefits import services
from voucher.benefits.matching import match_candidates
from voucher.benefits.models import BenefitSource
from voucher.extensions import db

FILES = {"robot_invoice": "演示-税务机器人发票.csv", "loan_statement": "演示-银行贷款付息明细.csv",
         "blacklist": "演示-严重失信主体名单.csv"}
INVOICE_HEAD = "统一社会信用代码,发票号码,机器人型号,生产厂家,国产品牌,数量,不含税金额,开票日期\n"
LOAN_HEAD = "统一社会信用代码,贷款银行,合同编号,合同日期,年利率(%),计息本金,计息开始日,计息结束日,已付利息\n"
BLACKLIST_HEAD = "统一社会信用代码,列入日期,移出日期,来源\n"

# enterprise index (demo.ENTERPRISES), invoice number, model, manufacturer, domestic, quantity,
# amount excluding VAT, story date.  Index 0 is the demo SME's enterprise (a robot and a loan candidate:
# the browser tests confirm one each); 7 is the listed one.
INVOICES = [
    (0, "3300261130-20260001", "ER50-C20", "埃夫特智能装备", "是", 2, "360000.00", (2026, 11, 3)),
    (2, "3300261130-20260002", "GR-300", "新松机器人", "是", 1, "240000.00", (2026, 10, 20)),
    (4, "3300261130-20260003", "IRB 1300", "ABB", "否", 1, "180000.00", (2026, 10, 22)),
    (7, "3300261130-20260004", "RH-20", "埃斯顿", "是", 1, "150000.00", (2026, 10, 26)),
]
# enterprise index, lender, contract, contract date, rate %, principal, period start, end, interest paid
LOANS = [
    (0, "温州银行龙湾支行", "WZB-2026-LW-0608", (2026, 6, 8), "2.30", "2000000.00", (2026, 7, 1), (2026, 10, 1),
     "11755.56"),
    (5, "温州银行永嘉支行", "WZB-2026-YJ-0512", (2026, 5, 12), "2.40", "3000000.00", (2026, 6, 1), (2026, 9, 1),
     "18400.00"),
    (5, "温州银行永嘉支行", "WZB-2026-YJ-0512", (2026, 5, 12), "2.40", "3000000.00", (2026, 9, 1), (2026, 10, 1),
     "6000.00"),
    (8, "浙江龙港农村商业银行", "LGRCB-2026-0088", (2026, 3, 16), "2.35", "5000000.00", (2026, 7, 1), (2026, 10, 1),
     "30027.78"),
]
BLACKLISTED = [(7, (2026, 9, 1), "信用中国")]


def seed_benefits(enterprises, counts: dict) -> None:
    """Import the three demo sources as the demo officer and run the match once (skipped once done)."""
    if db.session.scalar(select(BenefitSource.id).where(BenefitSource.filename.in_(list(FILES.values()))).limit(1)):
        return
    from voucher.demo_activity import demo_shift
    from voucher.subsidies.common import local_today

    officer = db.session.scalar(select(User).where(User.email == "officer@demo.test"))
    if officer is None:
        return
    actor = officer.actor()
    shift = demo_shift()

    def on(parts: tuple[int, int, int]) -> str:
        return (date(*parts) + shift).isoformat()

    uscc = [org.uscc for org in enterprises]
    files = {
        "robot_invoice": INVOICE_HEAD + "".join(
            f"{uscc[i]},{no},{model},{maker},{dom},{qty},{amount},{on(day)}\n"
            for i, no, model, maker, dom, qty, amount, day in INVOICES),
        "loan_statement": LOAN_HEAD + "".join(
            f"{uscc[i]},{lender},{contract},{on(cdate)},{rate},{principal},{on(start)},{on(end)},{paid}\n"
            for i, lender, contract, cdate, rate, principal, start, end, paid in LOANS),
        "blacklist": BLACKLIST_HEAD + "".join(f"{uscc[i]},{on(since)},,{by}\n" for i, since, by in BLACKLISTED),
    }
    for kind, text in files.items():
        services.import_source(actor, kind, filename=FILES[kind], data=text.encode("utf-8"))
        counts["benefit_sources"] = counts.get("benefit_sources", 0) + 1
    found = match_candidates(actor, local_today())
    for key, n in found.items():
        if n:
            counts[f"benefit_candidates_{key}"] = counts.get(f"benefit_candidates_{key}", 0) + n
