"""Pure detection of risk signals (风险提示): plain rows in, findings out; no Flask, no database.

Each detector returns :class:`Finding`s.  A finding's ``key`` names the pattern (the kind, the
organisations or applications, the matched value's fingerprint), so the same pattern found again
(a rescan, a second submission) is the same signal, never a second one.  A signal never refuses
anything: it is shown to the officer and to finance, who may dismiss it with a reason.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Iterable

KINDS = ("shared_bank_account", "shared_phone", "shared_email_domain", "same_representative", "same_ip",
         "split_applications", "price_above_list", "duplicate_invoice", "duplicate_contract")

# Free mail providers: many unrelated companies use them, so a shared domain there says nothing.
PUBLIC_EMAIL_DOMAINS = frozenset({
    "qq.com", "163.com", "126.com", "gmail.com", "outlook.com", "hotmail.com", "sina.com", "sina.cn", "foxmail.com",
    "yeah.net", "139.com", "189.cn", "aliyun.com", "sohu.com", "live.com", "yahoo.com", "icloud.com", "vip.qq.com",
    "vip.163.com", "msn.com", "wo.cn"})

# Names reserved for tests and documentation (RFC 2606, RFC 6761): never a real company's domain.
RESERVED_EMAIL_SUFFIXES = (".test", ".example", ".invalid", ".localhost")
RESERVED_EMAIL_DOMAINS = frozenset({"example.com", "example.net", "example.org", "localhost"})
# A role written where a person's name belongs (联系人 "contact", 客户经理 "account manager"): shared by
# unrelated organisations, so it says nothing about one person behind two of them.
ROLE_WORDS = frozenset({"联系人", "负责人", "经办人", "客户经理", "经理", "财务", "总经理", "法人", "法定代表人",
                        "contact", "manager", "finance"})

IP_WINDOW = timedelta(hours=2)        # an SME's and its provider's activity from one address within this
SPLIT_WINDOW = timedelta(days=30)     # several applications for one solution within this
IP_CROWD = 5                          # an address used by more organisations is a proxy or a shared gateway


@dataclass(frozen=True)
class Org:
    id: int
    kind: str                     # enterprise | provider (others are ignored)
    name: str
    contact_name: str | None = None
    contact_phone: str | None = None
    bank_account: str | None = None
    emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class App:
    source_type: str              # trial_application | loan_application | robot_application
    id: int
    number: str | None
    enterprise_id: int
    status: str
    submitted_at: datetime | None
    provider_id: int | None = None
    solution_id: int | None = None
    amount: Decimal | None = None
    trial_price: Decimal | None = None   # the catalogue's prices of the solution (trial applications)
    list_price: Decimal | None = None


@dataclass(frozen=True)
class IpHit:
    organisation_id: int
    ip: str
    at: datetime
    what: str                     # login | submit


@dataclass(frozen=True)
class Identifier:
    kind: str                     # invoice | contract
    key: str                      # normalised number
    raw: str
    source_type: str
    source_id: int
    number: str | None
    enterprise_id: int
    status: str


@dataclass
class Finding:
    kind: str
    key: str
    evidence: dict
    source_type: str | None = None
    source_id: int | None = None
    number: str | None = None
    org_ids: tuple[int, ...] = ()
    related: tuple[tuple[str, int], ...] = field(default_factory=tuple)   # every application behind it


# --- normalising and masking ---------------------------------------------------------------------

def _fold(value: str | None) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


_NON_DIGIT = re.compile(r"\D")
_SPACE = re.compile(r"\s+")


def norm_account(value: str | None) -> str:
    digits = _NON_DIGIT.sub("", _fold(value))
    return digits if len(digits) >= 8 else ""


def norm_phone(value: str | None) -> str:
    digits = _NON_DIGIT.sub("", _fold(value))
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if len(digits) >= 7 else ""


def email_domain(value: str | None) -> str:
    v = _fold(value).lower()
    if "@" not in v:
        return ""
    domain = v.rsplit("@", 1)[1].strip(". ")
    if (not domain or domain in PUBLIC_EMAIL_DOMAINS or domain in RESERVED_EMAIL_DOMAINS
            or domain.endswith(RESERVED_EMAIL_SUFFIXES)):
        return ""
    return domain


def norm_name(value: str | None) -> str:
    v = _SPACE.sub("", _fold(value)).casefold()
    return v if len(v) >= 2 and v not in ROLE_WORDS else ""


def mask_account(value: str) -> str:
    digits = norm_account(value) or re.sub(r"\D", "", value or "")
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_phone(value: str) -> str:
    return value[:3] + "*" * max(len(value) - 7, 0) + value[-4:] if len(value) > 7 else value


def fingerprint(value: str) -> str:
    """A short hash naming a matched value in a key (so the key never carries a bank account)."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def _org_row(o: Org, **extra) -> dict:
    return {"organisation_id": o.id, "organisation": o.name, "organisation_kind": o.kind, **extra}


