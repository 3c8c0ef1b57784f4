"""Loan interest discounts and industrial-robot purchase subsidies."""
