"""Enterprises and provider profiles: registration, profile edits, access to enterprise records.

Rules enforced here (the views and the API only parse and render):
- an organisation is identified by a valid unified social credit code (GB 32100-2015, check
  digit), stored in its compact upper-case form and unique across all organisations;
- an enterprise's size class is derived from employees and revenue (``voucher.calc``), never
  typed in; a large enterprise may register but may not apply;
- an SME user registers at most one enterprise and edits only its own; a provider user edits
  only its own organisation's profile; bureau roles read every enterprise;
- every registration and change writes an audit event (changes: before/after of the changed
  fields only).
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc as uscc_lib
from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.auth.models import User
from voucher.auth.policy import ensure_own_organisation
from voucher.calc import SizeResult, classify_enterprise
from voucher.enterprises.models import Enterprise, Organisation
from voucher.errors import N_, Duplicate, Forbidden, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.formulas import BANK_NAME_MESSAGE, NAME_MESSAGE, mark_formula
from voucher.identifiers import normalise_identifier
from voucher.reference import DISTRICTS, INDUSTRIES

FEN = Decimal("0.01")
MAX_REVENUE = Decimal("999999999999.99")
MAX_EMPLOYEES = 10_000_000
_PHONE = re.compile(r"^\+?[0-9()\- ]{7,40}$")
_ACCOUNT = re.compile(r"^[0-9]{8,32}$")
_BANK_CODE = re.compile(r"^[0-9]{12}$")  # 联行号 (CNAPS)

DUPLICATE_USCC = N_("This credit code is already registered. If this is your enterprise, contact the bureau "
                    "to be added to its account.")


# --- the credit code ------------------------------------------------------------------------

def normalise_uscc(raw: str | None) -> str:
    """The compact upper-case USCC, or ValidationFailed on the ``uscc`` field.

    Rule: spaces and hyphens are ignored and lower case is accepted; the code must have 18
    characters, the allowed alphabet, and a matching check digit.
    """
    # Full-width characters, invisible spaces and odd dashes are folded first (one normalisation
    # for every identifier behind a "unique" rule); stdnum then drops the ASCII separators.
    text = normalise_identifier(raw)
    if not text:
        raise ValidationFailed("Enter the unified social credit code.", field="uscc")
    compact = uscc_lib.compact(text)
    try:
        return uscc_lib.validate(compact)
    except InvalidLength:
        raise ValidationFailed("A unified social credit code has exactly 18 characters; this one has %(length)s.",
                               field="uscc", length=len(compact)) from None
    except InvalidChecksum:
        raise ValidationFailed("The check digit (the last character) does not match the rest of the code. "
                               "Please copy the code again from the business licence.", field="uscc") from None
    except ValidationError:
        raise ValidationFailed("The code contains characters a credit code never has (the first 8 are digits; "
                               "the letters I, O, S, V and Z are never used).", field="uscc") from None


def _ensure_uscc_free(code: str, own_organisation_id: int | None = None) -> None:
    stmt = select(func.count()).select_from(Organisation).where(Organisation.uscc == code)
    if own_organisation_id is not None:
        stmt = stmt.where(Organisation.id != own_organisation_id)
    if db.session.scalar(stmt):
        # Deliberately names nobody: the other organisation's data stays private.
        raise Duplicate(DUPLICATE_USCC, field="uscc")


@contextmanager
def _uscc_guard():
    """Write inside a savepoint: a concurrent registration of the same code (past the check
    above) becomes the same clear refusal, not a server error."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError as exc:
        if "uscc" in str(exc.orig).lower():
            raise Duplicate(DUPLICATE_USCC, field="uscc") from None
        raise


# --- input ------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnterpriseInput:
    name: str
    uscc: str
    district: str
    industry: str
    employees: int
    annual_revenue: Decimal
    industrial_park: str | None
    contact_name: str
    contact_phone: str
    bank_name: str
    bank_account: str
    bank_code: str | None = None