def _app_row(a: App, **extra) -> dict:
    return {"source_type": a.source_type, "source_id": a.id, "number": a.number,
            "enterprise_id": a.enterprise_id,
            "submitted_at": a.submitted_at.isoformat() if a.submitted_at else None,
            "amount": str(a.amount) if a.amount is not None else None, **extra}


LIVE = frozenset({"submitted", "approved", "returned", "trial_running", "trial_completed", "evaluated", "closed"})


def submitted(apps: Iterable[App]) -> list[App]:
    """The applications that were sent to the bureau (drafts and withdrawn ones are not a claim)."""
    return [a for a in apps if a.submitted_at is not None and a.status not in ("draft", "withdrawn")]


def linked_pairs(apps: Iterable[App]) -> dict[tuple[int, int], App]:
    """(enterprise, provider) pairs an application links, with the first such application."""
    pairs: dict[tuple[int, int], App] = {}
    for a in sorted(submitted(apps), key=lambda a: (a.submitted_at, a.id)):
        if a.provider_id is not None:
            pairs.setdefault((a.enterprise_id, a.provider_id), a)
    return pairs


# --- the detectors -------------------------------------------------------------------------------

def latest_by_enterprise(apps: Iterable[App]) -> dict[int, App]:
    latest: dict[int, App] = {}
    for a in sorted(submitted(apps), key=lambda a: (a.submitted_at, a.id)):
        latest[a.enterprise_id] = a
    return latest


def _pairs_of(group: list[Org], focus: int | None):
    """The pairs (a, b), a.id < b.id, of a group sharing a value; with ``focus``, only those with it."""
    group = sorted(group, key=lambda o: o.id)
    if focus is not None:
        me = next((o for o in group if o.id == focus), None)
        if me is not None:
            for other in group:
                if other.id != focus:
                    yield (me, other) if me.id < other.id else (other, me)
        return
    for i, a in enumerate(group):
        for b in group[i + 1:]:
            yield a, b


