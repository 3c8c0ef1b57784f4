"""The contract between payments and the kinds of grant (issue 17 §1).

A *grant kind* is what a disbursement pays: a trial voucher (``trial_application``), a loan
interest discount (``loan_application``), a robot purchase subsidy (``robot_application``).
payments/ knows no kind by name: it asks the registered :class:`GrantKind` of a disbursement's
``source_type`` for what differs between kinds (what is payable, how the amount was worked out,
how to lock or cancel the grant, its label and page).  Each kind registers itself from its own
domain (``voucher/trials/grant.py``, ``voucher/subsidies/grant.py``) with
:func:`register_grant_kind`; :func:`voucher.registries.register_grant_kinds` runs those registrations once per
``create_app`` (registering a kind again replaces it, so running it twice is harmless).

The other direction: a domain that must know whether a payment of one of its grants is under way
(subsidies refuses to cancel such a grant) asks :func:`payment_under_way` here; payments answers
it through :func:`register_payment_under_way`.  So subsidies/ imports nothing from payments/ and
payments/ imports nothing from the kinds' domains.

What a new kind must provide is listed on :class:`GrantKind` (and in docs/DEVELOPING.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

__all__ = ["AmendmentSubject", "Due", "Obligation", "GrantKind", "PayableSQL", "grant_kind", "kinds", "payment_under_way",
           "register_grant_kind", "register_payment_under_way"]


@dataclass(frozen=True)
class Due:
    """One item of a grant that is due for payment (before payments filters out the items a live
    disbursement already takes and works out its hold)."""

    programme_id: int
    funding_kind: str
    source_type: str
    source_id: int
    milestone: str
    amount: Decimal
    payee_id: int
    enterprise_id: int
    due_since: date | datetime | None
    basis: dict


@dataclass(frozen=True)
class AmendmentSubject:
    """An approved grant as an amendment sees it: its owner, programme, number, state and the
    current values of its amendable fields (as strings)."""

    source_type: str
    source_id: int
    programme_id: int
    enterprise_id: int
    number: str | None
    status: str
    values: dict


@dataclass(frozen=True)
class Obligation:
    """What the grant binds its payee to, from the programme's rules (issue 18 §3), with its dates
    (None: not yet known, e.g. the subsidy is not paid yet).  Breaching it may lead to a recovery
    order (``voucher.recovery``) from ``debtor_id``, the organisation the grant was paid to."""

    code: str
    label: str
    starts_on: date | None
    ends_on: date | None
    debtor_id: int


@dataclass(frozen=True)
class PayableSQL:
    """What payments lends a kind to write its payable items as SQL (the start pages' queue):

    ``text(value)`` a string literal column; ``paid_exists(source_type, source_id, milestone)`` an
    EXISTS of the ledger's ``pay`` entry; ``live_exists(source_type, source_id, milestone)`` an
    EXISTS of a live disbursement; ``local_day(column)`` the Asia/Shanghai day of a UTC timestamp."""

    text: Callable[[str], Any]
    paid_exists: Callable[[str, Any, str], Any]
    live_exists: Callable[[str, Any, str], Any]
    local_day: Callable[[Any], Any]


class GrantKind:
    """One kind of grant, as payments sees it.  A kind sets the four attributes and implements the
    methods (those with a default may be left alone).

    Attributes:
        source_type: the ``Disbursement.source_type`` (and fund-ledger ``source_type``) of its grants.
        funding_kind: the programme's funding kind (``voucher.reference.FUNDING_KINDS``).
        label_text: a lazy translatable text with ``%(id)s`` (the grant's number): "… no. %(id)s".
        detail_endpoint: ``(endpoint, argument)`` of the grant's page, or None.
        dossier_subject: the documents subject type of the kind's audit dossier, or None.
    """

    source_type: str = ""
    funding_kind: str = ""
    label_text: Any = ""
    detail_endpoint: tuple[str, str] | None = None
    dossier_subject: str | None = None

    # --- words and links ---------------------------------------------------------------------

    def label(self, source_id: int) -> str:
        """The grant in words, with its application number ("Trial-voucher application no. …")."""
        from voucher.appnumbers import number_of

        return str(self.label_text) % {"id": number_of(self.source_type, source_id) or source_id}

    def detail_link(self, source_id: int) -> str | None:
        """The URL of the grant's page (None when that page is not served)."""
        from flask import current_app, url_for

        if self.detail_endpoint and self.detail_endpoint[0] in current_app.view_functions:
            return url_for(self.detail_endpoint[0], **{self.detail_endpoint[1]: source_id})
        return None

    def exists(self, source_id: int) -> bool:
        """Whether the grant's application exists (every kind's row is numbered: ``voucher.appnumbers``)."""
        from voucher.appnumbers import number_of

        return number_of(self.source_type, source_id) is not None

    # --- what payments asks ------------------------------------------------------------------

    def lock(self, source_id: int) -> None:
        """Lock the grant's row (``SELECT … FOR UPDATE``), as cancelling the grant does first."""
        raise NotImplementedError

    def payables(self, *, programme_id: int | None = None, source_id: int | None = None) -> list[Due]:
        """The items of the kind's grants that are due (already-paid items excluded; items taken by a
        live disbursement are filtered out by payments)."""
        raise NotImplementedError

    def payable_selects(self, sql: PayableSQL, payee_id: int | None = None) -> list:
        """The same items as :meth:`payables`, as SELECTs of the columns (programme_id, source_type,
        source_id, milestone, amount in fen, payee_id, enterprise_id, due_day, due_at), items already
        paid or taken by a live disbursement left out (``sql.paid_exists`` / ``sql.live_exists``)."""
        raise NotImplementedError

    def granted(self, programme_id: int) -> list[tuple[int, int, Decimal]]:
        """The programme's grants that stand (approved, not cancelled): (source_id, enterprise_id,
        amount), in id order — what a public notice may list."""
        raise NotImplementedError

    def cancel(self, actor, source_id: int, reason: str) -> None:
        """Cancel the grant (an objection to its public notice was upheld): release its reservation.
        Raises a DomainError when it cannot be cancelled (e.g. a payment of it is under way)."""
        raise NotImplementedError

    def working_lines(self, disbursement, translate) -> list[str]:
        """How the disbursement's amount was worked out, one line each, in ``translate``'s language."""
        raise NotImplementedError

    def programme_figures(self, programme_id: int) -> dict[str, int]:
        """Figures of the programme report that only this kind has (keys of ``ProgrammeReportData``)."""
        return {}

    # --- amendments (变更申请, voucher/amendments) -------------------------------------------------
    # A kind that may be amended names the fields an SME may ask to change; an empty tuple: none.
    amendable_fields: tuple[str, ...] = ()
    # Of those, the uploaded files (checked by ``check_amendment``, stored by ``store_amendment_file``).
    amendment_files: tuple[str, ...] = ()

    def store_amendment_file(self, actor, source_id: int, field: str, upload) -> str:
        """Store a checked upload of an amendment request; returns what ``changes[field]["after"]`` holds."""
        raise NotImplementedError

    def amendment_subject(self, source_id: int) -> "AmendmentSubject":
        """Who owns the grant and what its amendable fields are now (raises NotFound)."""
        raise NotImplementedError

    def amendment_refusal(self, source_id: int):
        """Why the grant cannot be amended at all now (a DomainError: not approved, fully paid, a payment
        under way), or None: the grant's page then offers "Request a change" and the form is shown."""
        return None

    def check_amendment(self, source_id: int, asked: dict, today: date) -> dict[str, dict[str, str]]:
        """The changes ``asked`` (field -> typed new value, None: unchanged) checked against the grant
        as it stands: ``{field: {"before": str, "after": str}}``.  Raises a DomainError naming the
        field and the limit (nothing changed, over the cap, the grant is paid or cannot change)."""
        raise NotImplementedError

    def apply_amendment(self, actor, source_id: int, changes: dict[str, dict[str, str]]) -> Decimal:
        """Apply approved changes (the grant's row locked by the caller through :meth:`lock`): the
        ledger reserve or release of the difference under the programme's lock and caps, the grant's
        rows, an audit event.  Returns the ledger difference (+ reserved, − released, 0)."""
        raise NotImplementedError

    # --- recovery (追回, voucher/recovery) -------------------------------------------------------

    def obligations(self, source_id: int) -> list[Obligation]:
        """The grant's obligations with their dates (translated labels); empty: nothing to breach."""
        return []

    def __repr__(self) -> str:
        return f"<GrantKind {self.source_type}>"


_kinds: dict[str, GrantKind] = {}
_under_way: list[Callable[[str, int], str | None]] = []


def register_grant_kind(kind: GrantKind) -> GrantKind:
    """Make ``kind`` the grant kind of its ``source_type`` (replacing an earlier one, in place)."""
    if not kind.source_type:
        raise ValueError("A grant kind needs a source_type.")
    _kinds[kind.source_type] = kind
    return kind


def unregister_grant_kind(source_type: str) -> None:
    _kinds.pop(source_type, None)


def grant_kind(source_type: str) -> GrantKind | None:
    """The registered kind of ``source_type`` (None for an unknown one)."""
    return _kinds.get(source_type)


def kinds() -> list[GrantKind]:
    """Every registered kind, in registration order (trial voucher, loan discount, robot subsidy)."""
    return list(_kinds.values())


def register_payment_under_way(check: Callable[[str, int], str | None]) -> None:
    """Register the answer to "is a payment of this grant under way?": ``check(source_type,
    source_id)`` returns the live disbursement's reference, or None.  payments registers it."""
    if check not in _under_way:
        _under_way.append(check)


def payment_under_way(source_type: str, source_id: int) -> str | None:
    """The reference of a live disbursement of the grant (prepared, approved, in a batch or paid:
    ``payments.models.LIVE_STATES``), or None (also when no payments module registered its check)."""
    for check in _under_way:
        reference = check(source_type, source_id)
        if reference:
            return reference
    return None


def under_way_registered() -> bool:
    return bool(_under_way)

