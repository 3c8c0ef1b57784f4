"""A submission's scan reads its enterprise's neighbourhood, not every application: it must find
exactly the patterns the whole-data scan finds that concern the enterprise.  Checked on random
worlds dense with shared values (pure), and on the seeded set through the database loaders."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.factories import build_programme
from tests.risk.seed import NOW, seed
from voucher.risk import detect, services
from voucher.risk.detect import App, Identifier, IpHit, Org

T = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


def _same(found):
    """What a finding stores, comparable (a Finding's evidence is a dict of lists)."""
    return sorted((f.key, f.kind, repr(f.evidence), f.source_type, f.source_id, f.org_ids, f.related) for f in found)


def _world(rng: random.Random):
    """Few distinct values for many organisations, so values are shared in pairs, chains and crowds."""
    phones, names, accounts = ["0577-1111111", "0577-2222222", "0577-3333333"], ["王伟", "李娜", "张敏"], \
        ["62220000111", "62220000222"]
    domains, ips = ["a.cn", "b.cn", "qq.com"], ["10.0.0.1", "10.0.0.2", "10.0.0.3", "127.0.0.1"]

    def pick(values):
        return rng.choice(values) if rng.random() < 0.4 else None

    orgs = [Org(i, "enterprise", f"E{i}", pick(names), pick(phones), pick(accounts),
                tuple(f"u@{d}" for d in [pick(domains)] if d)) for i in range(1, 16)]
    orgs += [Org(i, "provider", f"P{i}", pick(names), pick(phones), pick(accounts),
                 tuple(f"u@{d}" for d in [pick(domains)] if d)) for i in range(100, 104)]
    apps, ids = [], []
    for n in range(1, 40):
        e = rng.randint(1, 15)
        status = rng.choice(["submitted", "approved", "rejected", "withdrawn", "draft"])
        at = T + timedelta(days=rng.randint(0, 60))
        if rng.random() < 0.7:
            price = Decimal(rng.choice(["90000.00", "100000.00"]))
            apps.append(App("trial_application", n, f"SY-{n}", e, status, at, provider_id=rng.randint(100, 103),
                            solution_id=rng.randint(1, 3), amount=Decimal("95000.00"), trial_price=price,
                            list_price=price))
        else:
            kind = rng.choice(["loan_application", "robot_application"])
            apps.append(App(kind, n, f"X-{n}", e, status, at))
            ids.append(Identifier("contract" if kind == "loan_application" else "invoice", rng.choice("ABC"),
                                  "raw", kind, n, f"X-{n}", e, status))
    hits = [IpHit(rng.choice([o.id for o in orgs]), rng.choice(ips), T + timedelta(minutes=rng.randint(0, 600)),
                  rng.choice(["login", "submit"])) for _ in range(30)]
    return orgs, apps, hits, ids


@pytest.mark.parametrize("seed_value", range(60))
def test_the_neighbourhood_finds_what_the_whole_scan_finds(seed_value):
    orgs, apps, hits, ids = _world(random.Random(seed_value))
    everything = detect.detect(orgs, apps, hits, ids)
    for o in orgs:
        if o.kind != "enterprise":
            continue
        scoped = detect.for_enterprise(
            o.id, orgs, lambda ents: [a for a in apps if a.enterprise_id in ents],
            lambda org_ids: [h for h in hits if h.organisation_id in org_ids],
            lambda addresses: [h for h in hits if h.ip in addresses], ids)
        assert _same(scoped) == _same(f for f in everything if o.id in f.org_ids), (seed_value, o.id)


def test_the_random_worlds_hold_every_kind_of_pattern():
    """The check above means something only if its worlds are full of patterns."""
    kinds = set()
    for seed_value in range(60):
        kinds |= {f.kind for f in detect.detect(*_world(random.Random(seed_value)))}
    assert kinds == set(detect.KINDS)


def test_a_value_shared_by_a_crowd_costs_the_submission_one_pass_not_every_pair():
    """300 enterprises with one switchboard number: the whole scan pairs all of them (44,850 pairs);
    one enterprise's scan makes only its own 299."""
    orgs = [Org(i, "enterprise", f"E{i}", None, "0577-88000000") for i in range(1, 301)]
    apps = [App("trial_application", i, f"SY-{i}", i, "submitted", T + timedelta(minutes=i), provider_id=1000,
                solution_id=i) for i in range(1, 301)]
    scoped = detect.for_enterprise(7, orgs, lambda ents: [a for a in apps if a.enterprise_id in ents],
                                   lambda _ids: [], lambda _ips: [], [])
    assert len(scoped) == 299 and all(7 in f.org_ids for f in scoped)
    assert len(detect.shared_phones(orgs, {}, detect.latest_by_enterprise(apps))) == 300 * 299 // 2


def test_the_database_neighbourhood_equals_the_whole_scan_on_the_seeded_set(ctx):
    seeded = seed(build_programme().id)
    everything = services.findings(NOW)
    concerned = sorted({e for f in everything for e in f.org_ids} & set(seeded.enterprise_of.values()))
    planted = {o for _kind, orgs, _apps in seeded.planted.values() for o in orgs}
    # every enterprise behind a planted pattern, and every seventh of the rest (the loaders are the same)
    sample = [e for n, e in enumerate(sorted(set(seeded.enterprise_of.values()))) if e in planted or n % 7 == 0]
    assert planted & set(sample) and concerned
    for e in sample:
        assert _same(services.findings_for_enterprise(e, NOW)) == _same(f for f in everything if e in f.org_ids), e
