"""``/api/v1/calendar/{year}``: the same calendar and the same service as the pages."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from voucher.deadlines import local_today
from voucher.extensions import db
from voucher.workcalendar.models import CalendarYear

NEXT_YEAR = local_today().year + 1


def test_a_year_reads_as_the_page_shows_it_and_an_officer_enters_one(api_as, package_ends_with_2026):
    finance = api_as("finance")
    body = finance.get("/calendar/2026").get_json()
    assert body["source"] == "package" and body["working_days"] > 240 and body["reference"] is None
    assert {"date": "2026-10-01", "working": False, "name": "National Day"} in body["days"]
    assert finance.get("/calendar/2099").get_json() == {"year": 2099, "source": None, "working_days": None,
                                                        "reference": None, "revision": None, "days": []}
    assert finance.get("/calendar/1999").status_code == 404

    officer = api_as("officer")
    entry = {"reference": "国办发明电〔X〕1号", "days_off": [{"date": f"{NEXT_YEAR}-01-01", "name": "元旦"}],
             "working_days": []}
    saved = officer.put(f"/calendar/{NEXT_YEAR}", json=entry)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["source"] == "bureau" and saved.get_json()["revision"] == 1
    assert finance.get(f"/calendar/{NEXT_YEAR}").get_json()["days"] == [
        {"date": f"{NEXT_YEAR}-01-01", "working": False, "name": "元旦"}]


def test_a_wrong_entry_names_the_field_and_saves_nothing(api_as):
    officer = api_as("officer")
    monday = next(date(NEXT_YEAR, 3, d) for d in range(1, 8) if date(NEXT_YEAR, 3, d).weekday() == 0)
    response = officer.put(f"/calendar/{NEXT_YEAR}", json={
        "reference": "x", "days_off": [{"date": f"{NEXT_YEAR}-01-01"}], "working_days": [{"date": monday.isoformat()}]})
    assert response.status_code == 422
    assert "working_days" in response.get_json()["error"]["fields"]
    response = officer.put(f"/calendar/{NEXT_YEAR}", json={"reference": "x", "days_off": []})
    assert response.status_code == 422 and "days_off" in response.get_json()["error"]["fields"]
    response = officer.put(f"/calendar/{NEXT_YEAR + 5}", json={"reference": "x",
                                                               "days_off": [{"date": f"{NEXT_YEAR + 5}-01-01"}]})
    assert response.status_code == 422 and "year" in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(func.count()).select_from(CalendarYear)) == 0
