"""Pulse: analytics for a credit-metered AI SaaS sold directly and through partners."""

__version__ = "0.1.0"
