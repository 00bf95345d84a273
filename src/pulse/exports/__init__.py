"""Exports (SPEC §5): CSV of any catalog table and of seed 001's five named exports, Excel with
typed columns, a PDF snapshot, and a PDF of a whole dashboard page (`page.py`). Every export is
written to the audit log by its caller."""
