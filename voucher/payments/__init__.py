"""Disbursements with maker-checker approval, payment batches, the public notice of grants, and the
payment documents (payment orders, audit dossiers, programme reports, bank files)."""
