"""Digital-maturity self-assessment (数字化水平自评): issue 20 §1."""
