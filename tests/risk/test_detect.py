"""The pure detectors: one crafted case per kind, and the near misses each must leave alone."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from voucher.risk import detect
from voucher.risk.detect import App, Identifier, IpHit, Org

T = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


def ent(i, **kw):
    return Org(i, "enterprise", f"E{i}", **kw)


def prov(i, **kw):
    return Org(i, "provider", f"P{i}", **kw)


def trial(i, e, p=100, sol=1, at=T, amount="100000.00", price="200000.00", status="submitted"):
    return App("trial_application", i, f"SY-2026-{i:06d}", e, status, at, provider_id=p, solution_id=sol,
               amount=Decimal(amount), trial_price=Decimal(price), list_price=Decimal(price) * 2)


def kinds(found):
    return sorted(f.kind for f in found)


def test_shared_bank_account_across_enterprises_masked_and_spelling_blind():
    orgs = [ent(1, bank_account="6222 0200 1234 5678"), ent(2, bank_account="6222020012345678"), ent(3, bank_account="1")]
    assert detect.detect(orgs, [], [], []) == []   # no application yet: nothing to look at
    [f] = detect.detect(orgs, [trial(5, 2)], [], [])
    assert (f.source_id, f.related) == (5, (("trial_application", 5),))
    assert f.kind == "shared_bank_account" and set(f.org_ids) == {1, 2}
    assert f.evidence["value"] == "************5678"
    assert "12345678" not in repr(f.evidence) and "12345678" not in f.key   # never the whole account


def test_enterprise_and_provider_only_when_linked_by_an_application():
    orgs = [ent(1, contact_phone="+86 138 0000 0001"), prov(100, contact_phone="13800000001"),
            prov(101, contact_phone="13800000001")]
    found = detect.detect(orgs, [trial(5, 1, p=100)], [], [])
    assert kinds(found) == ["shared_phone"] and set(found[0].org_ids) == {1, 100}
    assert found[0].source_id == 5
    # two providers sharing a phone are not a signal; nor an enterprise and a provider it never used
    assert detect.detect(orgs, [], [], []) == []


def test_public_email_domains_ignored():
    orgs = [ent(1, emails=("a@qq.com", "x@Corp.CN")), ent(2, emails=("b@QQ.com", "y@corp.cn ")),
            ent(3, emails=("c@gmail.com",))]
    [f] = detect.detect(orgs, [trial(5, 1), trial(6, 2), trial(7, 3)], [], [])
    assert f.kind == "shared_email_domain" and f.evidence["value"] == "corp.cn"
    assert detect.email_domain("z@163.com") == "" and detect.email_domain("not an address") == ""
    # names reserved for tests and documentation are nobody's company domain (the demo's demo.test)
    reserved = [ent(1, emails=("a@demo.test",)), ent(2, emails=("b@Demo.TEST",)), ent(3, emails=("c@example.com",)),
                ent(4, emails=("d@example.com",))]
    assert detect.detect(reserved, [trial(5, 1), trial(6, 2), trial(7, 3), trial(8, 4)], [], []) == []
    assert detect.email_domain("a@test.corp.cn") == "test.corp.cn"   # only the suffix is reserved


def test_same_representative_across_enterprises_and_with_the_provider():
    orgs = [ent(1, contact_name="王 小明"), ent(2, contact_name="王小明"), prov(100, contact_name="王小明 ")]
    found = detect.detect(orgs, [trial(5, 1, p=100)], [], [])
    assert sorted(tuple(sorted(f.org_ids)) for f in found) == [(1, 2), (1, 100)]   # 2 never used provider 100
    assert kinds(found) == ["same_representative"] * 2
    # a one-character name says nothing, nor a role written where the name belongs
    assert detect.detect([ent(1, contact_name="王"), ent(2, contact_name="王")], [trial(5, 1)], [], []) == []
    roles = [ent(1, contact_name="联系人"), ent(2, contact_name="联系人 "), prov(100, contact_name="客户经理"),
             prov(101, contact_name="客户经理")]
    assert detect.detect(roles, [trial(5, 1, p=100), trial(6, 2, p=101)], [], []) == []


def test_same_ip_within_the_window_only_for_the_pair():
    apps = [trial(5, 1, p=100)]
    hits = [IpHit(1, "61.164.5.5", T, "submit"), IpHit(100, "61.164.5.5", T + timedelta(minutes=40), "login")]
    [f] = detect.detect([], apps, hits, [])
    assert f.kind == "same_ip" and f.evidence["minutes"] == 40
    late = [hits[0], IpHit(100, "61.164.5.5", T + timedelta(hours=3), "login")]
    assert detect.detect([], apps, late, []) == []
    assert detect.detect([], apps, [IpHit(1, "127.0.0.1", T, "login"), IpHit(100, "127.0.0.1", T, "login")], []) == []
    crowd = hits + [IpHit(200 + i, "61.164.5.5", T, "login") for i in range(detect.IP_CROWD)]
    assert detect.detect([], apps, crowd, []) == []   # a shared gateway
    assert detect.detect([], apps, [IpHit(1, "not-an-ip", T, "login"), IpHit(100, "not-an-ip", T, "login")], []) == []


def test_split_by_one_enterprise_within_the_window():
    apps = [trial(1, 7, at=T), trial(2, 7, at=T + timedelta(days=5)), trial(3, 7, at=T + timedelta(days=80)),
            trial(4, 7, sol=2, at=T + timedelta(days=1)), trial(5, 7, at=T + timedelta(days=2), status="withdrawn")]
    [f] = detect.detect([], apps, [], [])
    assert f.kind == "split_applications" and [r["source_id"] for r in f.evidence["rows"]] == [1, 2]
    assert f.evidence["total"] == "200000.00" and f.related == (("trial_application", 1), ("trial_application", 2))


def test_split_by_enterprises_sharing_a_representative():
    orgs = [ent(7, contact_name="李四"), ent(8, contact_name="李四"), ent(9, contact_name="张三")]
    apps = [trial(1, 7, at=T), trial(2, 8, at=T + timedelta(days=3)), trial(3, 9, at=T + timedelta(days=1))]
    found = [f for f in detect.detect(orgs, apps, [], []) if f.kind == "split_applications"]
    [f] = found
    assert f.evidence["field"] == "representative" and set(f.org_ids) == {7, 8}


def test_price_above_the_catalogue():
    [f] = detect.detect([], [trial(1, 7, amount="200000.01", price="200000.00")], [], [])
    assert f.kind == "price_above_list" and f.evidence["trial_price"] == "200000.00"
    assert detect.detect([], [trial(1, 7, amount="200000.00", price="200000.00")], [], []) == []


def test_duplicate_invoice_and_contract():
    inv = [Identifier("invoice", "3300261109001", "3300261109-001", "robot_application", 1, "JQ-1", 7, "submitted"),
           Identifier("invoice", "3300261109001", "3300 261109 001", "robot_application", 2, "JQ-2", 8, "approved")]
    [f] = detect.detect([], [], [], inv)
    assert f.kind == "duplicate_invoice" and set(f.org_ids) == {7, 8}
    # the same enterprise claiming again after withdrawing: not a signal; a draft is not a claim
    again = [Identifier("invoice", "3300261109001", "x", "robot_application", 1, "JQ-1", 7, "withdrawn"),
             Identifier("invoice", "3300261109001", "x", "robot_application", 3, "JQ-3", 7, "submitted")]
    assert detect.detect([], [], [], again) == []
    con = [Identifier("contract", "JK-1", "JK-1", "loan_application", 1, "TX-1", 7, "submitted"),
           Identifier("contract", "JK-1", "jk-1", "loan_application", 2, "TX-2", 7, "submitted")]
    assert detect.detect([], [], [], con) == []   # one loan, two claims of one enterprise
    con.append(Identifier("contract", "JK-1", "JK 1", "loan_application", 3, "TX-3", 9, "draft"))
    assert detect.detect([], [], [], con) == []
    con.append(Identifier("contract", "JK-1", "JK 1", "loan_application", 4, "TX-4", 9, "submitted"))
    [f] = detect.detect([], [], [], con)
    assert f.kind == "duplicate_contract"


def test_keys_are_stable_and_touches_by_enterprise_not_provider_clients():
    orgs = [ent(1, bank_account="62220200123456"), prov(100, bank_account="62220200123456")]
    apps = [trial(5, 1, p=100), trial(6, 2, p=100)]
    first, second = detect.detect(orgs, apps, [], []), detect.detect(list(reversed(orgs)), apps, [], [])
    assert [f.key for f in first] == [f.key for f in second]
    [f] = first
    assert detect.touches(f, "trial_application", 5, 1)
    assert not detect.touches(f, "trial_application", 6, 2)   # the provider's other client
