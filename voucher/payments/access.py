"""Who may do what with payments: the queue, disbursements, batches, notices, reports."""
from voucher.access import BUREAU, PAYEES, Rule


def _own_payee(actor, disbursement) -> bool:
    if actor.role in BUREAU:
        return True
    return actor.organisation_id is not None and actor.organisation_id == disbursement.payee_id


RULES = {
    "payments.read": Rule(*BUREAU),
    # bureau roles see every disbursement; a payee's own users (provider or enterprise) theirs
    "payments.see_disbursement": Rule(*BUREAU, *PAYEES, check=_own_payee),
    "payments.received": Rule(*PAYEES),
    "payments.handle": Rule("finance"),  # prepare, approve, edit bank details, batches, results
    # import the bank's statement, decide its conflicts, read the reconciliation report (对账)
    "payments.reconcile": Rule("finance"),
    "payments.notices": Rule("officer"),  # publish notices, resolve objections
}
