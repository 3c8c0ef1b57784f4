"""Demo data for ``make run`` and ``flask voucher seed-demo``: never loaded by the app itself.

Idempotent: everything is keyed by a natural key (e-mail, USCC, programme name, solution
title) and skipped when present.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from stdnum.cn import uscc as uscc_lib

from voucher.audit.services import Actor, record_event
from voucher.auth.models import User
from voucher.auth.passwords import hash_password
from voucher.calc import classify_enterprise
from voucher.catalogue.models import Solution
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.programmes.models import LprRate, Programme

SEEDER = Actor(user_id=None, role="system", organisation_id=None, label="demo seed")


def _uscc(body17: str) -> str:
    return body17 + uscc_lib.calc_check_digit(body17)


ENTERPRISES = [
    # name, body of the USCC (17 chars), district, industry, employees, revenue, park
    ("温州瓯江泵阀有限公司", "91330300MA2H00001", "longwan", "pumps_valves", 180, "56000000", "龙湾小微企业园"),
    ("瑞安市飞鹏汽摩配件有限公司", "91330381MA2H00002", "ruian", "auto_parts", 95, "23000000", None),
    ("乐清市正泰电气配套厂", "91330382MA2H00003", "yueqing", "electrical", 260, "88000000", "乐清经开区小微园"),
    ("温州鹿城红蜻蜓鞋业有限公司", "91330302MA2H00004", "lucheng", "footwear_leather", 140, "41000000", None),
    ("温州瓯海东方服饰有限公司", "91330304MA2H00005", "ouhai", "clothing", 75, "12000000", "瓯海时尚智造小微园"),
    ("永嘉县阀门铸造有限公司", "91330324MA2H00006", "yongjia", "pumps_valves", 60, "9000000", None),
    ("平阳县鞋材包装有限公司", "91330326MA2H00007", "pingyang", "printing_packaging", 35, "4500000", None),
    ("苍南县新材料塑胶有限公司", "91330327MA2H00008", "cangnan", "plastics_chemicals", 48, "7800000", None),
    ("龙港市印刷智造有限公司", "91330383MA2H00009", "longgang", "printing_packaging", 120, "26000000", "龙港印刷小微园"),
    ("文成县精工机械厂", "91330328MA2H00010", "wencheng", "machinery", 18, "2600000", None),
    ("泰顺县竹木制品有限公司", "91330329MA2H00011", "taishun", "other", 25, "3200000", None),
    ("洞头海洋食品机械有限公司", "91330305MA2H00012", "dongtou", "machinery", 52, "9600000", None),
]

PROVIDERS = [
    ("温州智造云科技有限公司", "91330300MA2P00001", "Cloud MES and equipment connectivity for small workshops."),
    ("浙江数联工业互联网有限公司", "91330100MA2P00002", "Quality traceability and intelligent warehousing."),
    ("瓯越智能装备服务有限公司", "91330300MA2P00003", "Robot grinding cells and remote equipment O&M."),
]

SOLUTIONS = [
    # provider index, title, category, industries, list price, trial price, trial days
    (0, "轻量化MES数字车间系统", "mes", ["pumps_valves", "auto_parts", "electrical"], "380000", "180000", 90),
    (0, "设备上云与能耗监测平台", "energy", ["pumps_valves", "machinery"], "150000", "80000", 60),
    (0, "云ERP小微企业版", "erp", ["footwear_leather", "clothing", "other"], "120000", "60000", 60),
    (1, "产品质量追溯系统", "traceability", ["auto_parts", "electrical", "pumps_valves"], "260000", "150000", 90),
    (1, "智能仓储WMS", "warehousing", ["footwear_leather", "printing_packaging"], "300000", "160000", 120),
    (1, "C2M柔性定制平台", "c2m", ["clothing", "footwear_leather"], "420000", "200000", 120),
    (2, "机器人打磨工作站", "robot_inspection", ["pumps_valves", "auto_parts"], "500000", "200000", 90),
    (2, "设备远程运维服务", "remote_om", ["machinery", "electrical"], "90000", "50000", 60),
    (2, "AI鞋样设计助手", "ai_design", ["footwear_leather"], "160000", "90000", 60),
]

DEMO_USERS = [
    # email, name, role, organisation key
    ("sme@demo.test", "陈小企", "sme", ("enterprise", 0)),
    ("provider@demo.test", "王服务", "provider", ("provider", 0)),
    ("evaluator@demo.test", "李评估", "evaluator", ("evaluation", 0)),
    ("officer@demo.test", "张科长", "officer", ("bureau", 0)),
    ("finance@demo.test", "刘财务", "finance", ("bureau", 0)),
    ("finance2@demo.test", "赵复核", "finance", ("bureau", 0)),
    ("auditor@demo.test", "周审计", "auditor", ("bureau", 0)),
    ("admin@demo.test", "系统管理员", "admin", ("bureau", 0)),
    ("park_operator@demo.test", "郑园区", "park_operator", ("park", 0)),
    ("park2@demo.test", "吴园区", "park_operator", ("park", 1)),
]


def _password_for(email: str) -> str:
    local = email.split("@")[0]
    return f"demo-{local}-pass"


def _org(kind: str, name: str, uscc: str | None = None, **extra) -> tuple[Organisation, bool]:
    existing = db.session.scalar(select(Organisation).where(Organisation.kind == kind, Organisation.name == name))
    if existing:
        return existing, False
    org = Organisation(kind=kind, name=name, uscc=uscc, **extra)
    db.session.add(org)
    db.session.flush()
    record_event(SEEDER, "organisation.created", "organisation", org.id, after={"kind": kind, "name": name})
    return org, True


def seed() -> dict[str, int]:
    counts: dict[str, int] = {}

    def bump(key: str, created: bool) -> None:
        if created:
            counts[key] = counts.get(key, 0) + 1

    bureau, c = _org("bureau", "温州市经济和信息化局", contact_name="数字化改造专班", contact_phone="0577-88960000")
    bump("organisations", c)
    institution, c = _org("evaluation", "温州数字化转型第三方评估中心", contact_name="评估部", contact_phone="0577-88961111")
    bump("organisations", c)

    enterprises = []
    for i, (name, body, district, industry, employees, revenue, park) in enumerate(ENTERPRISES):
        org, c = _org("enterprise", name, _uscc(body), contact_name="联系人", contact_phone=f"0577-8800{i:04d}",
                      bank_name="温州银行", bank_account=f"70100000{i:04d}8888",
                      bank_code="313333000017")
        if c:
            size = classify_enterprise(employees, Decimal(revenue))
            db.session.add(Enterprise(organisation_id=org.id, district=district, industry=industry,
                                      employees=employees, annual_revenue=Decimal(revenue),
                                      size_class=size.size_class, industrial_park=park))
        bump("enterprises", c)
        enterprises.append(org)

    providers = []
    for name, body, description in PROVIDERS:
        org, c = _org("provider", name, _uscc(body), description=description, contact_name="客户经理",
                      contact_phone="0577-86660000", bank_name="中国工商银行温州分行",
                      bank_account=f"120320000900{len(providers):04d}", bank_code="102333000017")
        bump("providers", c)
        providers.append(org)

    for p_idx, title, category, industries, list_price, trial_price, days in SOLUTIONS:
        if db.session.scalar(select(Solution.id).where(Solution.title == title)):
            continue
        sol = Solution(provider_id=providers[p_idx].id, title=title, category=category,
                       target_industries=industries, description=f"{title}：面向温州中小企业的成熟解决方案，含部署、培训与试用期服务。",
                       list_price=Decimal(list_price), trial_price=Decimal(trial_price), trial_period_days=days,
                       status="listed")
        db.session.add(sol)
        db.session.flush()
        record_event(SEEDER, "solution.seeded", "solution", sol.id, after={"title": title, "status": "listed"})
        bump("solutions", True)

    from voucher.demo_activity import DEMO_PROGRAMME_SUFFIX, DEMO_TODAY, demo_programme, demo_shift

    if demo_programme() is None:
        shift = demo_shift()
        year = (DEMO_TODAY + shift).year
        prog = Programme(name=f"{year}年度{DEMO_PROGRAMME_SUFFIX}", year=year, budget=Decimal("50000000.00"),
                         opens_on=date(2026, 1, 1) + shift, closes_on=date(2026, 12, 31) + shift,
                         pilot_industries=["pumps_valves", "footwear_leather", "electrical", "auto_parts"])
        db.session.add(prog)
        db.session.flush()
        from voucher.programmes.rule_versions import ensure_first_version
        ensure_first_version(prog)  # version 1, as create_programme makes it
        db.session.flush()
        record_event(SEEDER, "programme.created", "programme", prog.id,
                     after={"name": prog.name, "budget": prog.budget})
        bump("programmes", True)

    for day, rate in ((date(2024, 10, 21), Decimal("3.10")), (date(2025, 5, 20), Decimal("3.00"))):
        if not db.session.scalar(select(LprRate.id).where(LprRate.effective_from == day)):
            db.session.add(LprRate(effective_from=day, rate_pct=rate))
            db.session.flush()
            record_event(SEEDER, "lpr_rate.created", "lpr_rate", day.isoformat(), after={"rate_pct": rate})
            bump("lpr_rates", True)

    from voucher.parks.demo import seed_parks

    park_operators = list(seed_parks(SEEDER, _org, enterprises, counts).values())
    orgs = {"enterprise": enterprises, "provider": providers, "evaluation": [institution], "bureau": [bureau],
            "park": park_operators}
    for email, name, role, (kind, idx) in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.email == email)):
            continue
        user = User(email=email, name=name, role=role, organisation_id=orgs[kind][idx].id, active=True,
                    password_hash=hash_password(_password_for(email)))
        db.session.add(user)
        db.session.flush()
        record_event(SEEDER, "user.created", "user", user.id, after={"email": email, "role": role})
        bump("users", True)
    db.session.flush()

    from voucher.demo_activity import seed_activity

    programme = demo_programme()
    seed_activity(enterprises, providers, programme, counts)
    from voucher.guides.demo import seed_guides

    seed_guides(programme, counts)
    from voucher.maturity.demo import seed_assessments

    seed_assessments(enterprises, counts)
    from voucher.benefits.demo import seed_benefits

    seed_benefits(enterprises, counts)
    from voucher.rules.demo import seed_rule_draft

    seed_rule_draft(programme, counts)
    db.session.flush()
    return counts
