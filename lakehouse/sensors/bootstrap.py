"""A new source's first load: its bronze and silver, and the gold built only from ready sources,
from the contract's ``start`` to the last complete day, as ONE run over the range.

One run with the range tags (``lakehouse/runs.py``) rather than a backfill: the run's status is
the bootstrap's, which the contract sensor reads to advance its cursor only on success, and
assets with ``BackfillPolicy.single_run()`` would make a backfill one run anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.contracts.model import SourceContract
from lakehouse.runs import range_tags

BOOTSTRAP_TAG = "lakehouse/bootstrap"  # the source's name
RANGE_TAG = "lakehouse/bootstrap_range"  # "start..end", or "whole"
SOURCE_TAG = "lakehouse/source"
MAX_ATTEMPTS = 3  # failed runs of one bootstrap before the sensor stops asking (and says so)
WHOLE = "whole"

_FAILED = (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)


@dataclass(frozen=True)
class Bootstrap:
    """The days of one source to load in one run (``start`` None: a source refreshed whole)."""

    source: str
    start: date | None = None
    end: date | None = None

    @property
    def label(self) -> str:
        return WHOLE if self.start is None else f"{self.start}..{self.end}"

    @property
    def tags(self) -> dict[str, str]:
        tags = {BOOTSTRAP_TAG: self.source, RANGE_TAG: self.label, SOURCE_TAG: self.source}
        if self.start is not None and self.end is not None:
            tags.update(range_tags(self.start, self.end))
        return tags


def bootstrap_for(contract: SourceContract, loaded_from: str | None, today: date) -> Bootstrap | None:
    """What a source still needs: everything up to the last complete day when nothing was loaded
    (``loaded_from`` None), the days before ``loaded_from`` when ``start`` moved earlier, else None."""
    if not contract.partitions.partitioned:
        return Bootstrap(contract.name) if loaded_from is None else None
    latest = today - timedelta(days=1)
    if contract.partitions.end is not None:
        latest = min(latest, contract.partitions.end)
    if loaded_from is not None and loaded_from != WHOLE:
        latest = min(latest, date.fromisoformat(loaded_from) - timedelta(days=1))
    elif loaded_from is not None:
        return None
    if contract.partitions.start > latest:
        return None
    return Bootstrap(contract.name, contract.partitions.start, latest)


def selection(graph: object, contract: SourceContract, ready: set[dg.AssetKey]) -> list[dg.AssetKey]:
    """The source's bronze and silver, and every gold asset downstream of its silver whose silver
    inputs are all ready (loaded, or this source's)."""
    own = silver_key(contract)
    ready = {*ready, own}
    keys = [bronze_key(contract), own]
    for key in _descendants(graph, own):
        if key.path[0] == "gold" and all(k in ready for k in _ancestors(graph, key) if k.path[0] == "silver"):
            keys.append(key)
    return keys


def _walk(graph: object, start: dg.AssetKey, step: str) -> Iterable[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    todo = [start]
    while todo:
        node = graph.get(todo.pop())  # type: ignore[attr-defined]
        for key in getattr(node, step):
            if key not in seen and graph.has(key):  # type: ignore[attr-defined]
                seen.add(key)
                todo.append(key)
    return sorted(seen, key=lambda k: k.to_user_string())


def _descendants(graph: object, key: dg.AssetKey) -> Iterable[dg.AssetKey]:
    return _walk(graph, key, "child_keys")


def _ancestors(graph: object, key: dg.AssetKey) -> Iterable[dg.AssetKey]:
    return _walk(graph, key, "parent_keys")


@dataclass(frozen=True)
class Progress:
    succeeded: bool = False
    running: bool = False
    failures: int = 0
    last_run_id: str | None = None


def progress(instance: dg.DagsterInstance, bootstrap: Bootstrap) -> Progress:
    """Where this bootstrap's runs stand (newest first in the instance)."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(tags={BOOTSTRAP_TAG: bootstrap.source, RANGE_TAG: bootstrap.label})
    )
    if not runs:
        return Progress()
    return Progress(
        succeeded=any(r.status == dg.DagsterRunStatus.SUCCESS for r in runs),
        running=any(not r.is_finished for r in runs),
        failures=sum(r.status in _FAILED for r in runs),
        last_run_id=runs[0].run_id,
    )


def run_request(bootstrap: Bootstrap, keys: list[dg.AssetKey], attempt: int) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=f"bootstrap:{bootstrap.source}:{bootstrap.label}:{attempt}",
        asset_selection=keys,
        tags={**bootstrap.tags, "bootstrap": "true"},
    )
