"""The trial voucher as a grant kind (``voucher.grants``): paid to the provider in two milestones,
the advance (once the enterprise confirmed the kick-off) and the balance (once the effect
evaluation passed and both parties accepted the delivery).  :func:`register` is called by
``voucher.registries.register_grant_kinds``."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, DateTime, case, cast, func, null, select, type_coerce

from voucher.applications.models import TrialApplication
from voucher.extensions import db
from voucher.grants import Due, GrantKind, PayableSQL, register_grant_kind
from voucher.money import format_money
from voucher.trials.models import Trial

SOURCE_TYPE = "trial_application"
# Trial-voucher application states in which the grant stands (approved and not cancelled).
GRANTED_STATES = ("approved", "trial_running", "trial_completed", "evaluated", "closed")


def _pct(value) -> str:
    d = Decimal(str(value))
    return f"{d.normalize():f}" if d == d.to_integral_value() else f"{d:f}"


def _advance_pct(basis: dict):
    """The advance percentage the trial's kick-off used (stored on the trial); the copy in the
    disbursement's basis only where the trial has none (a basis written before the trial stored
    it copied the programme's parameter of the day the payment was prepared)."""
    stored = None
    if basis.get("trial_id") is not None:
        stored = db.session.scalar(select(Trial.advance_pct).where(Trial.id == int(basis["trial_id"])))
    return stored if stored is not None else basis.get("advance_pct", "0")


