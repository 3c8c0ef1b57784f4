"""Trial-voucher applications: an SME asks the programme to pay for a trial of a listed solution."""
