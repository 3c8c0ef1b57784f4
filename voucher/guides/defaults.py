"""The content a new guide starts from, per kind, from the domain rules (docs/domain.md) and the
seeds (the Wenzhou pilot: government purchase of services and low-cost trial, the "digital
technical reform loan", the 10–20% robot purchase subsidy).

Figures that the rules set per programme (caps, rates) are taken from the programme when the
default is built; the time limits are not text at all: the page computes them
(:func:`voucher.guides.queries.time_limits`).  The policy-document numbers are the national
documents these rules rest on; the officer adds the bureau's own implementing document and its
number.  Content is data in both languages, not interface text: it is not in the catalogue.
"""
from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from voucher.guides.content import Basis, Faq, GuideContent, Material

DEFAULT_PHONE = "12345"  # the government service hotline, when the bureau has no number on file
HOURS_ZH = "工作日 8:30–12:00，14:00–17:30"
HOURS_EN = "Working days 8:30–12:00 and 14:00–17:30"


def _yuan(value: Decimal) -> str:
    value = Decimal(value)
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _pct(value: Decimal) -> str:
    value = Decimal(value).normalize()
    return f"{value:f}"


# Format groups (keys of voucher.guides.content.FORMATS, in its order).
SCANS = ("pdf", "ofd", "jpeg", "png")
DOCUMENTS = ("pdf", "ofd", "docx", "doc")
SHEETS = ("pdf", "xlsx", "xls")
ANY = ("pdf", "ofd", "jpeg", "png", "docx", "doc", "xlsx", "xls")

LICENCE = Material("营业执照（副本）", "Business licence (copy)", True, SCANS,
                   "加盖企业公章的复印件扫描件或照片，统一社会信用代码清晰可辨。",
                   "A scan or photo of a copy stamped with the enterprise's seal; the unified social credit code "
                   "must be legible.", code="business_licence")
BANK_ACCOUNT = Material("企业银行账户信息", "The enterprise's bank account", True, SCANS,
                        "开户许可证或基本存款账户信息，户名须与企业名称一致，注明开户行联行号。",
                        "Account opening permit or basic deposit account details; the account name must be the "
                        "enterprise's name; give the bank code (CNAPS).", code="bank_account")
FINANCIALS = Material("上年度财务报表或纳税证明", "Last year's financial statements or tax certificate", True,
                      ("pdf", "ofd", "jpeg", "png", "xlsx", "xls"),
                      "用于核定企业规模（从业人员、营业收入）；例：资产负债表、利润表及社保缴纳人数证明。",
                      "Used to confirm the size class (employees, revenue); e.g. balance sheet, income statement "
                      "and the social-insurance headcount.", code="financial_statements")
CREDIT = Material("信用承诺书", "Declaration of good faith", True, ("pdf",),
                  "法定代表人签字并加盖公章；承诺所报材料真实，未列入严重失信主体名单，以虚假材料取得的资金全额退回。",
                  "Signed by the legal representative and sealed: the material is true, the enterprise is not on "
                  "the credit blacklist, and money obtained with false material is repaid in full.",
                  code="credit_declaration")
OTHER = Material("其他证明材料", "Other supporting documents", False, ANY,
                 "可选，例：获奖证书、资质证明或其他有助于审核的材料。",
                 "Optional, e.g. awards, certifications or anything else that helps the review.", code="other")


