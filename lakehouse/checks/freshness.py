"""Freshness: each source's latest day must be in bronze within ``freshness.max_lag`` of its end.

Dagster's own machinery fits here, with a choice between two APIs:

- ``FreshnessPolicy`` (asset-level, evaluated by the freshness daemon) tracks when an asset was
  last materialised, not which partitions exist: backfilling an old day makes a stale source look
  fresh. Not used.
- ``build_time_partition_freshness_checks`` is partition-aware (the most recent day must have been
  materialised once its deadline has passed) and produces real asset checks, which
  ``build_sensor_for_freshness_checks`` evaluates on a sensor (``sensors/freshness.py``) without
  anyone materialising. Used.

A contract's ``max_lag`` becomes the deadline: a daily cron, in the source's timezone, at how long
after a day ends its partition may still be missing. The contract refuses lags whose deadline
would not name the day just ended (``contracts.model.max_lag_range``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import dagster as dg

from lakehouse.assets.naming import bronze_key
from lakehouse.contracts.model import SourceContract
from lakehouse.sensors.freshness import freshness_sensor


def deadline_cron(contract: SourceContract) -> str:
    """``max_lag`` 6h → ``0 6 * * *``: at 06:00 every day, yesterday's partition must exist.

    A zone east of UTC allows lags of a day or more (``max_lag_range``): 26h ticks at 02:00, two
    days after the day began, which Dagster maps to the right day because the calendar is UTC.
    """
    minutes = int(contract.freshness.max_lag_delta.total_seconds() // 60)
    return f"{minutes % 60} {minutes // 60 % 24} * * *"


def freshness_checks(contracts: Sequence[SourceContract]) -> list[dg.AssetChecksDefinition]:
    """One check per source's bronze asset; sources sharing a deadline share a definition.

    A source with ``freshness.enabled: false``, or a finished one (``partitions.end``), has
    none: its latest day will never come, and a check that fails forever says nothing."""
    by_deadline: dict[tuple[str, str], list[dg.AssetKey]] = defaultdict(list)
    for contract in contracts:
        if not contract.freshness_checked:
            continue
        by_deadline[deadline_cron(contract), contract.partitions.timezone].append(bronze_key(contract))
    checks: list[dg.AssetChecksDefinition] = []
    for (cron, timezone), keys in sorted(by_deadline.items()):
        checks += dg.build_time_partition_freshness_checks(
            assets=keys, deadline_cron=cron, timezone=timezone, severity=dg.AssetCheckSeverity.ERROR
        )
    return checks


def freshness_definitions(contracts: Sequence[SourceContract]) -> dg.Definitions:
    """The freshness checks and the sensor that evaluates them."""
    checks = freshness_checks(contracts)
    return dg.Definitions(asset_checks=checks, sensors=[freshness_sensor(checks)] if checks else [])
