"""Who takes the self-assessment (an enterprise's users, for their own enterprise), who reads one
(its enterprise and the bureau), who sees the overview (officer, auditor) and who publishes a new
questionnaire version (the officer)."""
from voucher.access import BUREAU, Rule, own_organisation

RULES = {
    "maturity.take": Rule("sme"),
    "maturity.read": Rule("sme", *BUREAU, check=own_organisation("enterprise_id")),
    "maturity.overview": Rule("officer", "auditor"),
    "maturity.questionnaire": Rule("officer", "auditor"),
    "maturity.publish": Rule("officer"),
}
