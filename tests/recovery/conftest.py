"""The recovery tests reuse the payment tests' world (a programme, approved grants through the real
services, finance officers) and their fixed clock; ``paid_robot`` is the robot subsidy of 100,000.00
paid a year before the test day, so its 3-year obligation is a third over."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import BinaryIO
from zoneinfo import ZoneInfo

import pytest

from tests.payments.conftest import TEST_NOW, World, login_as, world  # noqa: F401
from voucher.extensions import db
from voucher.programmes import services as ledger

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PAID_AT = datetime(2025, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str


def evidence() -> Upload:
    return Upload(io.BytesIO(PDF), "photo.pdf")


def pay_robot(world, paid_at=PAID_AT, amount="100000.00"):
    """World.robot() (100,000.00 reserved) paid in the ledger on ``paid_at``."""
    app = world.robot()
    entry = ledger.pay(world.finance_a.actor(), "robot_application", app.id, Decimal(amount), "full")
    entry.created_at = paid_at
    db.session.flush()
    return app


@pytest.fixture()
def paid_robot(world):
    return pay_robot(world)