def _materials(kind: str) -> tuple[Material, ...]:
    if kind == "trial_voucher":
        rows = (
            LICENCE,
            Material("数字化转型需求与试用方案", "Digital-transformation need and trial plan", True, DOCUMENTS,
                     "写明要改进的环节、选用的方案、试用步骤和基线指标（如生产效率、不良率、交货期），与申请表中的基线数据一致。",
                     "The process to improve, the solution chosen, the trial's steps and the baseline figures (e.g. "
                     "output per hour, defect rate, lead time), the same as on the application form.",
                     code="trial_plan"),
            Material("服务商报价单或服务合同（草案）", "Provider's quotation or draft service contract", True, ANY,
                     "写明试用价格；合同签订日期和试用开始日不得早于申请提交日。",
                     "Showing the trial price; the contract's signing and start dates may not be before the "
                     "application is submitted.", code="quotation"),
            FINANCIALS,
            CREDIT,
            Material("基线数据佐证材料", "Evidence of the baseline figures", False, SHEETS + ("jpeg", "png"),
                     "例：生产记录、质量统计或报表截图。",
                     "E.g. production records, quality statistics or report screenshots.", code="baseline_evidence"),
            Material("小微企业园入园证明", "Certificate of a small-and-micro industrial park", False,
                     SCANS, "入驻小微企业园的企业提供，例：园区运营机构出具的入园协议。",
                     "For enterprises in a small-and-micro industrial park, e.g. the park operator's tenancy "
                     "agreement.", code="park_certificate"),
            OTHER,
        )
    elif kind == "loan_discount":
        rows = (
            LICENCE,
            Material("借款合同", "Loan contract", True, ("pdf",),
                     "含合同编号、签订日期、本金、年利率和期限；每份合同只能申请一次。",
                     "With its number, date, principal, annual rate and term; each contract can be claimed once.",
                     code="loan_contract"),
            Material("数字化改造计划", "Digital-transformation plan", True, DOCUMENTS + ("jpeg", "png"),
                     "贷款用途须为该计划；写明改造内容、投资额和进度。",
                     "The loan must finance this plan: what is changed, the investment and the schedule.",
                     code="transformation_plan"),
            Material("银行结息凭证", "The bank's interest statement", True, SCANS + ("xlsx", "xls"),
                     "每个申请贴息的计息期一份，显示起止日、未还本金和实付利息。",
                     "One per interest period claimed, showing its dates, the outstanding principal and the "
                     "interest paid.", code="interest_statement"),
            BANK_ACCOUNT,
            CREDIT,
            OTHER,
        )
    else:
        rows = (
            LICENCE,
            Material("增值税发票", "VAT invoices", True, SCANS,
                     "发票代码加8位号码，或数电票20位号码；每张发票在系统内只能申报一次。",
                     "Invoice code and 8-digit number, or the 20-digit number of a fully digital invoice; each "
                     "invoice can be claimed once.", code="vat_invoice"),
            Material("机器人购置合同", "Robot purchase contract", True, ("pdf",),
                     "写明型号、生产厂家、数量和不含税单价。",
                     "With the model, manufacturer, quantity and unit price excluding VAT.", code="purchase_contract"),
            Material("设备验收报告", "Equipment acceptance report", True, SCANS,
                     "含机器人型号、序列号和安装地点，例：企业与厂家共同签字的验收单。",
                     "With the model, serial numbers and where the robots are installed, e.g. an acceptance "
                     "sheet signed by the enterprise and the maker.", code="acceptance_report"),
            Material("国产品牌证明", "Proof of a domestic brand", False, SCANS,
                     "申请国产品牌比例时提供，例：生产厂家营业执照和产品目录。",
                     "When claiming the domestic-brand rate, e.g. the maker's business licence and catalogue.",
                     code="domestic_brand"),
            BANK_ACCOUNT,
            CREDIT,
            OTHER,
        )
    return tuple(Material(**{**m.__dict__, "position": i}) for i, m in enumerate(rows, start=1))


def default_materials(kind: str) -> tuple[Material, ...]:
    """The 材料清单 a new guide of ``kind`` starts from (also the checklist with no programme)."""
    return _materials(kind)


COMMON_BASIS = (
    Basis("《中华人民共和国中小企业促进法》", "SME Promotion Law of the People's Republic of China",
          "中华人民共和国主席令第七十四号"),
    Basis("《中小企业划型标准规定》", "Provisions on the Classification Standards of Small and Medium-sized "
          "Enterprises", "工信部联企业〔2011〕300号"),
)
KIND_BASIS = {
    "trial_voucher": (
        Basis("《中小企业数字化转型指南》", "Guide to the Digital Transformation of SMEs", "工信厅信发〔2022〕33号"),
        Basis("《关于开展中小企业数字化转型城市试点工作的通知》", "Notice on City Pilots of SME Digital "
              "Transformation", "财建〔2023〕117号"),
    ),
    "loan_discount": (
        Basis("中国人民银行公告（改革完善贷款市场报价利率形成机制）", "People's Bank of China announcement on "
              "the loan prime rate (LPR) mechanism", "中国人民银行公告〔2019〕第15号"),
    ),
    "robot_subsidy": (
        Basis("《“十四五”机器人产业发展规划》", "14th Five-Year Plan for the Robot Industry", "工信部联规〔2021〕206号"),
    ),
}

