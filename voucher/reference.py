"""Reference lists shared by forms, pages and seed data (codes stored, labels translated)."""
from flask_babel import lazy_gettext as _l

ROLES = {
    "sme": _l("Enterprise (SME)"),
    "provider": _l("Solution provider"),
    "evaluator": _l("Evaluator"),
    "officer": _l("Programme officer"),
    "finance": _l("Finance officer"),
    "auditor": _l("Auditor"),
    "admin": _l("Administrator"),
    "park_operator": _l("Park operator"),
}

ORGANISATION_KINDS = {
    "enterprise": _l("Enterprise"),
    "provider": _l("Solution provider"),
    "evaluation": _l("Evaluation institution"),
    "bureau": _l("Economy and information bureau"),
    "park": _l("Park operator organisation"),
}

# Which organisation kind a role's users belong to (admin and auditor belong to the bureau).
ROLE_ORGANISATION_KIND = {
    "sme": "enterprise",
    "provider": "provider",
    "evaluator": "evaluation",
    "officer": "bureau",
    "finance": "bureau",
    "auditor": "bureau",
    "admin": "bureau",
    "park_operator": "park",
}

DISTRICTS = {
    "lucheng": _l("Lucheng"),
    "longwan": _l("Longwan"),
    "ouhai": _l("Ouhai"),
    "dongtou": _l("Dongtou"),
    "ruian": _l("Rui'an"),
    "yueqing": _l("Yueqing"),
    "longgang": _l("Longgang"),
    "yongjia": _l("Yongjia"),
    "pingyang": _l("Pingyang"),
    "cangnan": _l("Cangnan"),
    "wencheng": _l("Wencheng"),
    "taishun": _l("Taishun"),
}

INDUSTRIES = {
    "footwear_leather": _l("Footwear and leather"),
    "clothing": _l("Clothing"),
    "electrical": _l("Electrical equipment"),
    "pumps_valves": _l("Pumps and valves"),
    "auto_parts": _l("Auto parts"),
    "eyewear": _l("Eyewear"),
    "printing_packaging": _l("Printing and packaging"),
    "plastics_chemicals": _l("Plastics and chemicals"),
    "machinery": _l("General machinery"),
    "other": _l("Other manufacturing"),
}

SIZE_CLASSES = {
    "micro": _l("Micro"),
    "small": _l("Small"),
    "medium": _l("Medium"),
    "large": _l("Large"),
}

SOLUTION_CATEGORIES = {
    "warehousing": _l("Intelligent warehousing"),
    "traceability": _l("Quality traceability"),
    "mes": _l("MES / digital workshop"),
    "erp": _l("ERP"),
    "c2m": _l("C2M flexible manufacturing"),
    "ai_design": _l("AI design"),
    "remote_om": _l("Remote equipment O&M"),
    "energy": _l("Energy management"),
    "cloud": _l("Cloud migration"),
    "robot_inspection": _l("Robot grinding / intelligent inspection"),
}

FUNDING_KINDS = {
    "trial_voucher": _l("Trial voucher"),
    "loan_discount": _l("Loan interest discount"),
    "robot_subsidy": _l("Robot purchase subsidy"),
}


def label(mapping: dict, code: str | None) -> str:
    if code is None:
        return ""
    return str(mapping.get(code, code))