@dataclass(frozen=True)
class ProviderProfileInput:
    name: str
    uscc: str
    description: str | None
    contact_name: str
    contact_phone: str
    bank_name: str
    bank_account: str
    bank_code: str | None = None


def _text(value: str | None) -> str:
    return (value or "").strip()


def _required(errors: dict, field: str, value: str, max_len: int, message: str) -> str:
    if not value:
        errors[field] = message
    elif len(value) > max_len:
        errors[field] = _TOO_LONG[max_len]
    return value


# Whole sentences (not one template with a number), so one error can carry several fields.
_TOO_LONG = {100: "At most 100 characters.", 200: N_("At most 200 characters."), 4000: N_("At most 4000 characters.")}


def _contact_and_bank(data, errors: dict) -> dict:
    contact_name = _required(errors, "contact_name", _text(data.contact_name), 100, N_("Enter a contact person."))
    phone = _text(data.contact_phone)
    if not phone:
        errors["contact_phone"] = N_("Enter a contact phone number.")
    elif not _PHONE.match(phone):
        errors["contact_phone"] = N_("Enter a phone number of digits (spaces, hyphens and brackets allowed).")
    bank_name = _required(errors, "bank_name", _text(data.bank_name), 200, N_("Enter the name of the bank."))
    mark_formula(errors, "bank_name", bank_name, BANK_NAME_MESSAGE)
    account = normalise_identifier(data.bank_account).replace("-", "")  # full-width digits, invisible spaces too
    if not account:
        errors["bank_account"] = N_("Enter the bank account number that payments go to.")
    elif not _ACCOUNT.match(account):
        errors["bank_account"] = N_("A bank account number has 8 to 32 digits.")
    code = normalise_identifier(data.bank_code or "").replace("-", "") or None
    if code is not None and not _BANK_CODE.match(code):
        errors["bank_code"] = N_("A bank code (CNAPS) has 12 digits.")
    return {"contact_name": contact_name, "contact_phone": phone, "bank_name": bank_name, "bank_account": account,
            "bank_code": code}


def _check_uscc(raw: str, errors: dict, params: dict) -> str | None:
    try:
        return normalise_uscc(raw)
    except ValidationFailed as err:
        errors["uscc"] = err.message
        params.update(err.params)
        return None


def clean_enterprise(data: EnterpriseInput) -> dict:
    """Normalised values of an enterprise form, or ValidationFailed naming every bad field (a name
    or bank name beginning with a spreadsheet formula character is refused: ``voucher.formulas``)."""
    errors: dict[str, str] = {}
    params: dict = {}
    values = {"name": _required(errors, "name", _text(data.name), 200, N_("Enter the enterprise's registered name."))}
    mark_formula(errors, "name", values["name"], NAME_MESSAGE)
    values["uscc"] = _check_uscc(data.uscc, errors, params)
    if data.district not in DISTRICTS:
        errors["district"] = N_("Choose the district.")
    if data.industry not in INDUSTRIES:
        errors["industry"] = N_("Choose the industry.")
    values["district"], values["industry"] = data.district, data.industry
    employees = data.employees
    if employees is None or isinstance(employees, bool) or not isinstance(employees, int):
        errors["employees"] = N_("Enter the number of employees as a whole number.")
    elif employees < 0:
        errors["employees"] = N_("The number of employees cannot be negative.")
    elif employees > MAX_EMPLOYEES:
        errors["employees"] = N_("Enter the number of employees (at most 10,000,000).")
    values["employees"] = employees
    revenue = data.annual_revenue
    if not isinstance(revenue, Decimal) or not revenue.is_finite() or revenue != revenue.quantize(FEN):
        errors["annual_revenue"] = N_("Enter the annual revenue in yuan with at most two decimals.")
    elif revenue < 0:
        errors["annual_revenue"] = N_("The annual revenue cannot be negative.")
    elif revenue > MAX_REVENUE:
        errors["annual_revenue"] = N_("Enter the annual revenue in yuan (at most 999,999,999,999.99).")
    else:
        revenue = revenue.quantize(FEN)
    values["annual_revenue"] = revenue
    park = _text(data.industrial_park) or None
    if park and len(park) > 200:
        errors["industrial_park"] = _TOO_LONG[200]
    values["industrial_park"] = park
    values.update(_contact_and_bank(data, errors))
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors, **params)
    return values


