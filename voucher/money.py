"""Displaying money: ¥, thousands separators, exactly two decimals; never through a float."""
from decimal import Decimal


def format_money(value) -> str:
    if value is None or value == "":
        return "—"
    d = value if isinstance(value, Decimal) else Decimal(str(value))
    sign = "-" if d < 0 else ""
    return f"{sign}¥{abs(d):,.2f}"
