"""No API yet: the benefits are served as pages only (issue 19 §1–2).  Kept so the domain has the
house's shape; an API would describe a candidate here (amount, working, evidence)."""