def _shared_value(kind: str, orgs: list[Org], pairs: dict, values: dict[int, list[str]], show,
                  latest: dict[int, App] | None = None, focus: int | None = None) -> list[Finding]:
    """Organisations sharing one value: two enterprises (at least one with a submitted application;
    the latest application of each is a row behind it), or an enterprise and its own provider.
    ``focus``: only the pairs that include that organisation (a submission's scan: a value shared
    by n organisations makes n² pairs, of which n concern it)."""
    latest = latest or {}
    by_value: dict[str, list[Org]] = defaultdict(list)
    for o in orgs:
        for v in set(values.get(o.id, ())):
            by_value[v].append(o)
    out = []
    for value, group in by_value.items():
        if len(group) < 2:
            continue
        for a, b in _pairs_of(group, focus):
            if a.kind == b.kind == "enterprise":
                apps = [x for x in (latest.get(a.id), latest.get(b.id)) if x is not None]
                if not apps:
                    continue
                app = max(apps, key=lambda x: (x.submitted_at, x.id))
            elif {a.kind, b.kind} == {"enterprise", "provider"}:
                ent, prov = (a, b) if a.kind == "enterprise" else (b, a)
                app = pairs.get((ent.id, prov.id))
                if app is None:
                    continue
            else:
                continue
            ev = {"field": kind, "value": show(value),
                  "rows": [_org_row(a, value=show(value)), _org_row(b, value=show(value))]}
            behind = ([x for x in (latest.get(a.id), latest.get(b.id)) if x is not None]
                      if a.kind == b.kind else [app])
            ev["rows"] += [_app_row(x) for x in behind]
            out.append(Finding(kind, f"{kind}:{a.id}:{b.id}:{fingerprint(value)}", ev,
                               source_type=app.source_type, source_id=app.id, number=app.number,
                               org_ids=(a.id, b.id), related=tuple((x.source_type, x.id) for x in behind)))
    return out


def shared_bank_accounts(orgs: list[Org], pairs: dict, latest: dict | None = None,
                         focus: int | None = None) -> list[Finding]:
    vals = {o.id: [norm_account(o.bank_account)] for o in orgs if norm_account(o.bank_account)}
    return _shared_value("shared_bank_account", orgs, pairs, vals, mask_account, latest, focus)


def shared_phones(orgs: list[Org], pairs: dict, latest: dict | None = None,
                  focus: int | None = None) -> list[Finding]:
    vals = {o.id: [norm_phone(o.contact_phone)] for o in orgs if norm_phone(o.contact_phone)}
    return _shared_value("shared_phone", orgs, pairs, vals, mask_phone, latest, focus)


def shared_email_domains(orgs: list[Org], pairs: dict, latest: dict | None = None,
                         focus: int | None = None) -> list[Finding]:
    vals = {o.id: [d for d in map(email_domain, o.emails) if d] for o in orgs}
    return _shared_value("shared_email_domain", orgs, pairs, vals, lambda v: v, latest, focus)


def same_representatives(orgs: list[Org], pairs: dict, latest: dict | None = None,
                         focus: int | None = None) -> list[Finding]:
    vals = {o.id: [norm_name(o.contact_name)] for o in orgs if norm_name(o.contact_name)}
    return _shared_value("same_representative", orgs, pairs, vals, lambda v: v, latest, focus)


