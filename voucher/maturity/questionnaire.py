"""The questionnaire's shape: six fixed dimensions, the questions an officer may edit, and the default
version (seeded on first use by ``services.current_questionnaire``).

A questionnaire's content is JSON kept with its version (past assessments keep theirs)::

    {"dimensions": [{"code": "business", "questions": [
        {"code": "b1", "text": {"en": "...", "zh": "..."},
         "options": [{"level": 1, "text": {"en": "...", "zh": "..."}}, ...]}]}]}

The officer writes the questions in both languages (they are data, not catalogue strings).  The
dimensions are fixed in code: the radar chart, the overview and the link to catalogue categories
depend on them.
"""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from voucher.errors import ValidationFailed

DIMENSIONS = ("business", "data", "equipment", "management", "people", "security")
DIMENSION_LABELS = {
    "business": _l("Business digitalisation"),
    "data": _l("Data"),
    "equipment": _l("Production equipment"),
    "management": _l("Management"),
    "people": _l("People and skills"),
    "security": _l("Cyber security"),
}
LEVELS = (1, 2, 3, 4, 5)
LEVEL_LABELS = {
    1: _l("Level 1: starting"),
    2: _l("Level 2: single-point use"),
    3: _l("Level 3: partly integrated"),
    4: _l("Level 4: integrated"),
    5: _l("Level 5: data-driven"),
}
# Which catalogue categories (voucher.reference.SOLUTION_CATEGORIES) address a dimension's gap.  People
# and skills have no category of their own: the page says so rather than suggesting something unrelated.
DIMENSION_CATEGORIES = {
    "business": ("erp", "c2m", "ai_design"),
    "data": ("cloud", "traceability"),
    "equipment": ("mes", "remote_om", "robot_inspection"),
    "management": ("erp", "warehousing", "energy"),
    "people": (),
    "security": ("cloud",),
}
assert set(DIMENSION_LABELS) == set(DIMENSIONS) == set(DIMENSION_CATEGORIES)

MAX_QUESTIONS = 10
MAX_TEXT = 500
# A question's code is also its form field's name: lower-case letters, digits and "_", never the CSRF field's.
CODE = re.compile(r"[a-z][a-z0-9_]{0,19}")


def _q(code, en, zh, options):
    return {"code": code, "text": {"en": en, "zh": zh},
            "options": [{"level": i + 1, "text": {"en": o[0], "zh": o[1]}} for i, o in enumerate(options)]}


