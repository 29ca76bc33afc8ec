"""Which PII key each day of a table was tokenised with, and refusing a run with another key.

Tokens are HMACs: made with another key they are other strings, so after a key change orders no
longer join their customers (0 % of a day's orders matched, against 100 % before, when this was
unchecked). Every write records the key's fingerprint (``pii.key_fingerprint``, never the key)
in its Delta commit metadata, beside the days it covered. Before a load, bronze compares: a run
whose key differs from the one the tables were written with stops and names the tables and days
written under the old key. Changing the key is a deliberate act, ``lakehouse pii rotate``, whose
run carries ``ROTATION_TAG`` and must rewrite every one of those days from its landing files.

Tables written before fingerprints were recorded have none: their key cannot be known, and the
first write records the current one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from lakehouse.tables.history import commits, latest_with
from lakehouse.tables.location import TableLocation
from lakehouse.tables.stats import rows_per_day

FINGERPRINT = "pii_key_fingerprint"  # commit metadata key
ROTATION_TAG = "lakehouse/pii_key_rotation"  # run tag: the fingerprint a rotation run installs


class PiiKeyChangedError(RuntimeError):
    """The run's PII key is not the one the source's tables were tokenised with."""


def days_by_fingerprint(location: TableLocation) -> dict[date, str]:
    """The fingerprint of the write that last covered each day (oldest write first, later ones win)."""
    covered: dict[date, str] = {}
    for commit in reversed(list(commits(location))):
        fingerprint = commit.get(FINGERPRINT)
        if fingerprint:
            covered.update(dict.fromkeys(commit.days, fingerprint))
    return covered


def day_ranges(days: Iterable[date]) -> str:
    """``2026-01-01..2026-01-03, 2026-01-07``: consecutive days folded into ranges."""
    ordered = sorted(set(days))
    if not ordered:
        return "none"
    spans: list[tuple[date, date]] = []
    for day in ordered:
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return ", ".join(str(a) if a == b else f"{a}..{b}" for a, b in spans)


Tables = Mapping[str, tuple[TableLocation, str]]  # display name -> (table, its day column)


def old_key_days(tables: Tables, fingerprint: str) -> dict[str, list[date]]:
    """Per table (by display name): the days holding rows tokenised with another key (a day a
    write covered but left empty holds no token)."""
    found = {}
    for name, (location, day_column) in tables.items():
        # The cheap test first: when the newest write used this key, every day did. A run with a
        # new key is refused while any day has the old one, and a rotation rewrites them all.
        newest = latest_with(location, FINGERPRINT)
        if newest is None or newest.get(FINGERPRINT) == fingerprint:
            continue
        held = rows_per_day(location, day_column)
        days = sorted(d for d, f in days_by_fingerprint(location).items() if f != fingerprint and held.get(d))
        if days:
            found[name] = days
    return found


def check_key(
    source: str,
    tables: Tables,
    fingerprint: str,
    *,
    rotating_to: str | None,
    rewritten: tuple[date, date],
) -> PiiKeyChangedError | None:
    """The error to stop the run with, or None. A rotation run (``rotating_to`` equal to the
    current fingerprint) may rewrite old-key days; every old-key day it does not rewrite still
    stops it, since those tokens would never join the new ones."""
    old = old_key_days(tables, fingerprint)
    if not old:
        return None
    first, last = rewritten
    if rotating_to == fingerprint:
        old = {name: [d for d in days if not first <= d <= last] for name, days in old.items()}
        old = {name: days for name, days in old.items() if days}
        if not old:
            return None
        listing = "; ".join(f"{name}: {day_ranges(days)}" for name, days in old.items())
        return PiiKeyChangedError(
            f"{source}: this key rotation rewrites {first}..{last}, but days outside it were tokenised "
            f"with the old key ({listing}); rotate over a range that covers them all"
        )
    listing = "; ".join(f"{name}: {day_ranges(days)}" for name, days in old.items())
    return PiiKeyChangedError(
        f"{source}: LAKEHOUSE_PII_KEY is not the key these tables were tokenised with (key fingerprint now "
        f"{fingerprint}); days written under the old key: {listing}. Tokens made with two keys never join: "
        "set the old key back, or change it deliberately with `lakehouse pii rotate --start ... --end ...`, "
        "which re-tokenises those days from their landing files"
    )