NOTICE_FAQ = Faq("对公示名单有异议怎么办？", "What if I object to a grant on the public notice?",
                 "公示期内任何人都可以在公示页面提出异议并留下联系方式；异议涉及的拨付暂缓，经信局核实处理后再决定。",
                 "Anyone may object on the notice's page while it runs, leaving a contact; the payment concerned is "
                 "held until the bureau has examined the objection and decided.")


def _faq(kind: str, p) -> tuple[Faq, ...]:
    if kind == "trial_voucher":
        rows = (
            Faq("试用期满后必须购买吗？", "Must we buy the solution after the trial?",
                "不必须。试用期满后由企业自主决定是否付费继续使用，并在系统中记录决定和理由。",
                "No. After the trial the enterprise decides whether to pay to keep using it, and records the "
                "decision and why."),
            Faq("试用券的钱付给谁？", "Who receives the trial voucher's money?",
                f"付给服务商（政府购买服务）。企业确认试用启动后预拨{_pct(p.advance_pct)}%；效果评价通过且企业和服务商"
                "双方确认验收后拨付尾款；评价未通过的，尾款退回资金。",
                f"The provider (the government buys the service): {_pct(p.advance_pct)}% in advance once the "
                "enterprise confirms the kick-off; the balance after the evaluation passes and both sides confirm "
                "acceptance; if it fails, the balance returns to the fund."),
            Faq("可以先签合同、后申请吗？", "Can we sign the contract first and apply later?",
                "不可以。试用合同签订日和试用开始日都不得早于申请提交日，不受理事后补申请。",
                "No. The contract date and the trial start may not be before the application is submitted."),
            Faq("服务商可以代企业填报吗？", "May the provider fill in the application for us?",
                "不可以。服务商不得代企业填报、修改或提交申请，也不得向企业返利。",
                "No. A provider may not file, edit or submit an application for an enterprise, nor offer it "
                "rebates."),
        )
    elif kind == "loan_discount":
        rows = (
            Faq("贴息怎么算？", "How is the discount worked out?",
                f"每个计息期：符合条件的本金 × {_pct(p.loan_subsidy_points)}个百分点 × 实际天数 ÷ {p.loan_day_basis}，"
                "且不超过该期实付利息；各期分别四舍五入到分后相加。",
                f"Per interest period: eligible principal × {_pct(p.loan_subsidy_points)} percentage points × "
                f"actual days ÷ {p.loan_day_basis}, at most the interest paid in the period; each period rounded "
                "to the fen, then added up."),
            Faq("贷款利率有什么要求？", "Which loan rates qualify?",
                f"年利率不高于合同签订日一年期贷款市场报价利率（LPR）×（1−{_pct(p.loan_rate_margin_pct)}%）。",
                f"An annual rate at most the 1-year loan prime rate (LPR) on the contract date × "
                f"(1 − {_pct(p.loan_rate_margin_pct)}%)."),
            Faq("企业有多笔贷款怎么办？", "What if the enterprise has several loans?",
                f"同一天各合同合计享受贴息的本金最多{_yuan(p.loan_principal_cap)}元，按审核通过先后计算。",
                f"On any day at most ¥{_yuan(p.loan_principal_cap)} of principal, over all contracts, is "
                "discounted, in the order the claims were approved."),
        )
    else:
        rows = (
            Faq("补助比例如何确定？", "Which rate applies?",
                f"一般为{_pct(p.robot_base_rate)}%；国产品牌机器人{_pct(p.robot_domestic_rate)}%；试点行业企业购买国产品牌"
                f"机器人{_pct(p.robot_pilot_domestic_rate)}%。按不含税价逐行计算。",
                f"{_pct(p.robot_base_rate)}% in general; {_pct(p.robot_domestic_rate)}% for domestic-brand robots; "
                f"{_pct(p.robot_pilot_domestic_rate)}% for domestic-brand robots bought by an enterprise in a pilot "
                "industry; per line on the price excluding VAT."),
            Faq("同一张发票能重复申报吗？", "Can an invoice be claimed twice?",
                "不能。每张发票在全系统只能申报一次（全角字符、空格、连字符的差异不影响比对）。",
                "No. Each invoice can be claimed once in the whole system (full-width characters, spaces and "
                "dashes do not make a different number)."),
            Faq("机器人转卖或停用怎么办？", "What if the robot is sold or stops being used?",
                "机器人自发票日起须在本企业使用满3年；未满的按剩余天数比例追回补助，以虚假材料取得的全额追回。",
                "A subsidised robot stays in use at the enterprise for 3 years from the invoice date; otherwise the "
                "subsidy is recovered pro rata to the remaining days, in full when obtained by false material."),
        )
    return rows + (NOTICE_FAQ,)


