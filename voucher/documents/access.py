"""Who may see and run document jobs (each kind of document says its own roles in its builder)."""
from voucher.access import BUREAU, Rule

RULES = {
    "documents.jobs": Rule("finance", "admin", "officer", "auditor"),
    "documents.read_any_job": Rule(*BUREAU, "admin"),
    "documents.retry_job": Rule("finance", "admin"),
}
