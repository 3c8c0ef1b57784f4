"""A programme's rule versions (issue 19 §3): the parameters in force on a day, drafting a change, publishing it with a start day.

Rules enforced here:
- every decision reads its parameters through :func:`version_in_force` / :func:`parameters_on` for the
  day it is made, and stores the version it used (the decision's own domain writes the reference);
- a published version never changes: a change is a new draft, published with a start day that is
  not before today and after every published start, so no past decision's version changes;
- only a programme officer drafts, publishes or discards (``rules.draft``); each step is audited.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.db import utcnow
from voucher.errors import Conflict, NotFound, ValidationFailed
from voucher.extensions import db
from voucher.programmes.models import PARAMETER_DEFAULTS, RULE_VERSION_STATES, Programme, RuleVersion
from voucher.workflow import StateMachine, transition

MACHINE = StateMachine("rule_version", RULE_VERSION_STATES, (
    transition("publish", "draft", "published", "officer"),
    transition("discard", "draft", "discarded", "officer", requires_reason=True),
))


def serialise(values: dict) -> dict:
    """Parameters as stored in JSON: Decimals as strings with two decimals (as the columns and the
    migration store them, so a version made from unsaved values reads the same), integers as integers."""
    return {key: (str(Decimal(value).quantize(Decimal("0.01"))) if isinstance(PARAMETER_DEFAULTS[key], Decimal)
                  else int(value))
            for key, value in values.items() if key in PARAMETER_DEFAULTS}


def parse(stored: dict) -> dict[str, Decimal | int]:
    """Stored parameters back as the programme's types; a key missing from an old row takes the
    domain default."""
    out: dict[str, Decimal | int] = {}
    for key, default in PARAMETER_DEFAULTS.items():
        value = stored.get(key, default)
        out[key] = Decimal(str(value)) if isinstance(default, Decimal) else int(value)
    return out


def programme_parameters(programme: Programme) -> dict[str, Decimal | int]:
    """The parameters held on the programme's own columns (what its form last saved)."""
    return {key: getattr(programme, key) for key in PARAMETER_DEFAULTS}


def version_in_force(programme_id: int, day: date) -> RuleVersion:
    """The published version with the latest start on or before ``day``; before the first start, the
    first version (a programme's first version starts when its window opens, and a calculation may be
    previewed earlier)."""
    version = db.session.scalar(
        select(RuleVersion).where(RuleVersion.programme_id == programme_id, RuleVersion.status == "published",
                                  RuleVersion.effective_from <= day)
        .order_by(RuleVersion.effective_from.desc()).limit(1))
    if version is None:
        version = db.session.scalar(
            select(RuleVersion).where(RuleVersion.programme_id == programme_id, RuleVersion.status == "published")
            .order_by(RuleVersion.effective_from).limit(1))
    if version is None:
        raise NotFound("The programme has no published rule version.")
    return version


def parameters_on(programme_id: int, day: date) -> tuple[RuleVersion, dict[str, Decimal | int]]:
    """The version in force on ``day`` and its parameters."""
    version = version_in_force(programme_id, day)
    return version, parse(version.parameters)


def versions(programme_id: int) -> list[RuleVersion]:
    """Published versions newest first, then open drafts, then discarded ones."""
    order = {"published": 0, "draft": 1, "discarded": 2}
    rows = db.session.scalars(select(RuleVersion).where(RuleVersion.programme_id == programme_id)
                              .order_by(RuleVersion.effective_from.desc(), RuleVersion.id.desc()))
    return sorted(rows, key=lambda v: order[v.status])


def versions_with_changes(programme_id: int) -> tuple[list[RuleVersion], dict[int, dict]]:
    """:func:`versions`, and for each the parameters it changed against the previous published version
    (a draft: against its base; the first version: none)."""
    rows = versions(programme_id)
    published = sorted((v for v in rows if v.status == "published"), key=lambda v: v.effective_from)
    previous = {v.id: (published[i - 1] if i else None) for i, v in enumerate(published)}
    changes = {}
    for v in rows:
        base = previous.get(v.id) if v.status == "published" else v.based_on
        changes[v.id] = changed_parameters(base, v) if base is not None else {}
    return rows, changes


def get_version(version_id: int) -> RuleVersion:
    version = db.session.get(RuleVersion, version_id)
    if version is None:
        raise NotFound("No such rule version.")
    return version


def _next_number(programme_id: int) -> int:
    return (db.session.scalar(select(func.max(RuleVersion.number))
                              .where(RuleVersion.programme_id == programme_id)) or 0) + 1


