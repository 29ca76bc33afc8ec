"""The contract sensor: the sources folder watched from the daemon, so adding or changing a source
is a YAML file and nothing else (issue 15).

Each tick (every ``contract_sensor_interval`` seconds, 30 at most):

1. Accept what may be accepted: a new source, or an additive change of an accepted contract, is
   copied beside the lake (``contracts/accepted.py``); a breaking change is refused, saying why,
   and the accepted version keeps running (the loader builds from it).
2. Reload when what a load would build now differs from what this code location was built from
   (new, changed or removed sources): the webserver's GraphQL ``reloadRepositoryLocation``. The
   next tick runs in the new code.
3. Bootstrap the sources the code location has but never loaded: ONE run per source over its
   range (``sensors/bootstrap.py``), tagged with the source and ``bootstrap``. The cursor
   records a source as loaded only once that run succeeded; a failed run is retried, up to
   ``MAX_ATTEMPTS`` times, under a new run key.
4. Report invalid files, refused changes and removed sources as the ``valid`` check of
   ``reports/contracts`` (when what is wrong changes), and in the tick.

Sources present at the sensor's first tick are the project's baseline, not new: they are loaded
by the demo or by a backfill, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from lakehouse.contracts.loader import ContractSet, LoadedContract
from lakehouse.settings import Settings

CONTRACTS_KEY = dg.AssetKey(["reports", "contracts"])
CHECK_NAME = "valid"
SENSOR_NAME = "contract_changes"
RELOAD_RETRY_SECONDS = 180  # a reload asked for and not seen by then is asked for again (one took 60 s here)


@dataclass
class Cursor:
    """What the sensor knows between ticks (JSON in the sensor's cursor)."""

    known: dict[str, str] = field(default_factory=dict)  # source -> version last seen loaded
    loaded_from: dict[str, str] = field(default_factory=dict)  # source -> first day bootstrapped, or "whole"
    removed: list[str] = field(default_factory=list)  # sources whose file went away (data kept)
    reported: str = ""  # digest of the problems last reported on reports/contracts
    reload_target: str = ""  # digest of the versions a reload was asked for
    reload_at: float = 0.0

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        return cls(**json.loads(text)) if text else None

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class Report:
    """What is wrong with the sources folder: rows of (file, field, problem), worst first."""

    errors: list[tuple[str, str, str]]
    warnings: list[tuple[str, str, str]]

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps([self.errors, self.warnings]).encode()).hexdigest()[:16]

    def evaluation(self) -> dg.AssetCheckEvaluation:
        from lakehouse.assets.metadata import markdown_table

        rows = [*self.errors, *self.warnings]
        metadata: dict[str, dg.RawMetadataValue] = {"problems": len(rows)}
        if rows:
            metadata["details"] = dg.MetadataValue.md(markdown_table(["file", "field", "problem"], rows))
        return dg.AssetCheckEvaluation(
            asset_key=CONTRACTS_KEY,
            check_name=CHECK_NAME,
            passed=not rows,
            severity=dg.AssetCheckSeverity.ERROR if self.errors else dg.AssetCheckSeverity.WARN,
            metadata=metadata,
        )


def current_contracts(settings: Settings) -> ContractSet:
    """What a load of the code location would build now (the same loader, the same isolation)."""
    from lakehouse.contracts.accepted import accepted_dir
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.resources.secrets import isolate_missing_secrets

    return isolate_missing_secrets(
        load_contracts(settings.sources_dir, accepted_dir(settings.lake_root)), os.environ
    )