DEFAULT_CONTENT = {"dimensions": [
    {"code": "business", "questions": [
        _q("b1", "How are sales orders taken and followed?", "销售订单如何接收和跟踪？", [
            ("On paper or by phone", "纸质单据或电话"), ("In spreadsheets", "电子表格"),
            ("In one system (e.g. ERP sales module)", "在一个系统中（如 ERP 销售模块）"),
            ("In a system linked to production and stock", "系统与生产、库存打通"),
            ("Online with customers, planned automatically", "与客户在线协同，自动排产")]),
        _q("b2", "How is purchasing managed?", "采购如何管理？", [
            ("By hand", "手工"), ("Spreadsheets", "电子表格"), ("A purchasing system", "采购系统"),
            ("Linked to stock and production plans", "与库存、生产计划联动"),
            ("Suppliers connected online", "与供应商在线协同")]),
        _q("b3", "How is product design or development done?", "产品设计或研发如何开展？", [
            ("Hand drawings", "手工绘图"), ("2D CAD", "二维 CAD"), ("3D CAD with managed drawings", "三维设计，图纸统一管理"),
            ("Design linked to process and production data", "设计与工艺、生产数据贯通"),
            ("Simulation or AI-assisted design", "仿真或 AI 辅助设计")]),
    ]},
    {"code": "data", "questions": [
        _q("d1", "Where is business data kept?", "业务数据存放在哪里？", [
            ("Paper and personal files", "纸质和个人电脑"), ("Shared folders", "共享文件夹"),
            ("In each system separately", "分散在各系统"), ("In systems that exchange data", "系统之间数据互通"),
            ("In one data platform", "统一数据平台")]),
        _q("d2", "How are decisions supported by data?", "决策如何利用数据？", [
            ("Experience only", "凭经验"), ("Occasional reports made by hand", "偶尔手工报表"),
            ("Regular system reports", "系统定期报表"), ("Dashboards with live figures", "实时数据看板"),
            ("Forecasts and models", "预测与模型分析")]),
        _q("d3", "Can a product be traced from material to customer?", "产品能否从原料追溯到客户？", [
            ("No", "不能"), ("Partly, on paper", "部分可以，靠纸质记录"), ("Batch records in a system", "系统记录批次"),
            ("Full traceability by code", "扫码全程追溯"), ("Traceability shared with customers and suppliers", "追溯数据与上下游共享")]),
    ]},
    {"code": "equipment", "questions": [
        _q("e1", "How many key machines are networked?", "关键设备联网情况？", [
            ("No machine", "没有联网设备"), ("A few", "少数"), ("About half", "约一半"), ("Most", "大部分"),
            ("All, with data collected automatically", "全部，自动采集数据")]),
        _q("e2", "How is production on the shop floor recorded?", "车间生产如何记录？", [
            ("On paper", "纸质"), ("Spreadsheets", "电子表格"), ("A workshop system (MES) in part", "部分使用 MES"),
            ("MES across the workshop", "全车间使用 MES"), ("MES linked to planning and quality", "MES 与计划、质量联动")]),
        _q("e3", "How is equipment maintained?", "设备如何维护？", [
            ("When it breaks", "坏了再修"), ("Fixed schedule on paper", "纸质定期保养"),
            ("Maintenance system", "维护管理系统"), ("Condition monitoring", "状态监测"),
            ("Predictive maintenance", "预测性维护")]),
    ]},
    {"code": "management", "questions": [
        _q("m1", "How are finance and costs managed?", "财务和成本如何管理？", [
            ("By hand", "手工记账"), ("Accounting software only", "仅用财务软件"),
            ("Finance linked to purchasing and sales", "财务与购销业务打通"),
            ("Cost per order or product", "按订单或产品核算成本"), ("Budgets and costs monitored live", "预算与成本实时监控")]),
        _q("m2", "How is stock managed?", "库存如何管理？", [
            ("Counting by hand", "手工盘点"), ("Spreadsheets", "电子表格"), ("A warehouse system", "仓储系统"),
            ("Barcodes or RFID in real time", "条码或 RFID 实时管理"), ("Automated warehouse", "智能仓储")]),
        _q("m3", "How is energy use managed?", "能源使用如何管理？", [
            ("Monthly bills only", "只看月度账单"), ("Meters read by hand", "人工抄表"),
            ("Meters per workshop in a system", "分车间计量入系统"), ("Live energy monitoring", "能耗实时监测"),
            ("Energy optimised automatically", "能耗自动优化")]),
    ]},
    {"code": "people", "questions": [
        _q("p1", "Who leads digital work?", "谁负责数字化工作？", [
            ("Nobody", "无人负责"), ("Someone part-time", "兼职人员"), ("An IT person", "专职 IT 人员"),
            ("A digital team", "数字化团队"), ("A senior manager with a plan and budget", "高管牵头，有规划和预算")]),
        _q("p2", "How are staff trained in digital tools?", "员工数字化技能培训情况？", [
            ("No training", "没有培训"), ("When a tool arrives", "上新系统时培训"),
            ("Yearly training", "每年培训"), ("Training plan per role", "按岗位制定培训计划"),
            ("Continuous learning, skills tracked", "持续学习，技能有记录")]),
        _q("p3", "Is there a digital transformation plan?", "是否有数字化转型规划？", [
            ("No", "没有"), ("Ideas only", "只有想法"), ("A written plan", "有书面规划"),
            ("A plan with yearly goals", "有年度目标的规划"), ("A plan reviewed against results", "按成效复盘调整的规划")]),
    ]},
    {"code": "security", "questions": [
        _q("s1", "How is data backed up?", "数据如何备份？", [
            ("Not backed up", "不备份"), ("Now and then, by hand", "偶尔手工备份"), ("Regularly, on site", "定期本地备份"),
            ("Automatically, off site", "自动异地备份"), ("Tested recovery plan", "有经过演练的恢复预案")]),
        _q("s2", "How are accounts and access controlled?", "账号和权限如何管理？", [
            ("Shared accounts", "共用账号"), ("Personal accounts", "个人账号"), ("Access by role", "按角色授权"),
            ("Reviewed regularly, strong passwords", "定期复核，强密码"), ("Two-factor and logs monitored", "双因素认证并监控日志")]),
        _q("s3", "How is the network protected?", "网络如何防护？", [
            ("Nothing in particular", "无专门防护"), ("Antivirus", "杀毒软件"), ("Firewall", "防火墙"),
            ("Office and production networks separated", "办公网与生产网隔离"),
            ("Security assessed (e.g. 等保) and monitored", "通过等保测评并持续监测")]),
    ]},
]}


