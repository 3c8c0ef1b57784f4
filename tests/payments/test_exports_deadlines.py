"""The payment lists export what they show (CSV and Excel, with the page's filters; read back here)
and the payment queues show the payment deadline in Chinese working days, counted from the day an
item became payable (its notice period over), never for an item its notice or an objection holds."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.dashboard.conftest import read_csv, read_xlsx, table_rows
from tests.factories import fresh_user
from voucher.payments import queries
from voucher.payments.views import disbursement_deadline
from voucher.workdays import add_working_days

TODAY = date(2026, 11, 20)  # the conftest's clock (Asia/Shanghai), a Friday


def rows_of(client, url: str, fmt: str = "csv") -> tuple[list, list[list]]:
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}format={fmt}")
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response)
    return rows[0], rows[1:]


def column(headers, rows, name) -> list:
    i = headers.index(name)
    return [r[i] for r in rows]


@pytest.fixture()
def queue_world(world):
    """Payable now: a loan discount and a trial advance (notice ended); held: a robot subsidy approved
    after the notice was published (never announced)."""
    world.loan_app = world.loan()
    world.trial_ = world.kick_off(world.trial("100000.00"))
    world.announce()
    world.robot_app = world.robot()
    return world


def test_the_queue_export_has_the_pages_rows_with_deadlines_and_holds(queue_world, login_as, app):
    w = queue_world
    client = login_as(w.finance_a)
    page = table_rows(client.get(f"/payments/queue?programme_id={w.programme.id}").get_data(as_text=True))
    headers, rows = rows_of(client, f"/payments/queue?programme_id={w.programme.id}")
    assert len(rows) == len(page) == 3
    grants = column(headers, rows, "Grant")
    assert all(shown[0].startswith(grant) for shown, grant in zip(page, grants))  # same rows, same order
    assert sorted(Decimal(a) for a in column(headers, rows, "Amount")) == sorted(
        [Decimal("40000.00"), Decimal("30000.00"), Decimal("100000.00")])  # loan, 30% advance, robot
    by_grant = {g: r for g, r in zip(column(headers, rows, "Grant"), rows)}
    loan = by_grant[f"Loan interest discount application no. {w.loan_app.number}"]
    robot = by_grant[f"Robot purchase subsidy application no. {w.robot_app.number}"]
    advance = by_grant[f"Trial-voucher application no. {w.trial_.application.number}"]
    due = add_working_days(TODAY, app.config["PAYMENT_DEADLINE_WORKING_DAYS"])
    for row in (loan, advance):
        assert row[headers.index("Can it be paid?")] == "Payable now"
        assert row[headers.index("Payable since")] == TODAY.isoformat()
        assert row[headers.index("Payment deadline")] == (
            f"due in {app.config['PAYMENT_DEADLINE_WORKING_DAYS']} working days ({due.isoformat()})")
    assert robot[headers.index("Can it be paid?")].startswith("Not yet on a public notice")
    assert robot[headers.index("Payable since")] == "" and robot[headers.index("Payment deadline")] == ""
    # Payable items first, most urgent first; the held one last — on the page and in the file alike.
    assert rows[-1] is robot
    assert [r[0] for r in page][-1].startswith(f"Robot purchase subsidy application no. {w.robot_app.number}")
    # The page shows the same deadline as a badge.
    html = client.get(f"/payments/queue?programme_id={w.programme.id}").get_data(as_text=True)
    assert html.count(f"Due in {app.config['PAYMENT_DEADLINE_WORKING_DAYS']} working days") == 2


def test_the_queue_export_keeps_the_filters_and_excel_matches_csv(queue_world, login_as):
    w = queue_world
    client = login_as(w.officer)
    headers, rows = rows_of(client, f"/payments/queue?programme_id={w.programme.id}&kind=loan_discount")
    assert column(headers, rows, "Grant") == [f"Loan interest discount application no. {w.loan_app.number}"]
    assert [Decimal(v) for v in column(headers, rows, "Amount")] == [Decimal("40000.00")]
    headers, rows = rows_of(client, f"/payments/queue?programme_id={w.programme.id}&show=held")
    assert column(headers, rows, "Grant") == [f"Robot purchase subsidy application no. {w.robot_app.number}"]
    csv_headers, csv_rows = rows_of(client, f"/payments/queue?programme_id={w.programme.id}")
    xlsx_headers, xlsx_rows = rows_of(client, f"/payments/queue?programme_id={w.programme.id}", "xlsx")
    assert xlsx_headers == csv_headers and len(xlsx_rows) == len(csv_rows) == 3
    amount = csv_headers.index("Amount")
    for c, x in zip(csv_rows, xlsx_rows):
        assert x[0] == c[0]
        assert Decimal(str(x[amount])) == Decimal(c[amount])


def test_the_deadline_runs_from_the_end_of_the_notice_and_goes_overdue(world):
    loan = world.loan()
    notice = world.announce(on=TODAY)  # published today: the period runs on past today
    item = queries.payables(programme_id=world.programme.id)[0]
    assert item.hold == "notice_running" and item.deadline() is None
    assert item.payable_since == notice.ends_on + timedelta(days=1)
    # Once the period is over the item is payable and its deadline counts from the day after the notice.
    later = notice.ends_on + timedelta(days=1)
    item = queries.payables(programme_id=world.programme.id, today=later)[0]
    assert item.hold is None and item.source_id == loan.id
    d = item.deadline(later)
    assert d.start == later and d.due == add_working_days(later, 5) and d.remaining == 5
    d = item.deadline(add_working_days(later, 7))
    assert d.overdue == 2 and d.is_overdue


def test_disbursements_carry_their_deadline_until_paid_and_export_it(queue_world, login_as, app):
    w = queue_world
    prepared = w.prepare("loan_application", w.loan_app.id, "full")
    assert prepared.basis["payable_since"] == TODAY.isoformat()
    paid = w.approved("trial_application", w.trial_.application_id, "advance")
    w.batch(paid)
    w.pay(paid, ref="BANK-EXPORT-1")
    assert disbursement_deadline(paid) is None
    assert disbursement_deadline(prepared).due == add_working_days(TODAY, app.config["PAYMENT_DEADLINE_WORKING_DAYS"])

    client = login_as(w.finance_b)
    url = f"/payments/disbursements?programme_id={w.programme.id}"
    page = table_rows(client.get(url).get_data(as_text=True))
    headers, rows = rows_of(client, url)
    assert column(headers, rows, "Reference") == [r[0] for r in page] == [paid.reference, prepared.reference]  # newest first
    deadline = dict(zip(column(headers, rows, "Reference"), column(headers, rows, "Payment deadline")))
    assert deadline[prepared.reference].startswith("due in ") and deadline[paid.reference] == ""
    assert page[1][-1].startswith("Due in") and page[0][-1] == ""
    assert dict(zip(column(headers, rows, "Reference"), column(headers, rows, "Bank reference")))[paid.reference] \
        == "BANK-EXPORT-1"
    headers, rows = rows_of(client, f"{url}&status=paid")
    assert column(headers, rows, "Reference") == [paid.reference]
    headers, rows = rows_of(client, f"/payments/disbursements?q={paid.reference}")
    assert column(headers, rows, "Reference") == [paid.reference]


def test_batches_and_batch_lines_export_with_their_filters(queue_world, login_as):
    w = queue_world
    a = w.approved("loan_application", w.loan_app.id, "full")
    b = w.approved("trial_application", w.trial_.application_id, "advance")
    batch = w.batch(a, b)
    w.pay(a, ref="BANK-A")
    w.fail(b, reason="Account closed")
    client = login_as(fresh_user("auditor"))
    headers, rows = rows_of(client, "/payments/batches")
    mine = [r for r in rows if r[0] == batch.reference]
    assert len(mine) == 1
    row = mine[0]
    assert (row[headers.index("Lines")], Decimal(row[headers.index("Total")]), row[headers.index("Paid")],
            row[headers.index("Failed")]) == ("2", Decimal("70000.00"), "1", "1")
    page = table_rows(client.get(f"/payments/batches/{batch.id}").get_data(as_text=True))
    headers, rows = rows_of(client, f"/payments/batches/{batch.id}")
    assert column(headers, rows, "Reference") == [r[0] for r in page] == [a.reference, b.reference]
    assert column(headers, rows, "Bank reference") == ["BANK-A", ""]
    assert column(headers, rows, "Reason") == ["", "Account closed"]
    headers, rows = rows_of(client, f"/payments/batches/{batch.id}?status=failed", "xlsx")
    assert [r[0] for r in rows] == [b.reference]


def test_a_payee_exports_only_its_own_payments(queue_world, login_as):
    w = queue_world
    paid = w.approved("loan_application", w.loan_app.id, "full")
    w.batch(paid)
    w.pay(paid)
    w.prepare("trial_application", w.trial_.application_id, "advance")  # to the provider
    sme = fresh_user("sme", paid.payee)
    client = login_as(sme)
    headers, rows = rows_of(client, "/payments/mine")
    assert column(headers, rows, "Reference") == [paid.reference]
    assert column(headers, rows, "Status") == ["Paid"] and column(headers, rows, "Paid on")[0]
    client = login_as(w.provider)
    headers, rows = rows_of(client, "/payments/mine")
    assert column(headers, rows, "Status") == ["Being prepared by the bureau's finance office"]
    for path in ("/payments/queue", "/payments/disbursements", "/payments/batches", "/payments/notices"):
        assert client.get(f"{path}?format=csv").status_code == 403, path


def test_notices_export_for_officers_and_the_public(queue_world, login_as, client):
    w = queue_world
    notice = queries.notices_page(programme_id=w.programme.id, page=1, per_page=5).items[0]
    officer = login_as(w.officer)
    headers, rows = rows_of(officer, f"/payments/notices?programme_id={w.programme.id}")
    assert column(headers, rows, "No.") == [str(notice.id)]
    assert column(headers, rows, "Grants") == [str(len(notice.items))] == ["2"]
    headers, rows = rows_of(officer, f"/payments/notices/{notice.id}")
    assert sorted(Decimal(v) for v in column(headers, rows, "Amount")) == sorted(i.amount for i in notice.items)
    assert set(column(headers, rows, "Payment")) == {"payable"}
    officer.post("/logout")
    officer.post("/lang", data={"lang": "en", "next": "/"})
    page = table_rows(client.get(f"/notices/{notice.id}").get_data(as_text=True))
    headers, rows = rows_of(client, f"/notices/{notice.id}")
    assert headers == ["#", "Enterprise", "Kind of support", "Amount"]
    assert [r[1] for r in rows] == [r[1] for r in page] == [i.enterprise_name for i in notice.items]
    headers, rows = rows_of(client, "/notices", "xlsx")
    assert notice.title in [r[0] for r in rows]


def test_the_disbursement_page_shows_its_deadline_and_a_readable_history(queue_world, login_as, app):
    w = queue_world
    d = w.approved("loan_application", w.loan_app.id, "full")
    client = login_as(w.finance_a)
    html = client.get(f"/payments/disbursements/{d.id}").get_data(as_text=True)
    days = app.config["PAYMENT_DEADLINE_WORKING_DAYS"]
    assert f"Due in {days} working days" in html and f"payable since {TODAY.isoformat()}" in html
    assert "Payment prepared" in html and "disbursement.approve" not in html
    client.post("/lang", data={"lang": "zh_Hans_CN", "next": "/"})
    html = client.get(f"/payments/disbursements/{d.id}").get_data(as_text=True)
    assert "已经办拨付" in html and "已批准" in html
    w.batch(d)
    w.pay(d)
    html = login_as(w.finance_a).get(f"/payments/disbursements/{d.id}").get_data(as_text=True)
    assert "Payment deadline" not in html  # paid: no deadline runs
    assert "Paid by the bank" in html and "Put in a payment batch" in html


def test_the_finance_dashboard_counts_the_deadline_as_the_queue_does(world, login_as, app):
    """A grant approved long before its notice ended: its deadline runs from the day after the notice."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    with time_machine.travel(datetime(2026, 10, 9, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=True):
        world.loan()  # approved on 9 October
    notice = world.announce(on=date(2026, 11, 10))
    item = queries.payables(programme_id=world.programme.id)[0]
    assert item.payable_since == notice.ends_on + timedelta(days=1) > date(2026, 10, 9)
    d = item.deadline()
    expected = f"Overdue by {d.overdue} working days" if d.overdue else f"Due in {d.remaining} working days"
    client = login_as(world.finance_a)
    queue = client.get(f"/payments/queue?programme_id={world.programme.id}").get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert expected in queue and expected in home
