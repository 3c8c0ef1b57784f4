"""The working-day calendar: the State Council's holiday arrangement for a year, entered by a
programme officer when the ``chinese-calendar`` package does not know the year yet (or to correct
it).  :mod:`voucher.workdays` counts with an entered year in preference to the package."""
