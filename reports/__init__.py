"""Managers' reports: fix times, SLA compliance, first-time fix, repeat faults, follow-ups and
complaint clocks over a date range, grouped by one dimension, computed in the database.

``figures`` holds the figures, ``orders`` the orders behind any of them (the drill-down),
``export`` the CSV and XLSX files; ``sql`` the few expressions that differ by dialect.
"""
