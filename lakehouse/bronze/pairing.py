"""Bronze and quarantine of one ingest are a pair: both of a run's commits, or neither.

An ingest commits twice, bronze then quarantine (two Delta tables cannot share a transaction).
If the second commit fails (a conflict, a full disk, an unwritable location), bronze is restored
at once to the version before the first. If the process dies between the two (a kill, a lost
node), nothing can undo it then, so the next run does: both commits carry the same write id in
their metadata, and a bronze whose newest write has no quarantine half is restored to the version
before that write before anything is planned. Either way the tables end as they were before the
interrupted run, which its rerun then writes again, whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from lakehouse.tables.history import WRITE_ID, latest_with
from lakehouse.tables.location import TableLocation


class PairMismatchError(RuntimeError):
    """Bronze holds a write whose quarantine half is missing, and it cannot be undone safely."""


@dataclass(frozen=True)
class Unpaired:
    """Bronze's newest write has no quarantine commit: the run was interrupted between them."""

    write_id: str
    version: int  # bronze's version of that write
    run_id: str | None
    days: str | None  # "first..last"
    quarantine_write_id: str  # quarantine's newest write id ("" when it has none)

    def describe(self, name: str) -> str:
        return (
            f"bronze/{name} version {self.version} (run {self.run_id or '?'}, days {self.days or '?'}) "
            f"has no matching quarantine/{name} commit: that run was interrupted between its two commits"
        )


def _write_id(location: TableLocation) -> tuple[str, int | None, dict]:
    commit = latest_with(location, WRITE_ID)
    if commit is None:
        return "", None, {}
    return commit.get(WRITE_ID) or "", commit.version, commit.metadata


def unpaired_write(bronze: TableLocation, quarantine: TableLocation) -> Unpaired | None:
    """Bronze's newest write when quarantine has no commit of the same write; else None."""
    bronze_id, version, metadata = _write_id(bronze)
    if not bronze_id or version is None:
        return None  # nothing written under the pairing scheme (or only restores to nothing)
    quarantine_id, _, _ = _write_id(quarantine)
    if bronze_id == quarantine_id:
        return None
    return Unpaired(
        write_id=bronze_id,
        version=version,
        run_id=metadata.get("dagster_run_id"),
        days=metadata.get("partitions"),
        quarantine_write_id=quarantine_id,
    )


def restore_bronze(bronze: TableLocation, to_version: int, quarantine_write_id: str, reason: str) -> None:
    """Restore bronze to ``to_version``, the state paired with quarantine's newest write."""
    from lakehouse.tables.delta import commit_properties

    table = bronze.open()
    if table is None:
        raise PairMismatchError(f"{bronze.uri}: no table to restore")
    table.restore(
        to_version,
        commit_properties=commit_properties({WRITE_ID: quarantine_write_id, "restored_because": reason}),
    )


def repair_unpaired(bronze: TableLocation, quarantine: TableLocation, name: str) -> str | None:
    """Undo bronze's unpaired write, if there is one; say what was done (None: nothing to do).

    Only the newest bronze version can be undone this way: if something committed to bronze
    after the unpaired write, restoring would discard it too, so that is refused for a person to
    look at (``PairMismatchError``).
    """
    unpaired = unpaired_write(bronze, quarantine)
    if unpaired is None:
        return None
    table = bronze.open()
    assert table is not None
    if table.version() != unpaired.version or unpaired.version == 0:
        raise PairMismatchError(
            unpaired.describe(name) + f", and bronze has changed since (now version {table.version()}); "
            "restore both tables to a matching pair by hand (DeltaTable.restore) before loading again"
        )
    restore_bronze(bronze, unpaired.version - 1, unpaired.quarantine_write_id, "unpaired write")
    return unpaired.describe(name) + f"; bronze/{name} was restored to version {unpaired.version - 1}"