def _eligibility(kind: str, p) -> tuple[str, str]:
    common_zh = ["在本市依法登记注册的中小微企业（按《中小企业划型标准规定》划型，大型企业不能申请）。",
                 "申请之日未列入严重失信主体名单。"]
    common_en = ["A small, medium or micro enterprise registered in the city (size class by the national "
                 "classification standard; large enterprises cannot apply).",
                 "Not on the credit blacklist on the day of the application."]
    if kind == "trial_voucher":
        zh = common_zh + ["试用的方案须为第三方评价机构筛选入库（已入库或推荐）的数字化解决方案。",
                          f"本企业在本计划内已使用的试用额度加本次申请不超过{_yuan(p.trial_cap_per_enterprise)}元。",
                          "试用合同签订日和试用开始日不得早于申请提交日。"]
        en = common_en + ["The solution is listed (or recommended) in the catalogue screened by the third-party "
                          "evaluation institution.",
                          f"The enterprise's quota used in the programme plus this request is at most "
                          f"¥{_yuan(p.trial_cap_per_enterprise)}.",
                          "The trial contract and the trial start are not before the application is submitted."]
    elif kind == "loan_discount":
        zh = common_zh + ["贷款用于企业的数字化改造计划。",
                          f"贷款年利率不高于合同签订日一年期LPR×（1−{_pct(p.loan_rate_margin_pct)}%）。",
                          "已按期支付所申请计息期的利息。"]
        en = common_en + ["The loan finances the enterprise's digital-transformation plan.",
                          f"The annual rate is at most the 1-year LPR on the contract date × "
                          f"(1 − {_pct(p.loan_rate_margin_pct)}%).",
                          "The interest of each period claimed has been paid."]
    else:
        zh = common_zh + ["已购置工业机器人并取得增值税发票，设备已验收投入使用。",
                          "机器人自发票日起在本企业使用满3年。"]
        en = common_en + ["Industrial robots bought, with VAT invoices, accepted and in use.",
                          "The robots stay in use at the enterprise for 3 years from the invoice date."]
    return "\n".join(zh), "\n".join(en)


def _enterprise_pays(kind: str, p) -> tuple[str, str]:
    if kind == "trial_voucher":
        return ("试用价格中超出试用券金额的部分由企业自付。试用期满后继续使用的，按服务商报价由企业自行付费。",
                "The enterprise pays the part of the trial price above the voucher amount itself. Using the "
                "solution after the trial is at the enterprise's own cost, at the provider's price.")
    if kind == "loan_discount":
        return ("企业按借款合同向银行正常还本付息；贴息在公示期满后拨付到企业账户，最多等于实付利息。",
                "The enterprise repays the bank as the loan contract says; the discount is paid to its account "
                "after the public notice, at most the interest it paid.")
    return ("机器人价款和增值税由企业全额支付；补助在公示期满后拨付到企业账户，"
            f"每家企业在本计划内合计最多{_yuan(p.robot_enterprise_cap)}元。",
            "The enterprise pays the robots and the VAT in full; the subsidy is paid to its account after the "
            f"public notice, at most ¥{_yuan(p.robot_enterprise_cap)} per enterprise in the programme.")


def _parameters_today(programme) -> SimpleNamespace:
    """The parameters of the programme's rule version in force today, as attributes."""
    from voucher.programmes.queries import local_today
    from voucher.programmes.services import parameters_on

    return SimpleNamespace(**parameters_on(programme.id, local_today())[1])


def default_content(programme, kind: str, phone: str | None = None) -> GuideContent:
    """The guide a programme's kind starts with, its figures taken from the programme's rule version
    in force today (a display, so today's version)."""
    p = _parameters_today(programme)
    eligibility = _eligibility(kind, p)
    pays = _enterprise_pays(kind, p)
    local = Basis(f"《{programme.name}实施方案》", f"Implementation plan of {programme.name}", "")
    return GuideContent(
        eligibility_zh=eligibility[0], eligibility_en=eligibility[1],
        enterprise_pays_zh=pays[0], enterprise_pays_en=pays[1],
        contact_phone=phone or DEFAULT_PHONE, contact_hours_zh=HOURS_ZH, contact_hours_en=HOURS_EN,
        materials=_materials(kind), basis=COMMON_BASIS + KIND_BASIS[kind] + (local,), faq=_faq(kind, p))
