"""Who may record breaches, read recovery orders and record repayments (registered by ``voucher.access``)."""
from voucher.access import BUREAU, Rule, own_organisation

RULES = {
    # the programme officer records a breach (makes the order) and cancels an open order
    "recovery.record": Rule("officer"),
    # the bureau's list of every order
    "recovery.list": Rule(*BUREAU),
    # the debtor's own users (the enterprise or provider that was paid) and the bureau read an order
    "recovery.read": Rule("sme", "provider", *BUREAU, check=own_organisation("debtor_id")),
    # finance records a repayment from the bank statement
    "recovery.settle": Rule("finance"),
}
