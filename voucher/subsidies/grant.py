"""The loan interest discount and the robot purchase subsidy as grant kinds (``voucher.grants``):
each paid to the enterprise in one payment (milestone ``full``) of what is still reserved for the
approved grant.  :func:`register` is called by ``voucher.registries.register_grant_kinds``."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, case, func, select, type_coerce

from voucher.extensions import db
from voucher.grants import Due, GrantKind, PayableSQL, register_grant_kind
from voucher.money import format_money
from voucher.programmes.models import FundLedgerEntry, reserved_delta
from voucher.subsidies.models import LoanApplication, RobotApplication

ZERO = Decimal("0.00")


def _fen(value) -> Decimal:
    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def _source_sums(source_type: str, ids: list[int]) -> dict[int, tuple[Decimal, bool]]:
    """Per grant: what is still reserved (fen summed exactly) and how many ``full`` payments stand
    (payments less returns: 1 when paid, 0 when never paid or paid and returned)."""
    if not ids:
        return {}
    c = FundLedgerEntry.__table__.c
    fen = type_coerce(c.amount, BigInteger)
    rows = db.session.execute(
        select(c.source_id,
               func.coalesce(func.sum(reserved_delta(c.kind, fen)), 0),
               func.coalesce(func.sum(case(((c.kind == "pay") & (c.milestone == "full"), 1),
                                           ((c.kind == "return") & (c.milestone == "full"), -1), else_=0)), 0))
        .where(c.source_type == source_type, c.source_id.in_(ids)).group_by(c.source_id)).all()
    return {sid: (_fen(outstanding), int(paid)) for sid, outstanding, paid in rows}


# How long a subsidised robot must stay in use at the enterprise (years from the payment): a
# documented constant of the rules (issue 18 §3), not yet a programme parameter.
ROBOT_IN_USE_YEARS = 3


def _years_later(day, years: int):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


class SubsidyGrant(GrantKind):
    """What the two subsidy kinds share; each sets its model, its short kind name in
    ``subsidies.services.KINDS`` and the column of its computed amount."""

    model: type = None  # type: ignore[assignment]
    kind: str = ""
    computed_field: str = ""

    def lock(self, source_id: int) -> None:
        db.session.execute(select(self.model.id).where(self.model.id == source_id).with_for_update())

    def payables(self, *, programme_id: int | None = None, source_id: int | None = None) -> list[Due]:
        model = self.model
        stmt = select(model).where(model.status == "approved")
        if programme_id is not None:
            stmt = stmt.where(model.programme_id == programme_id)
        if source_id is not None:
            stmt = stmt.where(model.id == source_id)
        apps = list(db.session.scalars(stmt.order_by(model.id)))
        sums = _source_sums(self.source_type, [a.id for a in apps])
        out = []
        for a in apps:
            outstanding, paid = sums.get(a.id, (ZERO, False))
            if paid > 0 or outstanding <= 0:
                continue
            basis = {"approved_amount": str(a.approved_amount), "computed": str(getattr(a, self.computed_field))}
            out.append(Due(a.programme_id, self.funding_kind, self.source_type, a.id, "full", outstanding,
                           a.enterprise_id, a.enterprise_id, a.decided_at, basis))
        return out

    def payable_selects(self, sql: PayableSQL, payee_id: int | None = None) -> list:
        model, source_type = self.model, self.source_type
        c = FundLedgerEntry.__table__.c
        fen = type_coerce(c.amount, BigInteger)
        outstanding = (select(func.coalesce(func.sum(reserved_delta(c.kind, fen)), 0))
                       .where(c.source_type == source_type, c.source_id == model.id).scalar_subquery())
        stmt = select(model.programme_id, sql.text(source_type), model.id, sql.text("full"), outstanding,
                      model.enterprise_id, model.enterprise_id, sql.local_day(model.decided_at), model.decided_at
                      ).where(model.status == "approved", outstanding > 0,
                              ~sql.paid_exists(source_type, model.id, "full"),
                              ~sql.live_exists(source_type, model.id, "full"))
        if payee_id is not None:
            stmt = stmt.where(model.enterprise_id == payee_id)
        return [stmt]

    def granted(self, programme_id: int) -> list[tuple[int, int, Decimal]]:
        model = self.model
        return [tuple(r) for r in db.session.execute(
            select(model.id, model.enterprise_id, model.approved_amount)
            .where(model.programme_id == programme_id, model.status == "approved", model.approved_amount.is_not(None))
            .order_by(model.id)).all()]

    def cancel(self, actor, source_id: int, reason: str) -> None:
        from voucher.subsidies.services import cancel_grant

        cancel_grant(actor, self.kind, source_id, reason)  # refuses a paid or paying grant

    def working_lines(self, disbursement, translate) -> list[str]:
        from voucher.subsidies.services import render_step

        _ = translate
        d = disbursement
        basis = d.basis or {}
        app = db.session.get(self.model, d.source_id)
        lines = [render_step(s, _) for s in (app.working or [])] if app is not None else []
        approved = basis.get("approved_amount")
        if approved and approved != basis.get("computed"):
            lines.append(_("Approved amount (after the cap at approval): %(amount)s",
                           amount=format_money(Decimal(approved))))
        lines.append(_("Amount of this payment: %(amount)s (what is reserved for the grant)",
                       amount=format_money(d.amount)))
        return lines


class LoanDiscount(SubsidyGrant):
    source_type = "loan_application"
    funding_kind = "loan_discount"
    label_text = _l("Loan interest discount application no. %(id)s")
    detail_endpoint = ("subsidies.loan_detail", "application_id")
    model = LoanApplication
    kind = "loan"
    computed_field = "computed_discount"
    # a corrected interest period (voucher.subsidies.amendment)
    amendable_fields = ("period", "period_start", "period_end", "interest_paid")

    def amendment_subject(self, source_id: int):
        from voucher.subsidies import amendment

        return amendment.subject(source_id)

    def amendment_refusal(self, source_id: int):
        from voucher.subsidies import amendment

        return amendment.refusal(source_id)

    def check_amendment(self, source_id: int, asked: dict, today):
        from voucher.subsidies import amendment

        return amendment.check(source_id, asked, today)

    def apply_amendment(self, actor, source_id: int, changes: dict) -> Decimal:
        from voucher.subsidies import amendment

        return amendment.apply(actor, source_id, changes)


class RobotSubsidy(SubsidyGrant):
    source_type = "robot_application"
    funding_kind = "robot_subsidy"
    label_text = _l("Robot purchase subsidy application no. %(id)s")
    detail_endpoint = ("subsidies.robot_detail", "application_id")
    model = RobotApplication
    kind = "robot"
    computed_field = "computed_subsidy"
    # a replaced invoice on one line (voucher.subsidies.robot_amendment)
    amendable_fields = ("line", "invoice_no", "invoice_date", "unit_price_excl_vat", "invoice_file")
    amendment_files = ("invoice_file",)

    def obligations(self, source_id: int) -> list:
        """The robot stays in use at the enterprise for ``ROBOT_IN_USE_YEARS`` years from the day the
        subsidy was first paid (dates unknown until then)."""
        from flask_babel import gettext as _

        from voucher.deadlines import local_date
        from voucher.grants import Obligation

        app = db.session.get(RobotApplication, source_id)
        if app is None or app.status != "approved":
            return []
        first_paid = db.session.scalar(select(FundLedgerEntry.created_at).where(
            FundLedgerEntry.source_type == self.source_type, FundLedgerEntry.source_id == source_id,
            FundLedgerEntry.kind == "pay").order_by(FundLedgerEntry.seq).limit(1))
        starts = local_date(first_paid) if first_paid else None
        ends = _years_later(starts, ROBOT_IN_USE_YEARS) if starts else None
        return [Obligation("robot_in_use", _("The subsidised robots stay in use at the enterprise for %(years)s "
                                             "years from the payment", years=ROBOT_IN_USE_YEARS),
                           starts, ends, app.enterprise_id)]

    def store_amendment_file(self, actor, source_id: int, field: str, upload) -> str:
        from voucher.subsidies import robot_amendment

        return robot_amendment.store_file(actor, source_id, upload)

    def amendment_subject(self, source_id: int):
        from voucher.subsidies import robot_amendment

        return robot_amendment.subject(source_id)

    def amendment_refusal(self, source_id: int):
        from voucher.subsidies import robot_amendment

        return robot_amendment.refusal(source_id)

    def check_amendment(self, source_id: int, asked: dict, today):
        from voucher.subsidies import robot_amendment

        return robot_amendment.check(source_id, asked, today)

    def apply_amendment(self, actor, source_id: int, changes: dict) -> Decimal:
        from voucher.subsidies import robot_amendment

        return robot_amendment.apply(actor, source_id, changes)


def register() -> None:
    """Register the loan discount and the robot subsidy (in this order; idempotent)."""
    register_grant_kind(LoanDiscount())
    register_grant_kind(RobotSubsidy())
