"""The working steps of the loan and robot calculations are shown translated: every template has a
Simplified Chinese translation keeping its {placeholders}; pages and the API speak Chinese by default."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import voucher.calc
from voucher.i18n import merged_catalog

CALC = Path(voucher.calc.__file__).parent
BRACES = re.compile(r"\{(\w+)\}")


def step_templates() -> set[str]:
    found = set()
    for module in ("loan_discount.py", "robot_subsidy.py", "size_class.py"):
        for node in ast.walk(ast.parse((CALC / module).read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    BRACES.search(node.value) or node.value.startswith("Size class:")):
                found.add(node.value)
    return found


def test_every_working_step_template_is_translated_with_its_placeholders():
    catalog = merged_catalog()
    templates = step_templates()
    assert len(templates) >= 25
    for text in templates:
        message = catalog.get(text)
        assert message is not None and message.string, text
        assert sorted(BRACES.findall(message.string)) == sorted(BRACES.findall(text)), text


@pytest.mark.parametrize("msgid", ["Missing data for required field.", "Unknown field.", "Not a valid date.",
                                   "Not a valid integer.", "Invalid input type.", "Field may not be null."])
def test_marshmallow_messages_the_api_shows_are_translated(msgid):
    assert merged_catalog().get(msgid).string


def test_pages_and_api_default_to_chinese(client):
    page = client.get("/subsidies/calculator/loan", query_string={
        "action": "calculate", "benchmark_rate": "3.00", "loan_rate": "2.40", "periods-0-start": "2026-01-01",
        "periods-0-end": "2026-04-01", "periods-0-outstanding_principal": "8000000.00",
        "periods-0-interest_paid": "48000.00"}).get_data(as_text=True)
    assert "第 1 期：贴息 = 8000000.00 × 2% × 90 / 360 = 40000.00" in page
    body = client.post("/api/v1/calculations/loan-discount", json={
        "benchmark_rate": "3.00", "loan_rate": "2.40",
        "periods": [{"start": "2026-01-01", "end": "2026-04-01", "outstanding_principal": "8000000.00"}]}).get_json()
    assert body["error"]["fields"]["periods.0.interest_paid"] == "缺少必填字段。"
