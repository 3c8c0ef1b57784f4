"""Demo activity: applications, trials, evaluations, subsidies and fund-ledger entries in many
states, so the dashboards, queues and charts have something real to show.

Everything is driven through the domain services with :class:`Actor`s of demo users, so the state
machines are respected, every change is in the audit chain and the ledger's rules hold.  Each story
is keyed by the application's form token (or a natural key) and skipped when present: a second
run changes nothing.  The stories are written on dates of 2026 as seen from ``DEMO_TODAY``; loaded
on another day, every date moves by the whole weeks between ``DEMO_TODAY`` and that day (weekdays
stay weekdays), so the demo always shows a programme in its last weeks with work waiting — never a
stale year whose drafts can no longer be submitted.  The shift is fixed when the demo programme is
created (a later run reads it back from the programme).  With the ``time-machine`` package installed
(development and test installs) the clock is moved to each date, so timestamps (submission, ledger
entries, audit events) spread over the months like real history; without it the declared dates are
still those of the story and the timestamps are the run's.
"""
from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from voucher.audit.services import Actor, record_event
from voucher.auth.models import User
from voucher.auth.passwords import hash_password
from voucher.errors import DomainError
from voucher.extensions import db

log = logging.getLogger(__name__)
TZ = ZoneInfo("Asia/Shanghai")
D = Decimal


def clock(day: date, hour: int = 10):
    """Move the clock to ``day`` (local time) while a story step runs, when time-machine is installed."""
    try:
        import time_machine
    except ImportError:  # production installs: keep the real clock
        return contextlib.nullcontext()
    return time_machine.travel(datetime.combine(day, time(hour, 0), tzinfo=TZ), tick=True)


# The day the stories were written as "today": every story date is relative to it.
DEMO_TODAY = date(2026, 11, 18)
DEMO_PROGRAMME_SUFFIX = "中小企业数字化改造试点"
DEMO_FIRST_DAY = date(2026, 1, 1)  # the demo programme's opening day as written


def demo_programme():
    """The demo programme (its name carries the year it was loaded in), or None."""
    from voucher.programmes.models import Programme

    return db.session.scalar(select(Programme).where(Programme.name.like(f"%年度{DEMO_PROGRAMME_SUFFIX}"))
                             .order_by(Programme.id).limit(1))


