"""Contract evolution: what a changed contract does to the tables already written, additive or breaking.

A running source's contract may change only in ways that keep every row already in bronze and
silver valid and every key where it was: those take effect on the next run (a new nullable column
is added to the tables, old rows null). Anything that would need history rewritten is refused,
the last accepted version keeps running (``contracts/accepted.py``), and the reason is said in
words a contract's owner can act on. The classifier compares two validated contracts; it reads
and writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from lakehouse.contracts.model import SourceContract
from lakehouse.contracts.types import parse_type

# Integer widths, narrowest first: a move down the list narrows the type.
_WIDTHS = {"int32": 32, "int64": 64, "float32": 32, "float64": 64}


@dataclass(frozen=True)
class Evolution:
    """The differences between an accepted contract and its new version, sorted by kind."""

    additive: list[str] = field(default_factory=list)  # take effect, history untouched
    breaking: list[str] = field(default_factory=list)  # refused: the accepted version keeps running
    # A ``start`` moved earlier: the days the source's history gained, to bootstrap alone.
    earlier_days: tuple[date, date] | None = None

    @property
    def accepted(self) -> bool:
        return not self.breaking

    @property
    def changed(self) -> bool:
        return bool(self.additive or self.breaking)

    def describe(self) -> str:
        if self.breaking:
            return "breaking, refused: " + "; ".join(self.breaking)
        return "additive: " + "; ".join(self.additive) if self.additive else "no change"


def _narrows(old: str, new: str) -> bool:
    """Whether ``new`` holds fewer values than ``old`` (int64 -> int32, decimal(12,2) -> (10,2))."""
    if old in _WIDTHS and new in _WIDTHS and old[:3] == new[:3]:
        return _WIDTHS[new] < _WIDTHS[old]
    before, after = parse_type(old), parse_type(new)
    if before.precision is None or after.precision is None:
        return False
    return after.precision < before.precision or (after.scale or 0) < (before.scale or 0)


def _type_change(name: str, old: str, new: str) -> str:
    how = "narrowed" if _narrows(old, new) else "changed"
    return (
        f"column {name!r}: type {how} from {old} to {new} (rows already written keep {old}; "
        "add a new column instead)"
    )


def _column_changes(old: SourceContract, new: SourceContract, result: Evolution) -> None:
    before, after = old.column_map, new.column_map
    for name in before.keys() - after.keys():
        result.breaking.append(
            f"column {name!r} removed (bronze and silver hold it for every row already written)"
        )
    for column in new.columns:
        previous = before.get(column.name)
        if previous is None:
            if column.nullable:
                result.additive.append(f"new nullable column {column.name!r} (old rows null)")
            else:
                result.breaking.append(
                    f"new column {column.name!r} is nullable: false (old rows have no value); add it nullable"
                )
            continue
        if previous.type != column.type:
            result.breaking.append(_type_change(column.name, previous.type, column.type))
        if previous.nullable and not column.nullable:
            result.breaking.append(f"column {column.name!r} became nullable: false (old rows may be null)")
        elif not previous.nullable and column.nullable:
            result.additive.append(f"column {column.name!r} may now be null")
        if previous.pii != column.pii:
            result.breaking.append(
                f"column {column.name!r}: pii changed from {previous.pii} to {column.pii} (old rows "
                "would mix tokens and clear values)"
            )
        if previous.normalize != column.normalize or previous.description != column.description:
            result.additive.append(f"column {column.name!r}: normalize or description changed (new rows)")


def _identity_changes(old: SourceContract, new: SourceContract, result: Evolution) -> None:
    """What decides where a row lives: its key, its day, its table."""
    if old.primary_key != new.primary_key:
        result.breaking.append(
            f"primary_key changed from {old.primary_key} to {new.primary_key} (silver's keys and "
            "their history would not match)"
        )
    for label, before, after in (
        ("entity", old.entity_name, new.entity_name),
        ("silver.mode", old.silver.mode, new.silver.mode),
        ("silver.valid_from", old.silver.valid_from, new.silver.valid_from),
        ("silver.track", old.silver.track, new.silver.track),
        ("partitions.grain", old.partitions.grain, new.partitions.grain),
        ("partitions.event_time", old.partitions.event_time, new.partitions.event_time),
        ("partitions.timezone", old.partitions.timezone, new.partitions.timezone),
    ):
        if before != after:
            result.breaking.append(
                f"{label} changed from {before} to {after} (rows already written would sit in the "
                "wrong table, day or version)"
            )


def _calendar_changes(old: SourceContract, new: SourceContract, result: Evolution) -> Evolution:
    before, after = old.partitions, new.partitions
    earlier: tuple[date, date] | None = None
    if after.start > before.start:
        result.breaking.append(
            f"partitions.start moved later, from {before.start} to {after.start} (the days in between "
            "are already written)"
        )
    elif after.start < before.start:
        earlier = (after.start, before.start - timedelta(days=1))
        result.additive.append(
            f"partitions.start moved earlier to {after.start}: {earlier[0]}..{earlier[1]} to load"
        )
    if before.end != after.end:
        result.additive.append(f"partitions.end changed from {before.end} to {after.end}")
    if after.lookback_days != before.lookback_days:
        result.additive.append(f"lookback_days {before.lookback_days} -> {after.lookback_days}")
    return Evolution(result.additive, result.breaking, earlier)


def _rule_changes(old: SourceContract, new: SourceContract, result: Evolution) -> None:
    before = {r.check_id: r for r in old.quality}
    after = {r.check_id: r for r in new.quality}
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in after.keys() & before.keys() if after[k] != before[k])
    result.additive.extend(f"new quality rule {after[k].rule_id} (a new check)" for k in added)
    result.additive.extend(f"quality rule {before[k].rule_id} removed" for k in removed)
    result.additive.extend(f"quality rule {after[k].rule_id} changed" for k in changed)
    for section in ("freshness", "volume", "retention", "extract", "owner", "description"):
        if getattr(old, section) != getattr(new, section):
            result.additive.append(f"{section} changed")


def classify(old: SourceContract, new: SourceContract) -> Evolution:
    """Every difference from ``old`` (the accepted version) to ``new``, additive or breaking."""
    result = Evolution()
    _identity_changes(old, new, result)
    _column_changes(old, new, result)
    _rule_changes(old, new, result)
    return _calendar_changes(old, new, result)
