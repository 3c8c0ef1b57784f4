"""The recovery notice (追回通知书) as a signed PDF (issue 18 §3, §5): the grant, the obligation, the
breach, the amount in figures and in capitals with its working, the deadline, the bureau's seal box
(where the signature is shown) and the verification block.

Registered by ``voucher.registries.register_documents`` through :func:`register` (kind
``recovery_notice``, subject ``recovery_order``, requested by officers, signed like the payment
documents); the download rule: the bureau and the debtor's own users.
"""
from __future__ import annotations

from contextlib import contextmanager

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from voucher.access import BUREAU
from voucher.audit.services import Actor
from voucher.calc.common import Step
from voucher.documents.builders import (
    IssueContext,
    PermanentJobError,
    register_builder,
    register_download_rule,
    register_subject_lookup,
)
from voucher.documents.pdf import (
    _build,
    _fields,
    _frame_width,
    _header,
    _seal_block,
    _styles,
    _verification_block,
    amount_in_capitals,
    amount_in_figures,
    labels_for,
)
from voucher.enterprises.models import Organisation
from voucher.extensions import db
from voucher.recovery.models import RecoveryOrder

LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


@contextmanager
def in_language(lang: str):
    with force_locale(LOCALES.get(lang, "zh_Hans_CN")):
        yield


def working_lines(order: RecoveryOrder) -> list[str]:
    """The order's working, one sentence per step, in the current language."""
    return [Step(s["code"], s["text"], s["values"]).render(_) for s in order.working or []]


def recovery_notice_pdf(order: RecoveryOrder, lang: str, issue: IssueContext | None = None) -> bytes:
    from voucher.recovery.queries import METHOD_LABELS, obligation_label

    lb = labels_for(lang)
    st = _styles()
    width = _frame_width()
    debtor = db.session.get(Organisation, order.debtor_id)
    with in_language(lang):
        title = _("Recovery notice")
        story = _header(title, lb)
        story.append(_fields([
            (_("Reference"), order.reference),
            (_("To"), debtor.name if debtor else ""),
            (_("Grant"), order.application_number or ""),
            (_("Obligation"), obligation_label(order.obligation)),
            (_("Obligation period"), f"{order.obligation_starts_on or '—'} – {order.obligation_ends_on or '—'}"),
            (_("Day of the breach"), order.breach_on.isoformat()),
            (_("Breach"), order.reason),
            (_("Method"), str(METHOD_LABELS[order.method])),
            (_("Amount to pay back"), amount_in_figures(order.amount)),
            (_("In words"), amount_in_capitals(order.amount)),
            (_("Pay back by"), order.due_on.isoformat()),
        ], width))
        story.append(st.p(_("Working"), "h2"))
        for n, line in enumerate(working_lines(order), 1):
            story.append(st.p(f"{n}. {line}"))
        story.append(st.p(_("Pay the amount to the programme's account by the day above, quoting the reference. "
                            "Money not paid back may be deducted from later payments to you.")))
        story.append(Spacer(1, 4 * mm))
        story.append(_seal_block(lb, width))
    if issue and issue.verification_code:
        story.append(Spacer(1, 3 * mm))
        story.append(_verification_block(issue.verification_code, issue.verification_url, lb, width))
    return _build(story, title=f"{title} {order.reference}", lang=lang, invariant=False)


def build_recovery_notice(subject_id: int, lang: str, issue: IssueContext):
    order = db.session.get(RecoveryOrder, subject_id)
    if order is None:
        raise PermanentJobError(f"Recovery order {subject_id} does not exist.")
    return (f"recovery-notice-{order.reference}.pdf", recovery_notice_pdf(order, lang, issue), "application/pdf")


def recovery_order_rule(actor: Actor, subject_id: int, kind: str | None) -> bool:
    """The bureau; and the debtor's own users."""
    if actor.role in BUREAU:
        return True
    if actor.organisation_id is None:
        return False
    debtor = db.session.get(RecoveryOrder, subject_id)
    return debtor is not None and debtor.debtor_id == actor.organisation_id


def register() -> None:
    register_builder("recovery_notice", build_recovery_notice, subject_type="recovery_order",
                     roles=("officer",), label=_l("Recovery notice"), signed=True)
    register_download_rule("recovery_order", recovery_order_rule, label=_l("Recovery order"))
    register_subject_lookup("recovery_order", lambda subject_id: db.session.get(RecoveryOrder, subject_id) is not None)
