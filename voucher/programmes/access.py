"""Who may read and set up programmes."""
from voucher.access import BUREAU, Rule

RULES = {
    "programmes.read": Rule(*BUREAU),
    "programmes.edit": Rule("officer"),
    "statistics.read": Rule(*BUREAU),
    # Rule versions: every bureau role reads which version a decision used; only a programme
    # officer drafts, replays, publishes or discards a change.
    "programmes.rule_versions": Rule(*BUREAU),
    "programmes.draft_rules": Rule("officer"),
}
