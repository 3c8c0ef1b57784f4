"""Who may do what with trial-voucher applications (registered by ``voucher.access.configure_access``)."""
from voucher.access import BUREAU, Rule, own_organisation

RULES = {
    # the enterprise's own users and the bureau read an application and its files
    "applications.read": Rule("sme", *BUREAU, check=own_organisation("enterprise_id")),
    # only the enterprise's own SME users file, change, submit or withdraw it
    "applications.file": Rule("sme", check=own_organisation("enterprise_id")),
    "applications.review_queue": Rule("officer", "auditor"),
    "applications.decide": Rule("officer"),
    # the bureau's view of an application: its history with names, the enterprise's full profile
    "applications.bureau_view": Rule(*BUREAU),
}