def accept_changes(settings: Settings) -> list[str]:
    """Step 1: accept each valid file that is new or an additive change; say what was done."""
    from lakehouse.contracts.accepted import accept, accepted_dir
    from lakehouse.contracts.evolution import classify
    from lakehouse.contracts.loader import ContractError, contract_files, load_contract

    store = accepted_dir(settings.lake_root)
    if store is None:
        return []
    said = []
    for path in contract_files(settings.sources_dir):
        try:
            disk = load_contract(path)
        except ContractError:
            continue  # reported with the problems
        kept_path = store / f"{disk.contract.name}.yaml"
        try:
            kept: LoadedContract | None = load_contract(kept_path) if kept_path.is_file() else None
        except ContractError:
            kept = None
        if kept is not None and kept.version == disk.version:
            continue
        evolution = classify(kept.contract, disk.contract) if kept is not None else None
        if evolution is not None and not evolution.accepted:
            continue  # refused: the loader keeps the accepted version, the report says why
        accept(store, disk.contract.name, disk.version, path.read_bytes())
        what = "new source" if evolution is None else evolution.describe()
        said.append(f"accepted {path.name} (version {disk.version}): {what}")
    return said


def evolve_tables(settings: Settings, loaded: LoadedContract) -> list[str]:
    """A changed source's bronze and silver tables gain the contract's new nullable columns now,
    in one commit each that rewrites no file, so the change is visible before the next run."""
    from lakehouse.contracts.schema import bronze_schema, silver_schema
    from lakehouse.resources import PlatformResources
    from lakehouse.tables.delta import SchemaMismatchError, evolve_columns

    lake = PlatformResources.from_settings(settings).lake
    contract = loaded.contract
    said = []
    for layer, name, schema in (
        ("bronze", contract.name, bronze_schema(contract)),
        ("silver", contract.entity_name, silver_schema(contract)),
    ):
        metadata = {"contract_version": loaded.version, "reason": "additive contract change"}
        try:
            added = evolve_columns(lake.table(layer, name), schema, metadata)
        except SchemaMismatchError as error:
            said.append(f"{layer}/{name} not evolved: {error}")
            continue
        if added:
            said.append(f"{layer}/{name} gained column(s) {', '.join(added)} (old rows null)")
    return said


def problems(current: ContractSet, removed: list[str]) -> Report:
    errors = [
        (error.path.name, problem.location, problem.message)
        for error in current.errors
        for problem in error.problems
    ]
    warnings = [
        (refusal.path.name, "", "breaking change refused, the accepted version keeps running: " + reason)
        for refusal in current.refused
        for reason in refusal.reasons
    ]
    warnings += [
        (f"{name}.yaml", "", "source removed: its tables are kept, its assets and automation stopped")
        for name in removed
    ]
    return Report(errors, warnings)


def _versions(contracts: ContractSet) -> dict[str, str]:
    return {name: loaded.version for name, loaded in contracts.contracts.items()}


def _digest(versions: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(sorted(versions.items())).encode()).hexdigest()[:16]


def _differences(loaded: Mapping[str, str], target: Mapping[str, str]) -> str:
    parts = [
        f"new {', '.join(sorted(target.keys() - loaded.keys()))}" if target.keys() - loaded.keys() else ""
    ]
    changed = sorted(n for n in loaded.keys() & target.keys() if loaded[n] != target[n])
    parts.append(f"changed {', '.join(changed)}" if changed else "")
    gone = sorted(loaded.keys() - target.keys())
    parts.append(f"removed {', '.join(gone)}" if gone else "")
    return "; ".join(p for p in parts if p)


