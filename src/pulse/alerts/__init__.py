"""Alerts (SPEC §5, seed 001 "Alerting & Monitoring", seed 003 §8): rules declared as data,
evaluated on a schedule, each firing once per condition, with action items."""
