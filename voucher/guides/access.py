"""Who may edit a programme guide (everyone reads it)."""
from voucher.access import Rule

RULES = {
    "guides.edit": Rule("officer"),
}