def size_of(employees: int, annual_revenue: Decimal) -> SizeResult:
    """The size class by the MIIT rule (large needs both 1000 employees and 400M revenue, ...)."""
    return classify_enterprise(employees, annual_revenue)


# --- registering and editing an enterprise ---------------------------------------------------

_ORG_FIELDS = ("name", "uscc", "contact_name", "contact_phone", "bank_name", "bank_account", "bank_code")
_ENT_FIELDS = ("district", "industry", "employees", "annual_revenue", "industrial_park", "size_class")


def _snapshot(org: Organisation) -> dict:
    out = {f: getattr(org, f) for f in _ORG_FIELDS}
    ent = org.enterprise
    out.update({f: getattr(ent, f) if ent is not None else None for f in _ENT_FIELDS})
    return out


def register_enterprise(actor: Actor, data: EnterpriseInput) -> Organisation:
    """Register the acting SME user's enterprise and link the user to it.

    Rule: only an SME user without an organisation may register; the credit code must be valid
    and not registered already (the refusal names no other company); the size class is
    derived from employees and revenue. A large enterprise may register but may not apply.
    Writes ``enterprise.registered`` and ``user.organisation_linked``.
    """
    require(actor, "enterprises.own_profile")
    user = db.session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise Forbidden("Only a logged-in enterprise user can register an enterprise.")
    if user.organisation_id is not None:
        raise Duplicate("Your account already belongs to an enterprise; edit it instead of registering a new one.")
    values = clean_enterprise(data)
    _ensure_uscc_free(values["uscc"])
    size = size_of(values["employees"], values["annual_revenue"])
    org = Organisation(kind="enterprise", **{f: values[f] for f in _ORG_FIELDS})
    with _uscc_guard():
        db.session.add(org)
    db.session.add(Enterprise(organisation=org, size_class=size.size_class,
                              **{f: values[f] for f in _ENT_FIELDS if f != "size_class"}))
    user.organisation_id = org.id
    db.session.flush()
    record_event(actor, "enterprise.registered", "organisation", org.id, after=_snapshot(org))
    record_event(actor, "user.organisation_linked", "user", user.id,
                 before={"organisation_id": None}, after={"organisation_id": org.id})
    return org


def update_enterprise(actor: Actor, organisation_id: int, data: EnterpriseInput) -> tuple[Organisation, dict]:
    """Change an enterprise's profile (including its bank account); the size class is re-derived.

    Rule: an SME user edits only its own enterprise; a changed credit code must be valid and
    free. One ``enterprise.updated`` event holds before/after of exactly the changed fields;
    nothing changed → no event. Returns the organisation and the changed fields' new values.
    """
    require(actor, "enterprises.own_profile")
    ensure_own_organisation(actor, organisation_id)
    org = db.session.get(Organisation, organisation_id)
    if org is None or org.kind != "enterprise":
        raise NotFound("No such enterprise.")
    values = clean_enterprise(data)
    if values["uscc"] != org.uscc:
        _ensure_uscc_free(values["uscc"], org.id)
    values["size_class"] = size_of(values["employees"], values["annual_revenue"]).size_class
    before_all = _snapshot(org)
    changed = {f: values[f] for f in before_all if before_all[f] != values[f]}
    if not changed:
        return org, {}
    with _uscc_guard():
        for f in _ORG_FIELDS:
            setattr(org, f, values[f])
        if org.enterprise is None:
            db.session.add(Enterprise(organisation=org, **{f: values[f] for f in _ENT_FIELDS}))
        else:
            for f in _ENT_FIELDS:
                setattr(org.enterprise, f, values[f])
    record_event(actor, "enterprise.updated", "organisation", org.id,
                 before={f: before_all[f] for f in changed}, after=changed)
    return org, changed


