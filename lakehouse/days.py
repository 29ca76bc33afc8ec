"""Inclusive ranges of days, the unit every layer works in."""

from __future__ import annotations

from datetime import date, timedelta


def days_between(start: date, end: date) -> list[date]:
    """``start``, ``start + 1``, ..., ``end`` (empty when ``end`` is before ``start``)."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]
