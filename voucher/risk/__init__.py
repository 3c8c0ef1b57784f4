"""Risk signals (风险提示): patterns worth a second look, shown to officers and finance, never refusing."""
