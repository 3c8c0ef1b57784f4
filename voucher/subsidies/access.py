"""Who may do what with loan-discount and robot-subsidy applications and the LPR table."""
from voucher.access import BUREAU, Rule, own_organisation

RULES = {
    # the enterprise's own users and the bureau read an application and its files
    "subsidies.read": Rule("sme", *BUREAU, check=own_organisation("enterprise_id")),
    "subsidies.file": Rule("sme", check=own_organisation("enterprise_id")),
    "subsidies.review_queue": Rule(*BUREAU),
    "subsidies.decide": Rule("officer"),
    "subsidies.maintain_lpr": Rule("officer"),
    "subsidies.lpr_rates": Rule("officer", "auditor"),
    # the pages that take a step on an application (the state machine says which step for which role)
    "subsidies.act": Rule("sme", "officer"),
}
