"""The sensor that evaluates the sources' freshness checks (``checks/freshness.py``) without
anyone materialising: a day that misses its deadline fails its check on the next tick."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

SENSOR_INTERVAL_SECONDS = 300


def freshness_sensor(checks: Sequence[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    return dg.build_sensor_for_freshness_checks(
        freshness_checks=checks,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        name="source_freshness",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
