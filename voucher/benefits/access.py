"""Who imports the bureau's data (programme officers), who reads the imports and all candidates
(officers and auditors), who sees a candidate (its enterprise and the bureau) and who answers it
(its enterprise's users only)."""
from voucher.access import BUREAU, Rule, own_organisation

RULES = {
    "benefits.import": Rule("officer"),
    "benefits.sources": Rule("officer", "auditor"),
    "benefits.overview": Rule("officer", "auditor"),
    "benefits.match": Rule("officer", "system"),
    "benefits.read": Rule("sme", *BUREAU, check=own_organisation("enterprise_id")),
    "benefits.decide": Rule("sme", check=own_organisation("enterprise_id")),
}
