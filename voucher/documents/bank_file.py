"""The bank payment file of a payment batch, in the column layout of the bank that pays it.

A bank's batch-transfer import reads a CSV with Chinese headers in its own column order and
encoding.  One :class:`BankFileLayout` per bank says which columns (header and field), in which
order, and which encoding; the bureau picks one with ``VOUCHER_BANK_FILE_LAYOUT`` (default
``generic``).  Every layout writes CRLF line ends (RFC 4180), one header row, one row per line, and
amounts as plain two-decimal strings (``100000.00``: no currency sign, no thousands separator).

The fields a column can name (:data:`FIELDS`):

==============  =========  ==============================================================
field           header     value
==============  =========  ==============================================================
``seq``         序号        1, 2, ... in the order of the lines
``payee_name``  户名        the account name, as the bank holds it
``account``     账号        the account number
``bank_name``   开户行      the bank and branch
``bank_code``   联行号      the branch's CNAPS code, 12 digits
``amount``      金额        yuan, two decimals
``purpose``     用途        e.g. ``试用券尾款 SY-2026-000013 DSB-2026-000012`` (kind, milestone, application number, reference)
==============  =========  ==============================================================

Layouts (:data:`LAYOUTS`):

- ``generic`` — 户名, 账号, 开户行, 联行号, 金额, 用途; UTF-8 **with** a BOM (Excel and most
  e-banking clients then read the Chinese headers correctly).
- ``gb18030_numbered`` — 序号, 账号, 户名, 金额, 联行号, 开户行, 用途; GB18030 without a BOM, the
  encoding of older e-banking batch clients.  Check a bank's own import specification before
  using it; add a layout here (a new dict entry) for another bank.

A missing bank code is not a reason to hold a payment (the payment order and the approval do not
need it), but a bank file is refused with :class:`BankFileError` naming the line's reference, so
finance enters the 12-digit code on the disbursement (or the payee on its profile) first.  A line
with a non-positive or sub-fen amount, or an empty field, is refused the same way.  A text field
beginning with a spreadsheet formula character is written with a leading ``'`` (OWASP's rule), as
every export does, rather than failing the whole batch.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Sequence

FEN = Decimal("0.01")
_BANK_CODE = re.compile(r"^[0-9]{12}$")

# field -> the header it has when a layout does not rename it
FIELDS = {"seq": "序号", "payee_name": "户名", "account": "账号", "bank_name": "开户行", "bank_code": "联行号",
          "amount": "金额", "purpose": "用途"}


@dataclass(frozen=True)
class BankFileLayout:
    code: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (header, field) in the file's order
    encoding: str                          # "utf-8" or "gb18030"
    bom: bool = False                      # a UTF-8 BOM before the header

    def encode(self, text: str) -> bytes:
        data = text.encode(self.encoding)
        return (b"\xef\xbb\xbf" + data) if self.bom else data

    def decode(self, data: bytes) -> str:
        if self.bom and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        return data.decode(self.encoding)


def _columns(*fields: str) -> tuple[tuple[str, str], ...]:
    return tuple((FIELDS[f], f) for f in fields)


LAYOUTS: dict[str, BankFileLayout] = {
    "generic": BankFileLayout(
        "generic", "Generic: 户名, 账号, 开户行, 联行号, 金额, 用途; UTF-8 with BOM",
        _columns("payee_name", "account", "bank_name", "bank_code", "amount", "purpose"),
        encoding="utf-8", bom=True),
    "gb18030_numbered": BankFileLayout(
        "gb18030_numbered", "Numbered lines, account first: 序号, 账号, 户名, 金额, 联行号, 开户行, 用途; GB18030",
        _columns("seq", "account", "payee_name", "amount", "bank_code", "bank_name", "purpose"),
        encoding="gb18030"),
}
DEFAULT_LAYOUT = "generic"


class BankFileError(ValueError):
    """A line the bank could not pay from this file (the message names the line)."""


def layout_for(code: str | None) -> BankFileLayout:
    layout = LAYOUTS.get(code or DEFAULT_LAYOUT)
    if layout is None:
        raise BankFileError(f"unknown bank file layout {code!r}; use one of {', '.join(LAYOUTS)}")
    return layout


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise BankFileError(f"not an amount: {value!r}") from exc
    if amount != amount.quantize(FEN):
        raise BankFileError(f"an amount below the fen: {value}")
    return amount.quantize(FEN)


def bank_file(lines: Sequence, layout: BankFileLayout | str | None = None) -> bytes:
    """The bank file of ``lines`` (:class:`voucher.documents.pdf.BankLine`) in ``layout``."""
    from voucher.formulas import neutralise_text

    layout = layout if isinstance(layout, BankFileLayout) else layout_for(layout)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([header for header, _field in layout.columns])
    for n, line in enumerate(lines, 1):
        where = f"line {n} ({line.reference})" if getattr(line, "reference", "") else f"line {n}"
        amount = _amount(line.amount)
        if amount <= 0:
            raise BankFileError(f"{where}: the amount must be positive")
        values = {"seq": str(n), "payee_name": line.payee_name, "account": line.account,
                  "bank_name": line.bank_name, "bank_code": (line.bank_code or "").strip(),
                  "amount": format(amount, "f"), "purpose": line.purpose or line.reference}
        for key in ("payee_name", "account", "bank_name", "purpose"):
            if not values[key] or not str(values[key]).strip():
                raise BankFileError(f"{where}: an empty field ({FIELDS[key]})")
        if not values["bank_code"]:
            raise BankFileError(f"{where}: no bank code (联行号); enter the payee's 12-digit CNAPS code")
        if not _BANK_CODE.match(values["bank_code"]):
            raise BankFileError(f"{where}: the bank code (联行号) {values['bank_code']!r} is not 12 digits")
        row = []
        for _header, field in layout.columns:
            value = str(values[field])
            row.append(value if field in ("seq", "amount") else neutralise_text(value))
        writer.writerow(row)
    try:
        return layout.encode(out.getvalue())
    except UnicodeEncodeError as exc:
        raise BankFileError(f"a character the {layout.encoding} encoding cannot write: {exc.object[exc.start:exc.end]!r}") from exc