def routable_address(ip: str) -> str | None:
    """The address as :func:`same_ip` groups it (its canonical spelling), or None where it is not
    one to look at: invalid, loopback or unspecified."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    return None if addr.is_loopback or addr.is_unspecified else str(addr)


def same_ip(hits: list[IpHit], pairs: dict, window: timedelta = IP_WINDOW) -> list[Finding]:
    """An enterprise and its provider active from one address within ``window`` (loopback, and an
    address more than ``IP_CROWD`` organisations use — a proxy, a shared gateway — are left out)."""
    by_ip: dict[str, list[IpHit]] = defaultdict(list)
    for h in hits:
        addr = routable_address(h.ip)
        if addr is not None:
            by_ip[addr].append(h)
    partners: dict[int, set[int]] = defaultdict(set)
    for ent, prov in pairs:
        partners[ent].add(prov)
    out = []
    for ip, group in by_ip.items():
        if len({h.organisation_id for h in group}) > IP_CROWD:
            continue
        by_org: dict[int, list[IpHit]] = defaultdict(list)
        for h in group:
            by_org[h.organisation_id].append(h)
        for ent in by_org:
            for prov in partners.get(ent, ()):
                if prov not in by_org:
                    continue
                best = None
                for he in by_org[ent]:
                    for hp in by_org[prov]:
                        gap = abs(he.at - hp.at)
                        if gap <= window and (best is None or gap < best[0]):
                            best = (gap, he, hp)
                if best is None:
                    continue
                _gap, he, hp = best
                app = pairs[(ent, prov)]
                ev = {"field": "ip", "value": ip, "minutes": int(_gap.total_seconds() // 60),
                      "rows": [{"organisation_id": ent, "what": he.what, "at": he.at.isoformat(), "value": ip},
                               {"organisation_id": prov, "what": hp.what, "at": hp.at.isoformat(), "value": ip},
                               _app_row(app)]}
                out.append(Finding("same_ip", f"same_ip:{ent}:{prov}:{fingerprint(ip)}", ev,
                                   source_type=app.source_type, source_id=app.id, number=app.number,
                                   org_ids=(ent, prov)))
    return out


@functools.lru_cache(maxsize=100_000)
def _values(o: Org) -> frozenset[tuple[str, str]]:
    """The values an organisation can share with another, tagged by kind.  Kept per process for each
    organisation's row as read (an ``Org`` is immutable: an edited organisation is another key), so
    a worker normalises a city's organisations once, not on every submission's scan."""
    out = {("account", norm_account(o.bank_account)), ("phone", norm_phone(o.contact_phone)),
           ("name", norm_name(o.contact_name))} | {("domain", email_domain(e)) for e in o.emails}
    return frozenset((tag, v) for tag, v in out if v)


def sharing_any_value(me: Org, orgs: Iterable[Org], values: dict[int, frozenset] | None = None) -> set[int]:
    """The enterprises and providers sharing a bank account, phone, e-mail domain or contact name
    with ``me`` (the organisations a shared-value pattern of ``me`` can pair it with).  ``values``:
    :func:`_values` of each organisation, when already computed."""
    values = values if values is not None else {o.id: _values(o) for o in orgs}
    mine = values.get(me.id) or _values(me)
    if not mine:
        return set()
    return {o.id for o in orgs if o.id != me.id and o.kind in ("enterprise", "provider") and values[o.id] & mine}


def representative_group(enterprise_id: int, orgs: Iterable[Org],
                         values: dict[int, frozenset] | None = None) -> set[int]:
    """The enterprises linked to ``enterprise_id`` through contact names and phones, transitively:
    the group :func:`split_applications` treats as one representative's."""
    values = values if values is not None else {o.id: _values(o) for o in orgs}
    members: dict[int, set[tuple[str, str]]] = {}
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for o in orgs:
        if o.kind != "enterprise":
            continue
        members[o.id] = {v for v in values[o.id] if v[0] in ("name", "phone")}
        for v in members[o.id]:
            holders[v].append(o.id)
    group, todo, seen_values = {enterprise_id}, [enterprise_id], set()
    while todo:
        for v in members.get(todo.pop(), ()):
            if v in seen_values:
                continue
            seen_values.add(v)
            for other in holders[v]:
                if other not in group:
                    group.add(other)
                    todo.append(other)
    return group


def for_enterprise(enterprise_id: int, orgs: list[Org], apps_of, hits_of, hits_at,
                   identifiers: list[Identifier]) -> list[Finding]:
    """The findings that concern one enterprise (it is among their organisations): the same as
    :func:`detect` over all the rows would give, read from its neighbourhood only.  The rows come
    from callables (the database in the services, lists in the tests): ``apps_of(enterprise_ids)``
    the submitted applications of those enterprises, ``hits_of(organisation_ids)`` their logins and
    submissions, ``hits_at(ips)`` every one from those addresses.

    The neighbourhood: the organisations sharing a value with it (:func:`sharing_any_value`), its
    representative group (:func:`representative_group`) and its providers; the applications of those
    enterprises; every login and submission at its and its providers' addresses (a same-address
    pattern pairs it with its own provider, but a crowd at the address is counted over everyone
    there); and every identifier (invoice and contract numbers match after normalising)."""
    by_id = {o.id: o for o in orgs}
    me = by_id.get(enterprise_id)
    if me is None:
        return []
    values = {o.id: _values(o) for o in orgs}
    near = (sharing_any_value(me, orgs, values) | representative_group(enterprise_id, orgs, values)
            | {enterprise_id})
    providers = {a.provider_id for a in apps_of({enterprise_id}) if a.provider_id is not None}
    addresses = {h.ip for h in hits_of({enterprise_id} | providers) if routable_address(h.ip) is not None}
    hits = hits_at(addresses) if addresses else []
    near |= providers
    enterprises = {i for i in near if i in by_id and by_id[i].kind == "enterprise"}
    found = detect([by_id[i] for i in sorted(near) if i in by_id], apps_of(enterprises), hits, identifiers,
                   focus=enterprise_id)
    return [f for f in found if enterprise_id in f.org_ids]


