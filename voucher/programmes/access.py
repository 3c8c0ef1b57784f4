"""Who may read and set up programmes."""
from voucher.access import BUREAU, Rule

RULES = {
    "programmes.read": Rule(*BUREAU),
    "programmes.edit": Rule("officer"),
    "statistics.read": Rule(*BUREAU),
}