def get_enterprise(actor: Actor, organisation_id: int) -> Organisation:
    """An enterprise the actor may read. Rule: bureau roles read every enterprise; an SME user
    only its own (another → 403); everyone else nothing."""
    org = db.session.get(Organisation, organisation_id)
    if org is None or org.kind != "enterprise":
        raise NotFound("No such enterprise.")
    require(actor, "enterprises.read", message="You may not see this.")
    require(actor, "enterprises.read", org, message="You may not see this.")
    return org


def my_enterprise(actor: Actor) -> Organisation | None:
    """The acting SME user's enterprise organisation, or None before registration."""
    if actor.role != "sme" or actor.organisation_id is None:
        return None
    org = db.session.get(Organisation, actor.organisation_id)
    return org if org is not None and org.kind == "enterprise" else None


# --- provider profile ---------------------------------------------------------------------

_PROVIDER_FIELDS = ("name", "uscc", "description", "contact_name", "contact_phone", "bank_name", "bank_account",
                    "bank_code")


def own_provider(actor: Actor) -> Organisation:
    """The acting provider user's own organisation: the only provider profile it can reach."""
    require(actor, "enterprises.provider_profile")
    org = db.session.get(Organisation, actor.organisation_id) if actor.organisation_id is not None else None
    if org is None or org.kind != "provider":
        raise Forbidden("Your account does not belong to a provider organisation.")
    return org


def clean_provider(data: ProviderProfileInput) -> dict:
    errors: dict[str, str] = {}
    params: dict = {}
    values = {"name": _required(errors, "name", _text(data.name), 200, N_("Enter the provider's registered name."))}
    mark_formula(errors, "name", values["name"], NAME_MESSAGE)
    values["uscc"] = _check_uscc(data.uscc, errors, params)
    description = _text(data.description) or None
    if description and len(description) > 4000:
        errors["description"] = _TOO_LONG[4000]
    values["description"] = description
    values.update(_contact_and_bank(data, errors))
    if errors:
        raise ValidationFailed("Please correct the marked fields.", fields=errors, **params)
    return values


def update_provider_profile(actor: Actor, data: ProviderProfileInput) -> tuple[Organisation, dict]:
    """Change the acting provider's own profile (name, credit code, description, contact, bank).

    Rule: a provider user reaches only its own organisation (no id is taken from the caller);
    a changed credit code must be valid and free. One ``provider.profile_updated`` event holds
    before/after of exactly the changed fields; nothing changed → no event.
    """
    org = own_provider(actor)
    values = clean_provider(data)
    if values["uscc"] != org.uscc:
        _ensure_uscc_free(values["uscc"], org.id)
    before_all = {f: getattr(org, f) for f in _PROVIDER_FIELDS}
    changed = {f: values[f] for f in _PROVIDER_FIELDS if before_all[f] != values[f]}
    if not changed:
        return org, {}
    with _uscc_guard():
        for f, v in changed.items():
            setattr(org, f, v)
    record_event(actor, "provider.profile_updated", "organisation", org.id,
                 before={f: before_all[f] for f in changed}, after=changed)
    return org, changed


def enterprise_input_from(org: Organisation) -> EnterpriseInput:
    """The current values as an input (handy for callers that change one field)."""
    ent = org.enterprise
    return EnterpriseInput(name=org.name, uscc=org.uscc or "", district=ent.district, industry=ent.industry,
                           employees=ent.employees, annual_revenue=ent.annual_revenue,
                           industrial_park=ent.industrial_park, contact_name=org.contact_name or "",
                           contact_phone=org.contact_phone or "", bank_name=org.bank_name or "",
                           bank_account=org.bank_account or "", bank_code=org.bank_code)


__all__ = ["EnterpriseInput", "ProviderProfileInput", "normalise_uscc", "register_enterprise", "update_enterprise",
           "get_enterprise", "my_enterprise", "own_provider", "update_provider_profile", "size_of",
           "clean_enterprise", "clean_provider", "enterprise_input_from"]