def demo_shift(today: date | None = None) -> timedelta:
    """How far the story dates move: read back from the demo programme once it exists, else the
    whole weeks from ``DEMO_TODAY`` to today (Beijing time)."""
    programme = demo_programme()
    if programme is not None:
        return programme.opens_on - DEMO_FIRST_DAY
    today = today or datetime.now(TZ).date()
    return timedelta(weeks=(today - DEMO_TODAY).days // 7)


_shift = timedelta(0)


def on(year: int, month: int, day: int) -> date:
    """A story date as written, moved by this load's shift."""
    return date(year, month, day) + _shift


def _shifted(story: "Story") -> "Story":
    from dataclasses import replace

    def move(d):
        return None if d is None else d + _shift

    return replace(story, submitted=move(story.submitted), decided=move(story.decided), kickoff=move(story.kickoff),
                   evaluator_assigned=move(story.evaluator_assigned),
                   paid=tuple((milestone, move(d)) for milestone, d in story.paid))


def actor_of(user: User) -> Actor:
    return user.actor()


# --- the people -------------------------------------------------------------------------------

def _staff(email: str, name: str, role: str, organisation_id: int, counts: dict) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        return user
    local = email.split("@")[0]
    user = User(email=email, name=name, role=role, organisation_id=organisation_id, active=True,
                password_hash=hash_password(f"demo-{local}-pass"))
    db.session.add(user)
    db.session.flush()
    record_event(Actor(None, "system", None, "demo seed"), "user.created", "user", user.id,
                 after={"email": email, "role": role})
    counts["staff_users"] = counts.get("staff_users", 0) + 1
    return user


# --- the stories ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Story:
    """One trial-voucher application and how far it goes, with the dates of each step."""

    key: str                    # the application's form token (unique, ≥ 16 characters)
    enterprise: int             # index into demo.ENTERPRISES
    solution: str               # solution title
    amount: str
    submitted: date | None      # None: stays a draft
    decision: str | None = None  # approve | reject | return
    decided: date | None = None
    kickoff: date | None = None  # the enterprise confirms the kick-off on this day
    milestones_done: int = 0    # further milestones confirmed after the kick-off (deployed, in use, final)
    reported_waiting: bool = False  # the next milestone is reported and waits for the enterprise
    evaluator_assigned: date | None = None
    score: str | None = None    # every criterion's score: the overall score
    adoption: bool | None = None
    paid: tuple[tuple[str, date], ...] = ()  # (milestone, day) paid from the ledger
    accepted: tuple[str, ...] = ()  # who accepted the delivered scope after the final report ("sme", "provider")
    reason: str = ""
    baselines: dict = field(default_factory=lambda: {"production_efficiency": D("42.50"), "defect_rate": D("3.20")})


STORIES = (
    # closed: passed, adopted — the demo SME's own history
    Story("demo-app-a-closed-0001", 0, "云ERP小微企业版", "60000", date(2026, 3, 2), "approve", date(2026, 3, 6),
          kickoff=date(2026, 3, 16), milestones_done=3, evaluator_assigned=date(2026, 5, 25), score="88",
          adoption=True, paid=(("advance", date(2026, 3, 27)), ("balance", date(2026, 6, 19))),
          accepted=("sme", "provider")),
    # closed: passed, not adopted
    Story("demo-app-b-closed-0002", 1, "产品质量追溯系统", "150000", date(2026, 3, 20), "approve", date(2026, 3, 27),
          kickoff=date(2026, 4, 13), milestones_done=3, evaluator_assigned=date(2026, 7, 20), score="76",
          adoption=False, paid=(("advance", date(2026, 4, 28)), ("balance", date(2026, 8, 14))),
          accepted=("provider", "sme")),
    # evaluated: failed (balance released), adoption decision pending
    Story("demo-app-f-failed-0006", 4, "C2M柔性定制平台", "200000", date(2026, 4, 8), "approve", date(2026, 4, 15),
          kickoff=date(2026, 5, 6), milestones_done=3, evaluator_assigned=date(2026, 9, 7), score="55",
          paid=(("advance", date(2026, 5, 22)),), baselines={"order_lead_time": D("12"), "defect_rate": D("4.5")},
          accepted=("sme",)),
    # completed: the evaluator is assigned and has not scored yet; the provider accepted, the enterprise not yet
    Story("demo-app-c-complete-0003", 2, "轻量化MES数字车间系统", "180000", date(2026, 5, 6), "approve",
          date(2026, 5, 12), kickoff=date(2026, 5, 25), milestones_done=3, evaluator_assigned=date(2026, 9, 14),
          paid=(("advance", date(2026, 6, 10)),), accepted=("provider",)),
    # running and overdue (past its end date, milestones missing)
    Story("demo-app-d-overdue-0004", 3, "智能仓储WMS", "160000", date(2026, 5, 18), "approve", date(2026, 5, 22),
          kickoff=date(2026, 6, 1), milestones_done=1, paid=(("advance", date(2026, 6, 24)),)),
    # running, a milestone waits for the enterprise's confirmation
    Story("demo-app-e-running-0005", 5, "机器人打磨工作站", "200000", date(2026, 8, 17), "approve", date(2026, 8, 24),
          kickoff=date(2026, 9, 7), milestones_done=1, reported_waiting=True),
    # approved: waiting for the kick-off
    Story("demo-app-g-approved-0007", 8, "设备远程运维服务", "50000", date(2026, 10, 19), "approve",
          date(2026, 10, 28)),
    # waiting for review: one overdue, one within the review deadline
    Story("demo-app-i-overdue-0009", 7, "设备远程运维服务", "45000", date(2026, 10, 20)),
    Story("demo-app-h-waiting-0008", 6, "设备上云与能耗监测平台", "80000", date(2026, 11, 16)),
    # rejected with a reason
    Story("demo-app-j-rejected-0010", 9, "云ERP小微企业版", "60000", date(2026, 9, 21), "reject", date(2026, 9, 28),
          reason="申请材料中的需求与所选方案不匹配：贵企业为机械加工，所选ERP面向鞋服行业。"),
    # the demo SME: one returned for revision, one draft
    Story("demo-app-k-returned-0011", 0, "设备上云与能耗监测平台", "80000", date(2026, 11, 2), "return",
          date(2026, 11, 6), reason="请补充近三个月的能耗台账，并说明试用期间的计量方式。"),
    Story("demo-app-l-draft-0012", 0, "产品质量追溯系统", "40000", None),
)

NEED = ("通过试用该方案，解决生产现场数据靠人工记录、质量问题难以追溯、订单交期不透明等问题，"
        "期望试用期内一次合格率提升、交付周期缩短。")


def _solution(title: str):
    from voucher.catalogue.models import Solution

    return db.session.scalar(select(Solution).where(Solution.title == title))


def _exists(key: str) -> bool:
    from voucher.applications.models import TrialApplication

    return db.session.scalar(select(TrialApplication.id).where(TrialApplication.idempotency_token == key)) is not None


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=TZ)