def record_first_version(actor: Actor, programme: Programme) -> RuleVersion:
    """Version 1 of a new programme: its form's parameters, in force from the day its window opens.

    Rule: called once, when the programme is created (the migration gave existing programmes theirs)."""
    version = RuleVersion(programme_id=programme.id, number=1, status="published",
                          effective_from=programme.opens_on, parameters=serialise(programme_parameters(programme)),
                          created_by=actor.user_id, published_by=actor.user_id, published_at=utcnow())
    db.session.add(version)
    db.session.flush()
    record_event(actor, "rule_version.published", "rule_version", version.id,
                 after={"programme_id": programme.id, "number": 1, "effective_from": programme.opens_on})
    return version


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    if len(note) > 1000:
        raise ValidationFailed("At most %(limit)s characters.", field="note", limit=1000)
    return note or None


def draft_rule_change(actor: Actor, programme_id: int, changes: dict, note: str | None = None,
                      based_on_id: int | None = None) -> RuleVersion:
    """A draft: the base version's parameters (the version in force today unless ``based_on_id``
    names another published version of the programme) with ``changes`` over them.

    Rule: only a programme officer; the parameters are checked as the programme form checks them;
    nothing applies until the draft is published."""
    require(actor, "programmes.draft_rules", message="Only a programme officer may draft a rule change.")
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        raise NotFound("No such programme.")
    if based_on_id is None:
        from voucher.programmes.queries import local_today
        base = version_in_force(programme_id, local_today())
    else:
        base = get_version(based_on_id)
        if base.programme_id != programme_id or base.status != "published":
            raise ValidationFailed("Base a draft on a published version of this programme.", field="based_on_id")
    from voucher.programmes.services import clean_parameters

    values = clean_parameters(dict(changes or {}), parse(base.parameters))
    version = RuleVersion(programme_id=programme_id, status="draft", parameters=serialise(values),
                          note=_clean_note(note), based_on_id=base.id, created_by=actor.user_id)
    db.session.add(version)
    db.session.flush()
    record_event(actor, "rule_version.drafted", "rule_version", version.id,
                 after={"programme_id": programme_id, "based_on": base.number, **changed_parameters(base, version)})
    return version


def changed_parameters(before: RuleVersion, after: RuleVersion) -> dict:
    """``{key: {"before", "after"}}`` for every parameter that differs (as stored strings)."""
    old, new = parse(before.parameters), parse(after.parameters)
    return {key: {"before": str(old[key]), "after": str(new[key])} for key in PARAMETER_DEFAULTS if old[key] != new[key]}


def _draft_for_change(actor: Actor, version_id: int) -> RuleVersion:
    require(actor, "programmes.draft_rules", message="Only a programme officer may draft a rule change.")
    version = get_version(version_id)
    if version.status != "draft":
        raise Conflict("Only a draft can be changed; a published version never changes.")
    return version


def update_draft(actor: Actor, version_id: int, changes: dict, note: str | None = None) -> RuleVersion:
    """Change a draft's parameters (checked as the programme form checks them) and note."""
    version = _draft_for_change(actor, version_id)
    from voucher.programmes.services import clean_parameters

    before = parse(version.parameters)
    after = clean_parameters(dict(changes or {}), before)
    version.parameters = serialise(after)
    version.note = _clean_note(note) if note is not None else version.note
    db.session.flush()
    changed = [k for k in PARAMETER_DEFAULTS if before[k] != after[k]]
    record_event(actor, "rule_version.draft_changed", "rule_version", version.id,
                 before={k: str(before[k]) for k in changed}, after={k: str(after[k]) for k in changed})
    return version


def discard_draft(actor: Actor, version_id: int, reason: str) -> RuleVersion:
    """Drop a draft (with the reason); a published version cannot be discarded."""
    version = _draft_for_change(actor, version_id)
    MACHINE.apply(version, "discard", actor, reason=reason)
    return version