def structure(content: dict) -> list[tuple[str, list[str]]]:
    """(dimension code, question codes) in order: what the scoring needs."""
    return [(d["code"], [q["code"] for q in d["questions"]]) for d in content["dimensions"]]


def option_levels(content: dict) -> dict[str, set[int]]:
    return {q["code"]: {o["level"] for o in q["options"]} for d in content["dimensions"] for q in d["questions"]}


def _text(value, where: str) -> dict:
    if not isinstance(value, dict) or set(value) != {"en", "zh"}:
        raise ValidationFailed("%(where)s needs a text in English (en) and in Chinese (zh).", field="content",
                               where=where)
    for lang in ("en", "zh"):
        if not isinstance(value[lang], str) or not value[lang].strip() or len(value[lang]) > MAX_TEXT:
            raise ValidationFailed("%(where)s: the text (%(lang)s) is required and at most %(max)s characters.",
                                   field="content", where=where, lang=lang, max=MAX_TEXT)
    return {"en": value["en"].strip(), "zh": value["zh"].strip()}


def validate_content(content) -> dict:
    """A questionnaire's content, checked and normalised: the six dimensions in order, 1–10 questions
    each with a unique code, each question with options naming distinct levels 1–5 (at least two).
    Raises ``ValidationFailed`` (field ``content``) naming the place and the limit."""
    if not isinstance(content, dict) or not isinstance(content.get("dimensions"), list):
        raise ValidationFailed("The questionnaire must be an object with a list of dimensions.", field="content")
    codes = [d.get("code") if isinstance(d, dict) else None for d in content["dimensions"]]
    if codes != list(DIMENSIONS):
        raise ValidationFailed("The dimensions must be, in this order: %(codes)s.", field="content",
                               codes=", ".join(DIMENSIONS))
    seen: set[str] = set()
    out = []
    for d in content["dimensions"]:
        questions = d.get("questions")
        if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
            raise ValidationFailed("Dimension %(dimension)s needs 1 to %(max)s questions.", field="content",
                                   dimension=d["code"], max=MAX_QUESTIONS)
        qs = []
        for q in questions:
            code = q.get("code") if isinstance(q, dict) else None
            if not isinstance(code, str) or not CODE.fullmatch(code) or code == "csrf_token" or code in seen:
                raise ValidationFailed("Every question needs a unique code of at most 20 characters: lower-case "
                                       "letters, digits and _ (dimension %(dimension)s).", field="content",
                                       dimension=d["code"])
            seen.add(code)
            options = q.get("options")
            if not isinstance(options, list) or len(options) < 2:
                raise ValidationFailed("Question %(question)s needs at least two options.", field="content",
                                       question=code)
            levels = [o.get("level") if isinstance(o, dict) else None for o in options]
            if any(isinstance(v, bool) or not isinstance(v, int) or v not in LEVELS for v in levels) \
                    or len(set(levels)) != len(levels):
                raise ValidationFailed("Question %(question)s: every option names a different level from 1 to 5.",
                                       field="content", question=code)
            qs.append({"code": code, "text": _text(q.get("text"), code),
                       "options": [{"level": o["level"], "text": _text(o.get("text"), f"{code}/{o['level']}")}
                                   for o in sorted(options, key=lambda o: o["level"])]})
        out.append({"code": d["code"], "questions": qs})
    return {"dimensions": out}
