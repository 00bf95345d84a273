"""Scheduled reports (SPEC §5): daily, weekly, monthly and quarterly summaries and the
per-experience daily report, as HTML e-mail and Slack-compatible webhook JSON."""
