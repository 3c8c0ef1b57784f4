"""Amendments to an approved grant (变更申请, issue 18 §4)."""