def evaluate(
    context: dg.SensorEvaluationContext, settings: Settings, loaded: ContractSet, now: datetime
) -> dg.SensorResult:
    """One tick (see the module's docstring)."""
    from lakehouse.sensors.reload import request_reload

    first_tick = context.cursor is None
    cursor = Cursor.parse(context.cursor) or Cursor(known=_versions(loaded))
    if first_tick:  # the baseline: what the project had before the sensor watched it
        cursor.loaded_from = {
            n: item.contract.partitions.start.isoformat() for n, item in loaded.contracts.items()
        }
    said = accept_changes(settings)
    current = current_contracts(settings)
    target, built = _versions(current), _versions(loaded)
    on_disk = {p.stem for p in Path(settings.sources_dir).glob("*.y*ml")}
    cursor.removed = sorted({*cursor.removed, *(cursor.known.keys() - target.keys())} - on_disk)
    report = problems(current, cursor.removed)
    events = [report.evaluation()] if first_tick or report.digest != cursor.reported else []
    cursor.reported = report.digest
    said += [
        f"{file}: {where + ': ' if where else ''}{what}"
        for file, where, what in report.errors + report.warnings
    ]

    if target != built:
        digest = _digest(target)
        location = context.code_location_origin.location_name if context.code_location_origin else None
        if location is None:
            said.append(
                "definitions are out of date, and this sensor runs outside a code location: reload by hand"
            )
        elif digest != cursor.reload_target or now.timestamp() - cursor.reload_at > RELOAD_RETRY_SECONDS:
            request_reload(settings.webserver_url, location)
            cursor.reload_target, cursor.reload_at = digest, now.timestamp()
            said.append(f"reloading code location {location} ({_differences(built, target)})")
        else:
            said.append(f"waiting for the reload of {location} ({_differences(built, target)})")
        return dg.SensorResult(skip_reason="; ".join(said), cursor=cursor.dump(), asset_events=events)

    # The code location is current: evolve what changed, bootstrap what it never loaded.
    for name in sorted(built):
        if name in cursor.known and cursor.known[name] != built[name]:
            said += evolve_tables(settings, loaded.contracts[name])
    cursor.known = dict(built)
    requests = bootstrap_requests(context, loaded, cursor, now, said)
    if requests:
        for line in said:
            context.log.info(line)
        return dg.SensorResult(run_requests=requests, cursor=cursor.dump(), asset_events=events)
    return dg.SensorResult(
        skip_reason="; ".join(said) or f"{len(built)} source(s) current",
        cursor=cursor.dump(),
        asset_events=events,
    )


def bootstrap_requests(
    context: dg.SensorEvaluationContext, loaded: ContractSet, cursor: Cursor, now: datetime, said: list[str]
) -> list[dg.RunRequest]:
    """Step 3: a run for each source with days never loaded, unless one runs or succeeded (then
    the cursor records the days as loaded); what happened is appended to ``said``."""
    from lakehouse.assets.naming import silver_key
    from lakehouse.sensors.bootstrap import MAX_ATTEMPTS, bootstrap_for, progress, run_request, selection

    graph = context.repository_def.asset_graph if context.repository_def else None
    ready = {
        silver_key(item.contract) for name, item in loaded.contracts.items() if name in cursor.loaded_from
    }
    requests = []
    for name, item in sorted(loaded.contracts.items()):
        needed = bootstrap_for(item.contract, cursor.loaded_from.get(name), now.date())
        if needed is None:
            if name not in cursor.loaded_from:  # no complete day yet: the daily runs will load them
                cursor.loaded_from[name] = item.contract.partitions.start.isoformat()
            continue
        state = progress(context.instance, needed)
        if state.succeeded:
            cursor.loaded_from[name] = needed.label.split("..")[0]
            said.append(f"bootstrap of {name} ({needed.label}) succeeded")
        elif state.running:
            said.append(f"bootstrap of {name} ({needed.label}) running: run {state.last_run_id}")
        elif state.failures >= MAX_ATTEMPTS:
            said.append(
                f"bootstrap of {name} ({needed.label}) failed {state.failures} times (last run "
                f"{state.last_run_id}): fix and launch it by hand"
            )
        else:
            keys = selection(graph, item.contract, ready) if graph is not None else []
            requests.append(run_request(needed, keys, state.failures))
            said.append(f"bootstrap of {name} ({needed.label}) requested")
    return requests


def contract_sensor(settings: Settings, loaded: ContractSet) -> dg.SensorDefinition:
    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=settings.contract_sensor_interval,
        default_status=dg.DefaultSensorStatus.RUNNING,
        asset_selection=dg.AssetSelection.all(),
        description="Watches the sources folder: accepts new sources and additive changes, refuses "
        "breaking ones (the accepted version keeps running), reloads the code location, bootstraps "
        "new sources in one run each, and reports invalid or removed contracts on reports/contracts.",
    )
    def contract_changes(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return evaluate(context, settings, loaded, datetime.now(UTC))

    return contract_changes
