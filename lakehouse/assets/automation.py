"""When assets run on their own: declarative automation conditions, per layer.

Days are complete at midnight UTC (the calendar is UTC), so the daily cron
(``Settings.automation_cron``, ``LAKEHOUSE_AUTOMATION_CRON``, default ``0 0 * * *``) ticks then.
What each layer waits for:

- **bronze and silver of a file source**: nothing here. Its files start them: the landing
  sensor (``sensors/landing.py``) runs the days they hold, bronze then silver in one run, once
  their arrival day is complete.
- **bronze of a live source** (PostgreSQL, HTTP) or of a table refreshed whole: the newest day
  once the cron has ticked, within the source's history; it extracts in its own step.
- **silver**: its newest day after a run that updated bronze without it (a live source's daily
  bronze, a bronze run started by hand; in the same run when both are requested on one tick,
  where a blocking check failing keeps silver from running), nothing upstream in progress.
- **gold**: its newest day after a silver input updated it, once every daily source feeding it
  has that day in silver with no blocking check of its bronze or silver failed on it (a day
  bronze wrote but whose check failed never reaches silver, so never gold), nothing upstream
  in progress. A source whose contract says ``freshness.stale_ok_days: N`` (a dimension) may
  lag up to N days: gold then proceeds on its newest day and records the staleness
  (``gold/staleness.py``).

Two conditions are the platform's own (``InHistory``, ``SourcesCurrent``): they need the contracts,
so the automation sensor evaluates them on the code server (``use_user_code_server``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg

from lakehouse.assets.naming import bronze_key, silver_key
from lakehouse.contracts.model import SourceContract
from lakehouse.gold.staleness import Feed, source_feeds


class InHistory(dg.AutomationCondition):
    """The partitions within a source's history (``partitions.start`` .. ``partitions.end``): the
    calendar is shared, so it has days before a source starts and after it ends."""

    def __init__(self, source: str, first: date, last: date | None):
        self.source, self.first, self.last = source, first, last

    @property
    def name(self) -> str:
        return "in_source_history"

    @property
    def description(self) -> str:
        return f"Day within {self.source}'s history ({self.first}..{self.last or 'open'})"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        candidates = context.candidate_subset
        if not candidates.is_partitioned:
            return dg.AutomationResult(context, true_subset=candidates)
        keys = {
            key
            for key in candidates.expensively_compute_partition_keys()
            if self.first.isoformat() <= key and (self.last is None or key <= self.last.isoformat())
        }
        return dg.AutomationResult(
            context, true_subset=candidates.compute_intersection_with_partition_keys(keys)
        )


class SourcesCurrent(dg.AutomationCondition):
    """The days for which every daily source feeding the asset has its day taken in by silver,
    or lags no more than its contract's ``freshness.stale_ok_days`` (``gold/staleness.py``). For a
    table refreshed whole, the day is the newest complete one."""

    def __init__(self, feeds: Mapping[str, Feed]):
        self.feeds = dict(feeds)

    @property
    def name(self) -> str:
        return "sources_current"

    @property
    def description(self) -> str:
        allowed = ", ".join(
            f"{n} may lag {f.stale_ok_days}d" for n, f in sorted(self.feeds.items()) if f.stale_ok_days
        )
        return "Every source feeding it has its day" + (f" ({allowed})" if allowed else "")

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:
        from lakehouse.gold.staleness import feeding, lag, within_allowance

        candidates = context.candidate_subset
        graph, instance = context.asset_graph, context.asset_graph_view.instance
        inputs = feeding(self.feeds, graph.get(context.key).parent_keys)
        blocking = {
            name: [
                check
                for check in graph.get_check_keys_for_assets({feed.bronze, feed.silver})
                if graph.get(check).blocking
            ]
            for name, feed in inputs.items()
        }

        def current(day: date) -> bool:
            return within_allowance(lag(instance, inputs, day, blocking), inputs)

        if not candidates.is_partitioned:
            today = current(context.evaluation_time.date() - timedelta(days=1))
            return dg.AutomationResult(
                context, true_subset=candidates if today else context.get_empty_subset()
            )
        keys = {
            key for key in candidates.expensively_compute_partition_keys() if current(date.fromisoformat(key))
        }
        return dg.AutomationResult(
            context, true_subset=candidates.compute_intersection_with_partition_keys(keys)
        )


def in_history(contract: SourceContract) -> dg.AutomationCondition:
    return InHistory(contract.name, contract.partitions.start, contract.partitions.end)


def on_day_complete(contract: SourceContract, cron: str) -> dg.AutomationCondition:
    """Bronze of a live source or of a table refreshed whole: its newest day, once per cron tick."""
    ticked: Any = dg.AutomationCondition.cron_tick_passed(cron)  # typed per entity kind: any here
    return (
        dg.AutomationCondition.in_latest_time_window()
        & in_history(contract)
        & ticked.since_last_handled()
        & ~dg.AutomationCondition.in_progress()
    ).with_label(f"day_complete({cron})")


def after_bronze(contract: SourceContract) -> dg.AutomationCondition:
    """Silver: its newest day, when bronze updated it (not in a run that also updated silver:
    there, a failed blocking check of bronze already kept silver from running) and nothing
    upstream is still running."""
    return (
        dg.AutomationCondition.in_latest_time_window()
        & in_history(contract)
        & dg.AutomationCondition.any_deps_updated().since_last_handled()
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("after_bronze")


def gold_follows(contracts: Sequence[SourceContract]) -> dg.AutomationCondition:
    """Gold: its newest day, after a silver input updated it, once every source feeding it has
    that day, its blocking checks passing (or lags within its allowance).

    Not ``all_deps_blocking_checks_passed()``: it never held here. The dbt source tests on
    silver are checks of silver run by the gold step itself (so they cannot pass before gold
    runs), and the per-day evaluations of the partitioned checks are judged per day by
    ``SourcesCurrent`` instead."""
    return (
        dg.AutomationCondition.in_latest_time_window()
        & dg.AutomationCondition.any_deps_updated().since_last_handled()
        & SourcesCurrent(source_feeds(contracts))
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("gold_follows")


def automate(defs: dg.Definitions, contracts: Sequence[SourceContract], cron: str) -> dg.Definitions:
    """The same definitions with each layer's condition on its assets' specs."""
    try:
        dg.AutomationCondition.cron_tick_passed(cron)
    except Exception:  # Dagster's own check error: one line naming the setting instead
        raise ValueError(
            f"LAKEHOUSE_AUTOMATION_CRON={cron!r} is not a cron schedule (e.g. '0 0 * * *')"
        ) from None
    bronze = {bronze_key(c): c for c in contracts}
    silver = {silver_key(c): c for c in contracts}
    gold = gold_follows(contracts)

    def condition(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key in bronze:
            contract = bronze[spec.key]
            if contract.extract.kind == "files" and contract.partitions.partitioned:
                return spec  # its files start it (the landing sensor)
            return spec.replace_attributes(automation_condition=on_day_complete(contract, cron))
        if spec.key in silver:
            return spec.replace_attributes(automation_condition=after_bronze(silver[spec.key]))
        if spec.group_name == "gold":
            return spec.replace_attributes(automation_condition=gold)
        return spec

    return defs.map_asset_specs(func=condition)


def automation_sensor(interval_seconds: int) -> dg.AutomationConditionSensorDefinition:
    """On by default; evaluated on the code server because of the platform's own conditions."""
    return dg.AutomationConditionSensorDefinition(
        "lakehouse_automation",
        target=dg.AssetSelection.all(),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=interval_seconds,
        use_user_code_server=True,
        description="Runs each day's silver and gold (and live sources' bronze) once the day is "
        "complete, gold after its inputs (lakehouse/assets/automation.py).",
    )


def automation_definitions(
    contracts: Sequence[SourceContract], calendar: dg.TimeWindowPartitionsDefinition, interval_seconds: int
) -> dg.Definitions:
    """The two sensors that start runs by themselves: landing files, and the conditions above."""
    from lakehouse.sensors.landing import landing_sensor

    sensors: list[dg.SensorDefinition] = [automation_sensor(interval_seconds)]
    if any(c.extract.kind == "files" and c.partitions.partitioned for c in contracts):
        sensors.append(landing_sensor(contracts, calendar, interval_seconds))
    return dg.Definitions(sensors=sensors)
