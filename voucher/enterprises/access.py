"""Who may read and change enterprise and provider profiles."""
from voucher.access import BUREAU, Rule, own_organisation

RULES = {
    "enterprises.index": Rule(*BUREAU),
    # bureau roles read every enterprise; an SME user only its own
    "enterprises.read": Rule("sme", *BUREAU, check=own_organisation("id")),
    "enterprises.own_profile": Rule("sme"),
    "enterprises.provider_profile": Rule("provider"),
}
