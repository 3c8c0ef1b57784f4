"""Reconciliation with the bank's statement (对账, issue 18 §1): import the bank's result file of a
payment batch, match each row to a batch line, record matched lines paid, and hold every other row
for a finance officer's decision.

The file (CSV or .xlsx) is read in a :class:`StatementLayout` (per bank, like the bank file's layouts
in ``voucher.documents.bank_file``).  Documented layouts (:data:`STATEMENT_LAYOUTS`):

==================  ========================================================  ===========
layout              columns (header → field)                                  encoding
==================  ========================================================  ===========
``generic``         户名 payee_name, 账号 account, 金额 amount, 用途 purpose,     UTF-8 (a BOM
                    银行流水号 bank_reference, 交易类型 kind (optional)          is skipped)
``gb18030_numbered`` 序号 seq, 账号 account, 户名 payee_name, 金额 amount,       GB18030
                    用途 purpose, 流水号 bank_reference, 交易类型 kind (optional)
==================  ========================================================  ===========

Columns are found by their header (any order; other columns are ignored).  An .xlsx file is read by
the same headers (its first sheet; the encoding does not apply).

Rules:

- **reference**: the line's reference ``DSB-YYYY-NNNNNN`` the bank file wrote at the end of 用途
  (``voucher.payments.documents.bank_purpose``), found anywhere in the 用途 cell (ASCII, exactly as
  written: another case, full-width or zero-width characters name no line; a cell naming two
  different references names none);
- **amount**: yuan read by :func:`voucher.numbers.parse_number` (``Decimal``; more than two decimals
  refused), compared with the approved transfer amount (the amount less an offset, 抵扣) exactly to the fen; a negative amount, or 冲正 / 退汇 /
  reversal in the type column, is a **reversal**;
- a formula (an .xlsx formula cell, or a cell whose text begins with ``=``; a text column beginning
  with ``+``, ``-``, ``@``) is refused, never evaluated (the workbook is read with ``data_only=False``);
- a file with any bad cell is refused as a whole, every bad cell named by row and column
  (:class:`StatementInvalid`, a 422), and nothing is saved; a file already imported for the batch
  (same SHA-256) is refused as a duplicate;
- each row gets exactly one status (``reconciliation_models``); only a ``matched`` row records its
  line paid, through :func:`voucher.payments.services.record_result` (the ledger moves there);
- a conflict row waits for a decision (:func:`decide`): accept as paid or mark failed (only while
  its line waits for the bank), or ignore; always with a reason, through :data:`ROW_MACHINE`
  (audited).  Accepting pays the **approved** amount; the bank's difference stays on the row.

Lock order: the batch row (serialises imports of one batch), then each line's disbursement row
inside ``record_result`` (then the fund ledger), then our own rows and audit events.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from voucher import tabular
from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.db import utcnow
from voucher.errors import N_, Duplicate, NotFound, TransitionNotAllowed, ValidationFailed
from voucher.extensions import db
from voucher.formulas import starts_with_formula
from voucher.numbers import NumberError, parse_number
from voucher.payments import services
from voucher.payments.models import Disbursement, PaymentBatch
from voucher.payments.reconciliation_models import (
    RESOLUTIONS,
    ROW_STATUSES,
    ReconciliationImport,
    ReconciliationRow,
)
from voucher.workflow import StateMachine, transition

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024
MAX_ROWS = 10_000
REASON_MAX = 2000
REFERENCE = re.compile(r"DSB-[0-9]{4}-[0-9]{6,}")  # ASCII digits only: a full-width one never matches
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
REVERSAL_WORDS = ("冲正", "退汇", "退票", "reversal", "reversed", "returned")

ROW_MACHINE = StateMachine("reconciliation_row", RESOLUTIONS, (
    transition("accept_paid", "pending", "accepted_paid", "finance", requires_reason=True),
    transition("mark_failed", "pending", "marked_failed", "finance", requires_reason=True),
    transition("record_returned", "pending", "recorded_returned", "finance", requires_reason=True),
    transition("ignore", "pending", "ignored", "finance", requires_reason=True),
), state_attr="resolution")
DECISIONS = ("accept_paid", "mark_failed", "record_returned", "ignore")

# fields a statement column can name; the required ones must be in every layout's file
REQUIRED_FIELDS = ("amount", "purpose")


@dataclass(frozen=True)
class StatementLayout:
    code: str
    description: str
    columns: dict[str, str]  # header → field
    encoding: str            # "utf-8" (a BOM is skipped) or "gb18030"

    def decode(self, data: bytes) -> str:
        return data.decode("utf-8-sig" if self.encoding == "utf-8" else self.encoding)

    def header_of(self, field_name: str) -> str:
        return next((h for h, f in self.columns.items() if f == field_name), field_name)


STATEMENT_LAYOUTS: dict[str, StatementLayout] = {
    "generic": StatementLayout(
        "generic", "Generic: 户名, 账号, 金额, 用途, 银行流水号, 交易类型; UTF-8",
        {"户名": "payee_name", "账号": "account", "金额": "amount", "用途": "purpose", "银行流水号": "bank_reference",
         "交易类型": "kind"}, "utf-8"),
    "gb18030_numbered": StatementLayout(
        "gb18030_numbered", "Numbered: 序号, 账号, 户名, 金额, 用途, 流水号, 交易类型; GB18030",
        {"序号": "seq", "账号": "account", "户名": "payee_name", "金额": "amount", "用途": "purpose",
         "流水号": "bank_reference", "交易类型": "kind"}, "gb18030"),
}
DEFAULT_LAYOUT = "generic"


@dataclass(frozen=True)
class CellError:
    """One refused cell: ``row`` as the file numbers it (header = 1), ``column`` its header."""

    row: int | None
    column: str | None
    message: str
    params: dict = field(default_factory=dict)


class StatementInvalid(ValidationFailed):
    """The file is refused; ``errors`` names every bad cell (row, column, message)."""

    def __init__(self, errors: list[CellError]) -> None:
        super().__init__(N_("The bank's file is refused: %(count)s problem(s), listed by row and column."),
                         field="file", count=len(errors))
        self.errors = errors


@dataclass(frozen=True)
class StatementRow:
    row_number: int
    amount: Decimal
    purpose: str
    reference: str | None
    payee_name: str | None
    account: str | None
    bank_reference: str | None
    reversal: bool


def layout_for(code: str | None) -> StatementLayout:
    layout = STATEMENT_LAYOUTS.get(code or DEFAULT_LAYOUT)
    if layout is None:
        raise ValidationFailed("Choose one of the bank layouts.", field="layout")
    return layout


# --- reading the file ---------------------------------------------------------------------------

def _is_formula_text(value: str, text_column: bool) -> bool:
    value = value.lstrip(" ")
    return value.startswith("=") or (text_column and starts_with_formula(value))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def parse_table(table: list[tuple[int, list]], layout: StatementLayout,
                formula_cells: set[tuple[int, int]] | None = None) -> tuple[list[StatementRow], list[CellError]]:
    """Rows of cells (with the row number the person sees) → statement rows, or every bad cell."""
    formula_cells = formula_cells or set()
    errors: list[CellError] = []
    table = [(n, cells) for n, cells in table if any(_cell_text(c) for c in cells)]
    if not table:
        return [], [CellError(None, None, N_("The file is empty."))]
    header_row, headers = table[0]
    index: dict[str, int] = {}
    for i, cell in enumerate(headers):
        name = _cell_text(cell).lstrip("\ufeff").strip()
        if name in layout.columns and layout.columns[name] not in index:
            index[layout.columns[name]] = i
    for required in REQUIRED_FIELDS:
        if required not in index:
            errors.append(CellError(header_row, layout.header_of(required),
                                    N_("The column %(column)s is missing from the header row (layout %(layout)s)."),
                                    {"column": layout.header_of(required), "layout": layout.code}))
    if errors:
        return [], errors
    if len(table) - 1 > MAX_ROWS:
        return [], [CellError(None, None, N_("At most %(max)s rows per file."), {"max": MAX_ROWS})]
    rows: list[StatementRow] = []
    for n, cells in table[1:]:
        values: dict[str, str] = {}
        bad = False
        for fname, i in index.items():
            raw = cells[i] if i < len(cells) else None
            text = _cell_text(raw)
            header = layout.header_of(fname)
            if (n, i) in formula_cells or _is_formula_text(text, fname != "amount"):
                errors.append(CellError(n, header, N_("A formula is refused (it is never calculated): enter the "
                                                      "value itself.")))
                bad = True
                continue
            if CONTROL.search(text):  # a NUL byte cannot even be stored in PostgreSQL: refused, named
                errors.append(CellError(n, header, N_("A control character (such as a NUL byte) is refused.")))
                bad = True
                continue
            values[fname] = text
        if bad:
            continue
        amount = None
        try:
            parsed = parse_number(values.get("amount", ""), places=2, kind="money")
        except NumberError as err:
            message = (N_("Enter the amount in yuan with at most two decimals.") if err.code == "decimals"
                       else N_("Enter an amount in yuan, such as 1200000.00."))
            errors.append(CellError(n, layout.header_of("amount"), message))
        else:
            if parsed is None:
                errors.append(CellError(n, layout.header_of("amount"), N_("The amount is empty.")))
            elif parsed.value == 0:
                errors.append(CellError(n, layout.header_of("amount"), N_("The amount cannot be zero.")))
            elif abs(parsed.value) > Decimal("999999999999.99"):
                errors.append(CellError(n, layout.header_of("amount"), N_("The amount is too large.")))
            else:
                amount = parsed.value
        purpose = values.get("purpose", "")
        if not purpose:
            errors.append(CellError(n, layout.header_of("purpose"), N_("The purpose is empty.")))
        for fname, limit in (("purpose", 500), ("payee_name", 200), ("account", 64), ("bank_reference", 100)):
            if len(values.get(fname, "")) > limit:
                errors.append(CellError(n, layout.header_of(fname), N_("At most %(max)s characters."), {"max": limit}))
        if amount is None or not purpose:
            continue
        kind = values.get("kind", "").lower()
        found = set(REFERENCE.findall(purpose))  # two different references name no line: unknown, never a guess
        rows.append(StatementRow(
            row_number=n, amount=amount, purpose=purpose[:500], reference=found.pop() if len(found) == 1 else None,
            payee_name=values.get("payee_name") or None, account=values.get("account") or None,
            bank_reference=values.get("bank_reference") or None,
            reversal=amount < 0 or any(w in kind for w in REVERSAL_WORDS)))
    return (rows, []) if not errors else ([], errors)


def read_csv(data: bytes, layout: StatementLayout) -> list[tuple[int, list]]:
    try:
        text = layout.decode(data)
    except UnicodeDecodeError:
        raise StatementInvalid([CellError(None, None, N_("The file is not in the %(encoding)s encoding of layout "
                                                         "%(layout)s."),
                                          {"encoding": layout.encoding.upper(), "layout": layout.code})]) from None
    try:
        return tabular.read_csv_text(text)
    except tabular.TableUnreadable as err:
        raise StatementInvalid([CellError(err.row, None, err.message, err.params)]) from None


def read_xlsx(data: bytes) -> tuple[list[tuple[int, list]], set[tuple[int, int]]]:
    """The first sheet; formula cells are returned as positions (refused), never calculated (``voucher.tabular``)."""
    try:
        return tabular.read_xlsx(data, max_rows=MAX_ROWS, max_unzipped_bytes=MAX_UNZIPPED_BYTES, spare_rows=50)
    except tabular.TableUnreadable as err:
        raise StatementInvalid([CellError(err.row, None, err.message, err.params)]) from None


def read_statement(data: bytes, layout: StatementLayout) -> list[StatementRow]:
    if data.startswith(b"PK\x03\x04"):
        table, formulas = read_xlsx(data)
    else:
        table, formulas = read_csv(data, layout), set()
    rows, errors = parse_table(table, layout, formulas)
    if errors:
        raise StatementInvalid(errors)
    return rows


# --- importing and matching ---------------------------------------------------------------------

def _ensure_finance(actor: Actor) -> None:
    require(actor, "payments.reconcile", message="Only a finance officer may do this.")


def _locked_batch(batch_id: int) -> PaymentBatch:
    batch = db.session.scalar(select(PaymentBatch).where(PaymentBatch.id == batch_id).with_for_update()
                              .execution_options(populate_existing=True))
    if batch is None:
        raise NotFound("No such payment batch.")
    return batch


def _paid_row(disbursement_id: int) -> ReconciliationRow | None:
    """The latest row that paid the line (matched, or a conflict accepted as paid)."""
    return db.session.scalar(select(ReconciliationRow).where(
        ReconciliationRow.disbursement_id == disbursement_id,
        ReconciliationRow.resolution.in_(("auto", "accepted_paid"))).order_by(ReconciliationRow.id.desc()).limit(1))


def import_statement(actor: Actor, batch_id: int, *, filename: str, data: bytes,
                     layout: str | None = None) -> ReconciliationImport:
    """Import the bank's result file of a batch and give every row its status.

    Rule: finance officers only; the batch is not cancelled; the file is at most 2 MB, read in the
    layout chosen, refused as a whole when any cell is bad (nothing saved), refused when the same file
    (SHA-256) was already imported for this batch.  Matched rows record their line paid (ledger
    included); every other row waits for a decision.  One audit event for the import (with the counts
    by status), one per line paid.
    """
    _ensure_finance(actor)
    chosen = layout_for(layout)
    if not data:
        raise StatementInvalid([CellError(None, None, N_("The file is empty."))])
    if len(data) > MAX_FILE_BYTES:
        raise StatementInvalid([CellError(None, None, N_("The file is too large: at most %(max)s KB."),
                                          {"max": MAX_FILE_BYTES // 1024})])
    batch = _locked_batch(batch_id)
    if batch.status == "cancelled":
        raise TransitionNotAllowed("This action (%(action)s) is not possible while the item is %(state)s.",
                                   action="reconcile", state=batch.status)
    digest = hashlib.sha256(data).hexdigest()
    earlier = db.session.scalar(select(ReconciliationImport.id).where(ReconciliationImport.batch_id == batch.id,
                                                                      ReconciliationImport.sha256 == digest))
    if earlier is not None:
        raise Duplicate("This file was already imported for this batch.", field="file")
    rows = read_statement(data, chosen)

    imp = ReconciliationImport(batch_id=batch.id, layout=chosen.code, filename=(filename or "statement")[:255],
                               sha256=digest, size=len(data), row_count=len(rows), imported_by=actor.user_id)
    db.session.add(imp)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Duplicate("This file was already imported for this batch.", field="file") from None
    record_event(actor, "reconciliation_import.create", "reconciliation_import", imp.id,
                 after={"batch_id": batch.id, "sha256": digest, "filename": imp.filename, "layout": chosen.code,
                        "rows": len(rows)})

    lines = {d.reference: d for d in db.session.scalars(select(Disbursement).where(Disbursement.batch_id == batch.id))}
    seen: set[int] = set()
    counts = dict.fromkeys(ROW_STATUSES, 0)
    for r in rows:
        d = lines.get(r.reference) if r.reference else None
        row = ReconciliationRow(import_id=imp.id, row_number=r.row_number, reference=r.reference, purpose=r.purpose,
                                payee_name=r.payee_name, account=r.account, amount=r.amount,
                                bank_reference=r.bank_reference, resolution="pending",
                                disbursement_id=d.id if d is not None else None)
        if d is None:
            row.status = "unknown_reference"
        elif r.reversal:
            row.status = "reversal"
            earlier_row = _paid_row(d.id)
            row.reversed_row_id = earlier_row.id if earlier_row is not None else None
        elif d.id in seen or d.status == "paid":
            row.status = "duplicate"
        elif d.status != "in_batch" or not services.approval_valid(d):
            row.status = "unknown_reference"  # the line is no longer waiting for the bank (failed, removed)
        elif r.amount != d.transfer_amount:  # what the bank was asked to transfer (the amount less an offset)
            row.status = "amount_differs"
            row.difference = r.amount - d.transfer_amount
        else:
            row.status = "matched"
            row.resolution = "auto"
        if d is not None and not r.reversal:
            seen.add(d.id)
        db.session.add(row)
        db.session.flush()
        if row.status == "matched":
            services.record_result(actor, d.id, "paid", bank_reference=_bank_reference(imp, row))
        counts[row.status] += 1
    imp_event_counts = {k: v for k, v in counts.items() if v}
    record_event(actor, "reconciliation_import.matched", "reconciliation_import", imp.id,
                 after={"batch_id": batch.id, "counts": imp_event_counts})
    return imp


def _bank_reference(imp: ReconciliationImport, row: ReconciliationRow) -> str:
    return (row.bank_reference or f"RI-{imp.id}-{row.row_number}")[:100]


def allowed_decisions(row: ReconciliationRow, d: Disbursement | None) -> list[str]:
    """What a finance officer may decide for a pending row: paid or failed only while its line waits
    for the bank (and accepting only a row that names that line's payment); ignoring, always."""
    if row.resolution != "pending":
        return []
    out = []
    if d is not None and d.status == "in_batch":
        if row.status == "amount_differs":
            out.append("accept_paid")
        if row.status in ("amount_differs", "reversal"):
            out.append("mark_failed")
    if d is not None and d.status == "paid" and row.status == "reversal":
        out.append("record_returned")  # 退汇: the bank sent a paid line's money back
    out.append("ignore")
    return out


def decide(actor: Actor, row_id: int, decision: str, reason: str | None) -> ReconciliationRow:
    """A finance officer's decision on a conflict row: accept as paid, mark failed, or ignore.

    Rule: finance only; the row is pending; a reason (at most 2000 characters) is required; accepting
    records the line paid at its approved amount and marking failed records the bank's failure, both
    through ``record_result`` (so the ledger and the line's audit trail move there); the row's own
    decision goes through :data:`ROW_MACHINE` (one audit event with the reason)."""
    _ensure_finance(actor)
    if decision not in DECISIONS:
        raise ValidationFailed("Choose a decision.", field="decision")
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed("A reason is required.", field="reason")
    if len(text) > REASON_MAX:
        raise ValidationFailed("At most %(max)s characters.", field="reason", max=REASON_MAX)
    row = db.session.scalar(select(ReconciliationRow).where(ReconciliationRow.id == row_id).with_for_update()
                            .execution_options(populate_existing=True))
    if row is None:
        raise NotFound("No such row.")
    d = db.session.get(Disbursement, row.disbursement_id) if row.disbursement_id else None
    if row.resolution != "pending":
        raise TransitionNotAllowed("This row is already decided.")
    if decision not in allowed_decisions(row, d):
        raise TransitionNotAllowed("This decision is not possible for this row: %(decision)s.", decision=decision)
    if decision == "accept_paid":
        services.record_result(actor, d.id, "paid", bank_reference=_bank_reference(row.import_, row))
    elif decision == "mark_failed":
        services.record_result(actor, d.id, "failed", reason=text)
    elif decision == "record_returned":
        from voucher.payments.returns import record_return

        record_return(actor, d.id, text, bank_reference=row.bank_reference)
    row.decided_by = actor.user_id
    row.decided_at = utcnow()
    row.decision_reason = text
    ROW_MACHINE.apply(row, decision, actor, reason=text,
                      details={"status": row.status, "disbursement_id": row.disbursement_id,
                               "amount": row.amount, "difference": row.difference, "import_id": row.import_id})
    return row


# --- reading for the report ---------------------------------------------------------------------

@dataclass
class LineReport:
    disbursement: Disbursement
    approved: Decimal
    bank_debit: Decimal | None  # the sum of the bank's rows naming the line (reversals negative)
    rows: int
    pending: int

    @property
    def difference(self) -> Decimal | None:
        return None if self.bank_debit is None else self.bank_debit - self.approved

    @property
    def reconciled(self) -> bool:
        if self.disbursement.status == "returned":  # 退汇: paid and sent back, the bank's rows net to nothing
            return self.bank_debit is not None and self.bank_debit == 0 and self.pending == 0
        return self.bank_debit is not None and self.difference == 0 and self.pending == 0 \
            and self.disbursement.status == "paid"


@dataclass
class BatchReconciliation:
    batch: PaymentBatch
    lines: list[LineReport]
    imports: list[ReconciliationImport]
    rows: list[ReconciliationRow]

    @property
    def approved_total(self) -> Decimal:
        return sum((r.approved for r in self.lines), Decimal("0.00"))

    @property
    def bank_total(self) -> Decimal:
        return sum((r.amount for r in self.rows), Decimal("0.00"))

    @property
    def unreconciled(self) -> Decimal:
        return sum((r.approved for r in self.lines if not r.reconciled), Decimal("0.00"))

    @property
    def pending(self) -> list[ReconciliationRow]:
        return [r for r in self.rows if r.resolution == "pending"]

    @property
    def differences(self) -> list[ReconciliationRow]:
        return [r for r in self.rows if r.status != "matched"]


def batch_reconciliation(actor: Actor, batch_id: int) -> BatchReconciliation:
    """Rule: finance officers only (the report names bank rows the bureau has not yet decided)."""
    _ensure_finance(actor)
    batch = db.session.get(PaymentBatch, batch_id)
    if batch is None:
        raise NotFound("No such payment batch.")
    return reconciliation_of(batch)


def reconciliation_of(batch: PaymentBatch) -> BatchReconciliation:
    """The batch's lines side by side with the bank's rows (no access check: the callers check)."""
    imports = list(db.session.scalars(select(ReconciliationImport).where(ReconciliationImport.batch_id == batch.id)
                                      .order_by(ReconciliationImport.id)))
    rows = list(db.session.scalars(select(ReconciliationRow).join(ReconciliationImport)
                                   .where(ReconciliationImport.batch_id == batch.id)
                                   .order_by(ReconciliationRow.import_id, ReconciliationRow.row_number)))
    by_line: dict[int, list[ReconciliationRow]] = {}
    for r in rows:
        if r.disbursement_id:
            by_line.setdefault(r.disbursement_id, []).append(r)
    lines = []
    for d in db.session.scalars(select(Disbursement).where(Disbursement.batch_id == batch.id).order_by(Disbursement.id)):
        mine = by_line.get(d.id, [])
        lines.append(LineReport(d, d.transfer_amount, sum((r.amount for r in mine), Decimal("0.00")) if mine else None,
                                len(mine), sum(1 for r in mine if r.resolution == "pending")))
    return BatchReconciliation(batch, lines, imports, rows)


def programme_unreconciled(programme_id: int) -> Decimal:
    """Paid lines of a programme's batches whose bank rows do not add up to the approved amount (or
    that no bank row confirms), plus the lines of pending rows: the amount the report shows unreconciled."""
    paid = [(i, amount - offset) for i, amount, offset in db.session.execute(
        select(Disbursement.id, Disbursement.amount, Disbursement.offset_amount).where(
            Disbursement.programme_id == programme_id, Disbursement.status == "paid")).all()
        if amount - offset > 0]  # a fully offset payment (抵扣) sent the bank nothing to reconcile
    if not paid:
        return Decimal("0.00")
    sums = dict(db.session.execute(select(ReconciliationRow.disbursement_id, func.sum(ReconciliationRow.amount))
                                   .where(ReconciliationRow.disbursement_id.in_([i for i, _a in paid]))
                                   .group_by(ReconciliationRow.disbursement_id)).all())
    pending = set(db.session.scalars(select(ReconciliationRow.disbursement_id).where(
        ReconciliationRow.disbursement_id.in_([i for i, _a in paid]), ReconciliationRow.resolution == "pending")))
    total = Decimal("0.00")
    for i, amount in paid:
        bank = sums.get(i)  # func.sum of a Money column reads back as yuan
        if bank != amount or i in pending:
            total += amount
    return total
