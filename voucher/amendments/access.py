"""Who may ask for and decide amendments to an approved grant (registered by ``voucher.access``)."""
from voucher.access import BUREAU, Rule, own_organisation

RULES = {
    # only the enterprise's own SME users ask for (or withdraw) a change of their grant
    "amendments.request": Rule("sme", check=own_organisation("enterprise_id")),
    # the enterprise's own users and the bureau read a request
    "amendments.read": Rule("sme", *BUREAU, check=own_organisation("enterprise_id")),
    # the officer's queue and decision
    "amendments.queue": Rule("officer"),
    "amendments.decide": Rule("officer"),
}
