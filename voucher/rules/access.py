"""Who may replay a drafted rule change over past decisions: the programme officer who drafts it, and
the auditor, who reads what a change would have done."""
from voucher.access import Rule

RULES = {
    "rules.replay": Rule("officer"),
    "rules.read_replay": Rule("officer", "auditor"),
}
