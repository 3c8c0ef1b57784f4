"""Who sees risk signals and who may dismiss one: the bureau reads (auditors only read); SMEs and
providers never see them."""
from voucher.access import BUREAU, Rule

RULES = {
    "risk.read": Rule(*BUREAU),
    "risk.dismiss": Rule("officer", "finance"),
}
