"""The public progress look-up: an application's stage by its number (受理编号) and its USCC."""
