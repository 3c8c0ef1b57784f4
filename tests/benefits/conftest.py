"""The benefits tests' world: a clock frozen on a fixed day, a programme open that day, five
enterprises and the three kinds of source imported by an officer."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from tests.factories import add_demo_lpr, build_org, build_programme, fresh_user
from voucher.benefits import services

TODAY = date(2026, 6, 15)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(datetime.fromisoformat("2026-06-15T10:00:00+08:00"), tick=False):
        yield


# --- the seeded sources -------------------------------------------------------------------------

INVOICE_HEAD = "统一社会信用代码,发票号码,机器人型号,生产厂家,国产品牌,数量,不含税金额,开票日期\n"
LOAN_HEAD = "统一社会信用代码,贷款银行,合同编号,合同日期,年利率(%),计息本金,计息开始日,计息结束日,已付利息\n"


@pytest.fixture()
def seeded(db_conn):
    add_demo_lpr()
    programme = build_programme()
    officer_user = fresh_user("officer")
    officer = officer_user.actor()
    a = build_org("enterprise", "泵阀甲", industry="pumps_valves", district="ouhai")       # pilot industry
    b = build_org("enterprise", "服装乙", industry="clothing", district="lucheng")
    c = build_org("enterprise", "失信丙", industry="clothing", district="lucheng")          # listed now
    d = build_org("enterprise", "曾失信丁", industry="electrical", district="longwan")      # listing ended
    f = build_org("enterprise", "大额戊", industry="electrical", district="longwan")        # over the cap
    invoices = [
        (a, "3300261130-00010001", "是", 2, "300000.00"),
        (a, "3300261130-00010002", "否", 1, "400000.00"),
        (a, "3300261130-00010003", "是", 3, "123456.78"),
        (b, "3300261130-00020001", "是", 1, "99999.99"),
        (b, "3300261130-00020002", "否", 1, "33333.33"),
        (c, "3300261130-00030001", "是", 1, "500000.00"),
        (d, "3300261130-00040001", "否", 1, "88888.88"),
        (f, "3300261130-00050001", "是", 10, "14000000.00"),
    ]
    text = INVOICE_HEAD + "".join(f"{o.uscc},{no},ER-{i},埃夫特,{dom},{q},{amount},2026-05-{10 + i:02d}\n"
                                  for i, (o, no, dom, q, amount) in enumerate(invoices))
    services.import_source(officer, "robot_invoice", filename="tax.csv", data=text.encode())
    loans = [
        (a, "WZ-2025-0001", "2025-06-01", "2.40", "8000000.00", "2026-01-01", "2026-04-01", "48000.00"),
        (a, "WZ-2025-0001", "2025-06-01", "2.40", "12000000.00", "2026-04-01", "2026-05-01", "10000.00"),
        (b, "WZ-2025-0002", "2025-06-01", "2.50", "1000000.00", "2026-01-01", "2026-04-01", "9000.00"),
        (b, "WZ-2025-0003", "2025-01-10", "2.45", "1234567.89", "2026-02-01", "2026-03-03", "5000.00"),
    ]
    text = LOAN_HEAD + "".join(f"{o.uscc},温州银行,{no},{cd},{r},{p},{s},{e},{paid}\n"
                               for o, no, cd, r, p, s, e, paid in loans)
    services.import_source(officer, "loan_statement", filename="bank.csv", data=text.encode())
    text = ("统一社会信用代码,列入日期,移出日期,来源\n"
            f"{c.uscc},2026-01-01,,信用中国\n{d.uscc},2025-01-01,2026-03-01,信用中国\n")
    services.import_source(officer, "blacklist", filename="list.csv", data=text.encode())
    return type("Seeded", (), dict(programme=programme, officer=officer, officer_user=officer_user, a=a, b=b, c=c, d=d, f=f))