def _windows(apps: list[App], window: timedelta) -> list[list[App]]:
    """Runs of applications (by submission time) each within ``window`` of the previous one."""
    runs, run = [], []
    for a in sorted(apps, key=lambda a: (a.submitted_at, a.id)):
        if run and a.submitted_at - run[-1].submitted_at > window:
            if len(run) > 1:
                runs.append(run)
            run = []
        run.append(a)
    if len(run) > 1:
        runs.append(run)
    return runs


def split_applications(apps: list[App], orgs: list[Org], window: timedelta = SPLIT_WINDOW) -> list[Finding]:
    """Several applications for one solution within ``window``: by one enterprise, or by enterprises
    sharing a representative (the same contact name or phone)."""
    trial = [a for a in submitted(apps) if a.solution_id is not None and a.status not in ("rejected",)]
    out = []
    by_ent_sol: dict[tuple[int, int], list[App]] = defaultdict(list)
    for a in trial:
        by_ent_sol[(a.enterprise_id, a.solution_id)].append(a)
    seen: set[frozenset] = set()
    for (ent, sol), group in by_ent_sol.items():
        for run in _windows(group, window):
            seen.add(frozenset(a.id for a in run))
            out.append(_split_finding(run, f"split_applications:e{ent}:s{sol}:{run[0].id}", "enterprise", (ent,)))
    # Enterprises sharing a representative: union them by contact name and phone.
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[tuple[str, str], int] = {}
    for o in orgs:
        if o.kind != "enterprise":
            continue
        for tag, v in (("n", norm_name(o.contact_name)), ("p", norm_phone(o.contact_phone))):
            if v:
                if (tag, v) in owner:
                    parent[find(o.id)] = find(owner[(tag, v)])
                else:
                    owner[(tag, v)] = o.id
    by_grp_sol: dict[tuple[int, int], list[App]] = defaultdict(list)
    for a in trial:
        if a.enterprise_id in parent:
            by_grp_sol[(find(a.enterprise_id), a.solution_id)].append(a)
    for (_grp, sol), group in by_grp_sol.items():
        for run in _windows(group, window):
            ents = tuple(sorted({a.enterprise_id for a in run}))
            if len(ents) < 2 or frozenset(a.id for a in run) in seen:
                continue
            key = f"split_applications:g{ents[0]}:s{sol}:{min(a.id for a in run)}"
            out.append(_split_finding(run, key, "representative", ents))
    return out


def _split_finding(run: list[App], key: str, basis: str, org_ids: tuple[int, ...]) -> Finding:
    last = run[-1]
    total = sum((a.amount or Decimal(0)) for a in run)
    days = (last.submitted_at - run[0].submitted_at).days
    ev = {"field": basis, "count": len(run), "days": days, "total": str(total),
          "rows": [_app_row(a, solution_id=a.solution_id) for a in run]}
    return Finding("split_applications", key, ev, source_type=last.source_type, source_id=last.id,
                   number=last.number, org_ids=org_ids, related=tuple((a.source_type, a.id) for a in run))