class TrialVoucher(GrantKind):
    source_type = SOURCE_TYPE
    funding_kind = "trial_voucher"
    label_text = _l("Trial-voucher application no. %(id)s")
    detail_endpoint = ("applications.detail", "application_id")
    dossier_subject = "application"

    def lock(self, source_id: int) -> None:
        db.session.execute(select(TrialApplication.id).where(TrialApplication.id == source_id).with_for_update())

    def payables(self, *, programme_id: int | None = None, source_id: int | None = None) -> list[Due]:
        from voucher.trials.queries import payable_items

        if source_id is not None:
            programme_id = db.session.scalar(select(TrialApplication.programme_id)
                                             .where(TrialApplication.id == source_id))
            if programme_id is None:
                return []
        items = payable_items(programme_id, application_id=source_id)
        if not items:
            return []
        trials = {t.id: t for t in db.session.scalars(select(Trial).where(Trial.id.in_({i.trial_id for i in items})))}
        out = []
        for i in items:
            t = trials[i.trial_id]
            # The percentage the kick-off used (stored on the trial), never the programme's of today.
            basis = {"approved_amount": str(t.approved_amount), "advance_pct": str(t.advance_pct),
                     "advance": str(t.advance_amount), "balance": str(t.balance_amount), "trial_id": t.id}
            out.append(Due(i.programme_id, self.funding_kind, SOURCE_TYPE, i.application_id, i.milestone, i.amount,
                           i.payee_organisation_id, t.enterprise_id, i.due_since, basis))
        return out

    def payable_selects(self, sql: PayableSQL, payee_id: int | None = None) -> list:
        no_time = cast(null(), DateTime(timezone=True))
        T, A = Trial, TrialApplication
        base = (select().select_from(T).join(A, A.id == T.application_id)
                .where(T.start_date.is_not(None), T.advance_amount.is_not(None), A.status != "cancelled"))
        if payee_id is not None:
            base = base.where(T.provider_id == payee_id)
        advance = base.add_columns(
            T.programme_id.label("programme_id"), sql.text(SOURCE_TYPE).label("source_type"),
            T.application_id.label("source_id"), sql.text("advance").label("milestone"),
            type_coerce(T.advance_amount, BigInteger).label("amount"), T.provider_id.label("payee_id"),
            T.enterprise_id.label("enterprise_id"), T.start_date.label("due_day"), no_time.label("due_at"),
        ).where(type_coerce(T.advance_amount, BigInteger) > 0,
                ~sql.paid_exists(SOURCE_TYPE, T.application_id, "advance"),
                ~sql.live_exists(SOURCE_TYPE, T.application_id, "advance"))
        # trials.queries.balance_due_since: the later of the evaluation result and the second acceptance
        balance_since = case((T.accepted_at > T.evaluated_at, T.accepted_at), else_=T.evaluated_at)
        balance = base.add_columns(
            T.programme_id, sql.text(SOURCE_TYPE), T.application_id, sql.text("balance"),
            type_coerce(T.balance_amount, BigInteger), T.provider_id, T.enterprise_id,
            sql.local_day(balance_since), balance_since,
        ).where(T.outcome == "passed", T.acceptance_status == "accepted",  # trials.queries.balance_due
                type_coerce(T.balance_amount, BigInteger) > 0,
                ~sql.paid_exists(SOURCE_TYPE, T.application_id, "balance"),
                ~sql.live_exists(SOURCE_TYPE, T.application_id, "balance"))
        return [advance, balance]

    def granted(self, programme_id: int) -> list[tuple[int, int, Decimal]]:
        return [tuple(r) for r in db.session.execute(
            select(TrialApplication.id, TrialApplication.enterprise_id, TrialApplication.requested_amount)
            .where(TrialApplication.programme_id == programme_id, TrialApplication.status.in_(GRANTED_STATES))
            .order_by(TrialApplication.id)).all()]

    def cancel(self, actor, source_id: int, reason: str) -> None:
        from voucher.applications import services as applications
        from voucher.errors import ValidationFailed

        application = db.session.get(TrialApplication, source_id)
        if application is None or application.status != "approved":
            raise ValidationFailed("This grant's trial has started, so it cannot be cancelled here; it stays "
                                   "held and unpaid.", field="cancel_grant")
        applications.cancel(actor, application.id, reason)  # the ledger release first (lock order)

    def working_lines(self, disbursement, translate) -> list[str]:
        _ = translate
        d = disbursement
        basis = d.basis or {}
        approved = Decimal(basis.get("approved_amount", "0"))
        advance = Decimal(basis.get("advance", "0"))
        lines = [_("Approved trial-voucher amount: %(amount)s", amount=format_money(approved))]
        if d.milestone == "advance":
            lines.append(_("Advance: %(approved)s × %(pct)s%% = %(advance)s (rounded to the fen, half up), payable "
                           "once the enterprise confirmed the kick-off", approved=format_money(approved),
                           pct=_pct(_advance_pct(basis)), advance=format_money(advance)))
        else:
            lines.append(_("Balance: %(approved)s − advance %(advance)s = %(balance)s, payable once the effect "
                           "evaluation passed", approved=format_money(approved), advance=format_money(advance),
                           balance=format_money(Decimal(basis.get("balance", "0")))))
        lines.append(_("Amount of this payment: %(amount)s", amount=format_money(d.amount)))
        return lines

    # --- amendments (voucher.trials.amendment) ---------------------------------------------------
    amendable_fields = ("requested_amount", "trial_start_date")

    def amendment_subject(self, source_id: int):
        from voucher.trials import amendment

        return amendment.subject(source_id)

    def amendment_refusal(self, source_id: int):
        from voucher.trials import amendment

        return amendment.refusal(source_id)

    def check_amendment(self, source_id: int, asked: dict, today):
        from voucher.trials import amendment

        return amendment.check(source_id, asked, today)

    def apply_amendment(self, actor, source_id: int, changes: dict) -> Decimal:
        from voucher.trials import amendment

        return amendment.apply(actor, source_id, changes)

    def obligations(self, source_id: int) -> list:
        """The provider delivers the accepted scope of the trial: from the trial's start to its
        acceptance (completion), or to its planned end while it runs."""
        from flask_babel import gettext as _

        from voucher.deadlines import local_date
        from voucher.grants import Obligation

        trial = db.session.scalar(select(Trial).where(Trial.application_id == source_id))
        if trial is None:
            return []
        starts = trial.start_date or local_date(trial.opened_at)
        ends = local_date(trial.completed_at) if trial.completed_at else trial.end_date
        return [Obligation("trial_scope", _("The provider delivers the accepted scope of the trial"), starts, ends,
                           trial.provider_id)]

    def programme_figures(self, programme_id: int) -> dict[str, int]:
        rows = db.session.execute(select(Trial.outcome, func.count()).where(Trial.programme_id == programme_id)
                                  .group_by(Trial.outcome)).all()
        counts = {o: n for o, n in rows}
        adopted = db.session.execute(select(Trial.adopted, func.count())
                                     .where(Trial.programme_id == programme_id, Trial.adopted.is_not(None))
                                     .group_by(Trial.adopted)).all()
        a = {bool(k): n for k, n in adopted}
        return {"trials_passed": counts.get("passed", 0), "trials_failed": counts.get("failed", 0),
                "trials_pending": counts.get(None, 0), "adopted": a.get(True, 0),
                "adoption_decided": a.get(True, 0) + a.get(False, 0)}


def register() -> None:
    """Register the trial voucher's grant kind and its audit dossier (idempotent)."""
    from voucher.trials import dossier

    register_grant_kind(TrialVoucher())
    dossier.register()