def _story_steps(story: Story, people: dict, programme):
    """The story as a generator: it yields the local time of its next step, and the scheduler
    resumes it with the clock set to that time (so every story's steps interleave in date order)."""
    from voucher.applications import services as apps
    from voucher.trials import services as trials

    sme = people["sme"][story.enterprise]
    officer, evaluator = people["officer"], people["evaluator"]
    solution = _solution(story.solution)
    provider = people["provider"][solution.provider_id]
    # A draft is dated from the day the demo is loaded, so its declared dates are still ahead.
    start = story.submitted or max(on(2026, 11, 18), datetime.now(TZ).date())
    yield at(start - timedelta(days=3))
    application, _ = apps.create_application(
        sme, token=story.key, programme_id=programme.id, solution_id=solution.id,
        content=apps.Content(D(story.amount), NEED, start + timedelta(days=5), start + timedelta(days=10),
                             dict(story.baselines)), today=start - timedelta(days=3))
    # The required materials of the checklist (drafts too, so a demo user can submit one).
    apps.add_materials(sme, application.id, _demo_materials(apps.checklist(application), ()),
                       max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    if story.submitted is None:
        return
    yield at(start)
    apps.submit(sme, application.id, today=start)
    if story.decision is None:
        return
    yield at(story.decided, 15)
    if story.decision == "reject":
        apps.reject(officer, application.id, story.reason)
        return
    if story.decision == "return":
        apps.return_for_revision(officer, application.id, story.reason)
        return
    apps.approve(officer, application.id, "符合试点条件，同意试用。")
    if story.kickoff is None:
        return
    trial = trials.trial_for_application(application.id)
    paid = dict(story.paid)
    kinds = ("kickoff", "deployed", "in_use", "final_report")
    notes = {"kickoff": "项目启动会已召开，实施团队进场。", "deployed": "系统已部署上线并完成数据对接。",
             "in_use": "车间已按新流程连续使用四周。", "final_report": "已提交试用总结报告及指标对比。"}
    day = story.kickoff
    final_day = None
    for kind in kinds[:1 + story.milestones_done]:
        yield at(day - timedelta(days=1), 11)
        trials.report_milestone(provider, trial.id, kind, notes[kind])
        yield at(day, 16)
        trials.confirm_milestone(sme, trial.id, kind, today=day)
        if kind == "final_report":
            final_day = day
        if kind == "kickoff" and "advance" in paid:
            yield at(paid["advance"], 14)
            pay(people, programme, apps.SOURCE_TYPE, application.id, "advance", trial.advance_amount, paid["advance"])
        day = day + timedelta(days=max(trial.period_days // 4, 7))
    if story.reported_waiting:
        following = kinds[1 + story.milestones_done]
        yield at(day, 11)
        trials.report_milestone(provider, trial.id, following, notes[following])
    # Acceptance (验收) of the delivered scope, a few days after the final report, before the evaluation.
    scopes = {"sme": "系统已按申请书所列方案完成部署，车间报工、质量追溯模块已投入使用，操作人员已完成培训。",
              "provider": "已完成全部交付：软件部署、数据对接、两轮现场培训及试用总结报告，移交管理员账号。"}
    for n, party in enumerate(story.accepted if final_day is not None else (), start=1):
        yield at(final_day + timedelta(days=n), 15)
        who = sme if party == "sme" else provider
        trials.record_acceptance(who, trial.id, trials.AcceptanceInput(
            scopes[party], frozenset(i.code for i in trials.acceptance_checklist(trial))))
    if story.evaluator_assigned is None:
        return
    yield at(story.evaluator_assigned)
    trials.assign_evaluator(officer, trial.id, evaluator.user_id)
    if story.score is None:
        return
    scored = story.evaluator_assigned + timedelta(days=10)
    yield at(scored)
    trials.declare_no_conflict(evaluator, trial.id, True)
    afters = {code: (value * D("1.18") if code == "production_efficiency" else value * D("0.8")).quantize(D("0.01"))
              for code, value in story.baselines.items()}
    trials.submit_evaluation(evaluator, trial.id, trials.EvaluationInput(
        afters=afters, scores={c: D(story.score) for c in ("effect", "quality", "service", "cost_effectiveness",
                                                           "replicability")},
        comments="试用期内各项指标按计划采集，评估组现场核验了系统运行记录。",
        recommendation="continue" if D(story.score) >= 60 else "not_recommended"))
    later = []
    if "balance" in paid:
        later.append((at(paid["balance"], 14), lambda: pay(
            people, programme, apps.SOURCE_TYPE, application.id, "balance", trial.balance_amount, paid["balance"])))
    if story.adoption is not None:
        later.append((at(scored + timedelta(days=12)), lambda: trials.record_adoption(
            sme, trial.id, story.adoption,
            "效果明显，决定续费使用。" if story.adoption else "效果一般，暂不续费，改用自有系统。")))
    for when, step in sorted(later, key=lambda pair: pair[0]):
        yield when
        step()


# --- payments -----------------------------------------------------------------------------------

# The officer publishes the approved grants (公示) on these days; each grant is payable once its
# notice period (5 working days) has ended.
NOTICE_DAYS = (date(2026, 3, 9), date(2026, 3, 30), date(2026, 4, 16), date(2026, 5, 13), date(2026, 5, 25),
               date(2026, 8, 25), date(2026, 10, 29))


def pay(people: dict, programme, source_type: str, source_id: int, milestone: str, amount: Decimal, day: date) -> None:
    """Pay one item the way the finance office does: prepared by one finance officer, approved by
    the other with their password, put in a batch, and the bank's "paid" recorded — the payments
    module moves the amount from reserved to paid in the ledger.  Without the payments module the
    ledger's ``pay`` is called directly."""
    try:
        from voucher.payments import services as payments
    except ImportError:  # pragma: no cover - the payments module is part of the application
        from voucher.programmes import services as ledger

        ledger.pay(people["finance"], source_type, source_id, amount, milestone, note="demo payment")
        return
    d = payments.prepare(people["finance"], source_type, source_id, milestone, today=day)
    payments.approve(people["finance2"], d.id, FINANCE2_PASSWORD)
    batch = payments.create_batch(people["finance"], programme.id, [d.id], note="演示批次")
    payments.record_result(people["finance"], d.id, "paid", bank_reference=f"WZB{day:%Y%m%d}{d.id:04d}")
    assert batch.id


def _notice_steps(people: dict, programme):
    """The officer's public notices of the approved grants (skipped when nothing is new)."""
    from voucher.payments import services as payments

    for day in NOTICE_DAYS:
        day = day + _shift
        yield at(day, 9)
        try:
            with db.session.begin_nested():
                payments.publish_notice(people["officer"], programme.id, today=day)
        except DomainError:
            pass  # nothing new to announce that day


# --- subsidies and other bureau activity ------------------------------------------------------

DEMO_MATERIALS = {"business_licence": "营业执照.pdf", "trial_plan": "数字化转型需求与试用方案.pdf",
                  "quotation": "服务商报价单.pdf"}


def _demo_materials(checklist, present) -> dict:
    """A PDF for each required material of the guide's checklist not yet attached."""
    return {m.code: [apps_upload(_pdf(), DEMO_MATERIALS.get(m.code, f"{m.label}.pdf"))]
            for m in checklist if m.required and m.code not in present}


@dataclass
class apps_upload:  # noqa: N801 - reads as a call, like subsidies.Upload
    stream: io.BytesIO
    filename: str


def _pdf() -> io.BytesIO:
    return io.BytesIO(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")


FINANCE2_PASSWORD = "demo-finance2-pass"
LOAN_TOKEN = "demo-loan-0001-ruian"
ROBOT_TOKEN = "demo-robot-0001-ouhai"
SCREENING_TITLE = "AI视觉质检一体机"
FORMER_STAFF = "former.staff@demo.test"


def _loan_steps(people: dict, programme):
    """Approved loan discount (reserved in the ledger) of the Rui'an enterprise."""
    from voucher.subsidies import services as subsidies

    sme, day = people["sme"][1], on(2026, 4, 20)
    yield at(day)
    loan = subsidies.save_loan_application(
        sme, subsidies.LoanInput(
            programme.id, "温州银行瑞安支行", "WZB-2026-DT-0318", on(2026, 1, 10), D("8000000.00"), D("2.40"),
            on(2026, 1, 10), on(2027, 1, 10),
            (subsidies.PeriodInput(on(2026, 1, 10), on(2026, 4, 10), D("8000000.00"), D("48000.00")),)),
        plan=subsidies.Upload(_pdf(), "plan.pdf"), statement=subsidies.Upload(_pdf(), "statement.pdf"),
        max_bytes=current_app.config["UPLOAD_MAX_BYTES"],
        client_token=LOAN_TOKEN, today=day)
    subsidies.add_materials(sme, "loan", loan.id, _demo_materials(subsidies.checklist("loan", loan),
                                                                  subsidies.materials_by_code("loan", loan.id)),
                            max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    subsidies.act(sme, "loan", loan.id, "submit", today=day)
    yield at(on(2026, 4, 29), 15)
    subsidies.act(people["officer"], "loan", loan.id, "approve", today=on(2026, 4, 29))


def _robot_steps(people: dict, programme):
    """The demo SME's robot subsidy, waiting for the bureau's review."""
    from voucher.subsidies import services as subsidies

    sme, day = people["sme"][0], on(2026, 11, 9)
    yield at(day)
    robot = subsidies.save_robot_application(
        sme, subsidies.RobotInput(programme.id, (
            subsidies.RobotLineInput("ER20-1700", "埃夫特智能装备", True, 2, D("150000.00"), "330026110900000001",
                                     on(2026, 10, 28), subsidies.Upload(_pdf(), "invoice-1.pdf")),
            subsidies.RobotLineInput("KR 16 R1610", "KUKA", False, 1, D("400000.00"), "330026110900000002",
                                     on(2026, 10, 30), subsidies.Upload(_pdf(), "invoice-2.pdf")))),
        max_bytes=current_app.config["UPLOAD_MAX_BYTES"],
        client_token=ROBOT_TOKEN, today=day)
    subsidies.add_materials(sme, "robot", robot.id, _demo_materials(subsidies.checklist("robot", robot),
                                                                    subsidies.materials_by_code("robot", robot.id)),
                            max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    subsidies.act(sme, "robot", robot.id, "submit", today=day)


def _parameter_steps(people: dict, programme):
    """An officer adds a pilot industry: one audited ``programme.parameters_changed``."""
    from voucher.programmes import services as programmes

    yield at(on(2026, 6, 30), 9)
    current = programmes._programme_values(programme)
    programmes.update_programme(people["officer"], programme.id, programmes.ProgrammeInput(
        name=current["name"], year=current["year"], budget=current["budget"], opens_on=current["opens_on"],
        closes_on=current["closes_on"], funds_trial_voucher=current["funds_trial_voucher"],
        funds_loan_discount=current["funds_loan_discount"], funds_robot_subsidy=current["funds_robot_subsidy"],
        pilot_industries=tuple(current["pilot_industries"]) + ("machinery",)))


def _deactivation_steps(people: dict, counts: dict):
    """An officer who left the bureau: the administrator deactivates the account."""
    from voucher.auth import services as auth

    yield at(on(2026, 2, 2), 9)
    former = _staff(FORMER_STAFF, "吴离职", "officer", people["officer"].organisation_id, counts)
    yield at(on(2026, 7, 31), 17)
    auth.set_active(people["admin"], former.id, False)


def _screening_steps(people: dict, provider_id: int):
    """A provider's new solution waiting in the evaluators' screening queue."""
    from voucher.catalogue import services as catalogue

    provider = people["provider"][provider_id]
    yield at(on(2026, 11, 12))
    solution = catalogue.create_solution(provider, catalogue.SolutionInput(
        title=SCREENING_TITLE, category="robot_inspection", target_industries=("auto_parts", "electrical"),
        description="基于深度学习的表面缺陷检测一体机，适用于小批量多品种产线，含现场标定与模型训练服务。",
        list_price=D("260000"), trial_price=D("120000"), trial_period_days=60))
    catalogue.submit(provider, solution.id)


def _has_payments() -> bool:
    try:
        import voucher.payments.services  # noqa: F401
    except ImportError:  # pragma: no cover
        return False
    return True


def run_in_date_order(generators) -> None:
    """Resume each generator at the time it yields, earliest first, with the clock set to it."""
    import heapq

    heap = []
    for seq, gen in enumerate(generators):
        first = next(gen, None)
        if first is not None:
            heap.append((first, seq, gen))
    heapq.heapify(heap)
    while heap:
        when, seq, gen = heapq.heappop(heap)
        with clock(when.date(), when.hour):
            following = next(gen, None)
        if following is not None:
            heapq.heappush(heap, (following, seq, gen))


DEMO_CALENDAR_REFERENCE = "演示数据：仅元旦与周末休息，并非国务院通知；正式使用前请按国务院办公厅通知录入"


def _provisional_calendar(officer: Actor, programme) -> None:
    """Loaded in a year neither the chinese-calendar package nor the bureau's entries know, the
    demo's notices could not count their 5 working days: enter such a year with weekends and New
    Year's Day only, saying plainly that it is demo data (an officer replaces it from the notice)."""
    from voucher.workcalendar import services as calendar
    from voucher.workdays import CalendarUnknown, working_days_in

    for year in range(programme.opens_on.year, programme.closes_on.year + 1):
        try:
            working_days_in(year)
        except CalendarUnknown:
            calendar.enter_year(officer, year, [(date(year, 1, 1), "元旦")], [], DEMO_CALENDAR_REFERENCE)


# --- entry point ------------------------------------------------------------------------------

def seed_activity(enterprises, providers, programme, counts: dict) -> None:
    """Drive the stories through the services, in date order; each is skipped once present, so a
    second run changes nothing.  A refusal (a demo database changed by hand) skips the activity."""
    from voucher.audit.models import AuditEvent
    from voucher.catalogue.models import Solution
    from voucher.subsidies.models import LoanApplication, RobotApplication

    global _shift
    _shift = programme.opens_on - DEMO_FIRST_DAY
    users = {u.email: u for u in db.session.scalars(select(User).where(User.email.like("%@demo.test")))}
    people = {
        "officer": actor_of(users["officer@demo.test"]),
        "evaluator": actor_of(users["evaluator@demo.test"]),
        "finance": actor_of(users["finance@demo.test"]),
        "finance2": actor_of(users["finance2@demo.test"]),
        "admin": actor_of(users["admin@demo.test"]),
        "sme": {0: actor_of(users["sme@demo.test"])},
        "provider": {providers[0].id: actor_of(users["provider@demo.test"])},
    }
    names = ("陈", "林", "黄", "郑", "王", "徐", "蔡", "潘", "叶", "金", "池", "季")
    with clock(on(2026, 1, 5), 9):
        for i, org in enumerate(enterprises[1:], start=1):
            people["sme"][i] = actor_of(_staff(f"sme{i + 1}@demo.test", f"{names[i]}经理", "sme", org.id, counts))
        for i, org in enumerate(providers[1:], start=1):
            people["provider"][org.id] = actor_of(_staff(f"provider{i + 1}@demo.test", f"{names[i]}工程师",
                                                         "provider", org.id, counts))
    generators, created = [], {}
    for story in STORIES:
        if not _exists(story.key):
            generators.append(_story_steps(_shifted(story), people, programme))
            created["applications"] = created.get("applications", 0) + 1
    if not db.session.scalar(select(LoanApplication.id).where(LoanApplication.client_token == LOAN_TOKEN)):
        generators.append(_loan_steps(people, programme))
        created["loan_applications"] = 1
    if not db.session.scalar(select(RobotApplication.id).where(RobotApplication.client_token == ROBOT_TOKEN)):
        generators.append(_robot_steps(people, programme))
        created["robot_applications"] = 1
    if not db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "programme.parameters_changed",
                                                        AuditEvent.object_id == str(programme.id))):
        generators.append(_parameter_steps(people, programme))
        created["parameter_changes"] = 1
    if FORMER_STAFF not in users:
        generators.append(_deactivation_steps(people, counts))
    if generators and _has_payments():
        generators.append(_notice_steps(people, programme))
    if not db.session.scalar(select(Solution.id).where(Solution.title == SCREENING_TITLE)):
        generators.append(_screening_steps(people, providers[0].id))
        created["solutions_submitted"] = 1
    if not generators:
        return
    _provisional_calendar(people["officer"], programme)
    try:
        with db.session.begin_nested():
            run_in_date_order(generators)
    except DomainError as err:
        log.warning("demo activity skipped: %s", err.render())
        return
    for key, n in created.items():
        counts[key] = counts.get(key, 0) + n