def prices_above_list(apps: list[App]) -> list[Finding]:
    """A trial application asking more than the catalogue lists for its solution now."""
    out = []
    for a in submitted(apps):
        if a.amount is None or a.trial_price is None:
            continue
        limit = a.trial_price if a.list_price is None else min(a.trial_price, a.list_price)
        if a.amount > limit:
            ev = {"field": "price", "amount": str(a.amount), "trial_price": str(a.trial_price),
                  "list_price": str(a.list_price) if a.list_price is not None else None,
                  "rows": [_app_row(a, trial_price=str(a.trial_price))]}
            out.append(Finding("price_above_list", f"price_above_list:{a.source_type}:{a.id}", ev,
                               source_type=a.source_type, source_id=a.id, number=a.number,
                               org_ids=(a.enterprise_id,) + ((a.provider_id,) if a.provider_id else ())))
    return out


def duplicate_identifiers(ids: list[Identifier]) -> list[Finding]:
    """An invoice or loan-contract number (normalised) in applications of two enterprises, or an
    invoice in two applications that both stand (a withdrawn one gave its invoices back)."""
    groups: dict[tuple[str, str], list[Identifier]] = defaultdict(list)
    for i in ids:
        if i.key and i.status != "draft":
            groups[(i.kind, i.key)].append(i)
    out = []
    for (kind, key), group in groups.items():
        apps = {(i.source_type, i.source_id): i for i in group}
        if len(apps) < 2:
            continue
        ents = {i.enterprise_id for i in apps.values()}
        standing = [i for i in apps.values() if i.status not in ("withdrawn", "rejected")]
        if len(ents) < 2 and not (kind == "invoice" and len(standing) >= 2):
            continue
        rows = sorted(apps.values(), key=lambda i: (i.source_type, i.source_id))
        last = rows[-1]
        name = "duplicate_invoice" if kind == "invoice" else "duplicate_contract"
        ev = {"field": kind, "value": key,
              "rows": [{"source_type": i.source_type, "source_id": i.source_id, "number": i.number,
                        "enterprise_id": i.enterprise_id, "value": i.raw, "status": i.status} for i in rows]}
        out.append(Finding(name, f"{name}:{fingerprint(key)}", ev, source_type=last.source_type,
                           source_id=last.source_id, number=last.number, org_ids=tuple(sorted(ents)),
                           related=tuple((i.source_type, i.source_id) for i in rows)))
    return out


def detect(orgs: list[Org], apps: list[App], hits: list[IpHit], identifiers: list[Identifier],
           focus: int | None = None) -> list[Finding]:
    """Every finding over the given rows, each key once.  ``focus`` (an organisation id) leaves out
    pairs of organisations sharing a value that do not include it; every finding that concerns it
    (:func:`touches`) is still there."""
    orgs = [o for o in orgs if o.kind in ("enterprise", "provider")]
    pairs = linked_pairs(apps)
    latest = latest_by_enterprise(apps)
    found: dict[str, Finding] = {}
    for f in (*shared_bank_accounts(orgs, pairs, latest, focus), *shared_phones(orgs, pairs, latest, focus),
              *shared_email_domains(orgs, pairs, latest, focus), *same_representatives(orgs, pairs, latest, focus),
              *same_ip(hits, pairs), *split_applications(apps, orgs),
              *prices_above_list(apps), *duplicate_identifiers(ids=identifiers)):
        found.setdefault(f.key, f)
    return list(found.values())


def touches(finding: Finding, source_type: str, source_id: int, enterprise_id: int | None) -> bool:
    """Whether a finding concerns an application: it is its subject or a row behind it, or the
    application's enterprise is one of its organisations (a provider's other clients are not
    concerned by a pattern between the provider and one enterprise)."""
    if (finding.source_type, finding.source_id) == (source_type, source_id):
        return True
    if (source_type, source_id) in finding.related:
        return True
    return enterprise_id is not None and enterprise_id in finding.org_ids