def publish_rule_version(actor: Actor, version_id: int, effective_from: date | None,
                         today: date | None = None) -> RuleVersion:
    """Publish a draft as the programme's next version, in force from ``effective_from``.

    Rule: only a programme officer; the start day is not before today and after every published
    version's start (so no decision already made changes its version), and not after the programme's
    window closes; the number is the next one, given under the programme's row lock."""
    from voucher.programmes.queries import local_today
    from voucher.programmes.services import lock_programme

    version = _draft_for_change(actor, version_id)
    today = today or local_today()
    if not isinstance(effective_from, date):
        raise ValidationFailed("Enter the day the new version starts to apply.", field="effective_from")
    programme = lock_programme(version.programme_id)
    if effective_from < today:
        raise ValidationFailed("The start day cannot be in the past (today is %(today)s): decisions already "
                               "made keep the version they used.", field="effective_from", today=today.isoformat())
    latest = db.session.scalar(select(func.max(RuleVersion.effective_from)).where(
        RuleVersion.programme_id == programme.id, RuleVersion.status == "published"))
    if latest is not None and effective_from <= latest:
        raise ValidationFailed("The start day must be after %(latest)s, the start of the latest published version.",
                               field="effective_from", latest=latest.isoformat())
    if effective_from > programme.closes_on:
        raise ValidationFailed("The start day cannot be after the programme's window closes (%(closes_on)s).",
                               field="effective_from", closes_on=programme.closes_on.isoformat())
    version.number = _next_number(programme.id)
    version.effective_from = effective_from
    version.published_by = actor.user_id
    version.published_at = utcnow()
    MACHINE.apply(version, "publish", actor, details={"number": version.number,
                                                      "effective_from": effective_from.isoformat()})
    return version



# --- decisions and their versions ------------------------------------------------------------------

def ensure_first_version(programme: Programme, actor: Actor | None = None) -> RuleVersion:
    """Version 1 of a programme inserted without :func:`create_programme` (demo data, benches, test
    builders): made from its columns when it has no published version yet, else the existing one."""
    existing = db.session.scalar(select(RuleVersion).where(RuleVersion.programme_id == programme.id,
                                                           RuleVersion.number == 1))
    if existing is not None:
        return existing
    return record_first_version(actor or Actor.system("programme setup"), programme)


def version_ref(version: RuleVersion | None) -> dict | None:
    """What a decision's API output says of its version: ``{"id", "number", "effective_from"}``."""
    if version is None:
        return None
    return {"id": version.id, "number": version.number, "effective_from": version.effective_from}


def decision_tables() -> list:
    """Every table whose rows are decisions naming a rule version (a ``rule_version_id`` column):
    found in the metadata, so this domain imports none of the deciding domains."""
    return [table for table in db.metadata.tables.values()
            if table.name != "rule_version" and "rule_version_id" in table.c]


def decisions_using(version_id: int) -> int:
    """How many decisions (of any domain) name this version."""
    total = 0
    for table in decision_tables():
        total += db.session.scalar(select(func.count()).select_from(table)
                                   .where(table.c.rule_version_id == version_id)) or 0
    return total


def sync_open_version(actor: Actor, programme: Programme, changed: dict, today: date) -> RuleVersion | None:
    """The programme form changed rule parameters: the version in force today takes them, allowed
    only while no decision names it (then a decision's version never changes under it); otherwise
    ValidationFailed naming the first changed field and pointing to drafting a rule change.

    Audited as ``rule_version.parameters_changed`` with before/after of the changed keys."""
    keys = [key for key in PARAMETER_DEFAULTS if key in changed]
    if not keys:
        return None
    version = version_in_force(programme.id, today)
    used = decisions_using(version.id)
    if used:
        raise ValidationFailed(
            "Rule version %(number)s is in force and %(count)s decisions were made under it, so this parameter "
            "cannot be changed here: draft a rule change at %(path)s and publish it with a start day.",
            field=keys[0], number=version.number, count=used, path=draft_rules_path(programme.id))
    before = parse(version.parameters)
    after = dict(before)
    after.update({key: changed[key] for key in keys})
    version.parameters = serialise(after)
    db.session.flush()
    record_event(actor, "rule_version.parameters_changed", "rule_version", version.id,
                 before={k: str(before[k]) for k in keys}, after={k: str(after[k]) for k in keys})
    return version


def draft_rules_path(programme_id: int) -> str:
    """Where an officer drafts a rule change (the rules domain's page when it is there)."""
    from flask import current_app, url_for

    try:
        if "rules.programme" in current_app.view_functions:
            return url_for("rules.programme", programme_id=programme_id)
    except RuntimeError:  # no application or request context
        pass
    return f"/rules/programmes/{programme_id}"


def version_ref_of(version_id: int | None) -> dict | None:
    """``version_ref`` of a decision's stored version id (None before the decision)."""
    return version_ref(db.session.get(RuleVersion, version_id)) if version_id else None
