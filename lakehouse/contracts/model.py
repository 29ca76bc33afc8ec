"""The source contract: one YAML file per source, validated into these pydantic models.

Everything the platform builds for a source (partitions, bronze and silver assets, schemas,
quality flags, checks) is derived from a ``SourceContract``. Models forbid unknown keys so that a
typo is an error naming the field rather than a silently ignored setting.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lakehouse.contracts.expectations import EXPECTATIONS, RULE_KEYS, check_arguments
from lakehouse.contracts.extracts import HttpExtract, PostgresExtract, default_landing_path
from lakehouse.contracts.types import ColumnType, parse_type

IDENTIFIER = r"^[a-z][a-z0-9_]*$"

# ``partitions.event_time: _arrival_date``: a row's day is the arrival day of its file (the
# ``{date}`` of its path), for sources such as full daily snapshots that carry no time column.
ARRIVAL_DATE = "_arrival_date"

# Columns the platform adds; a contract may not declare them.
RESERVED_COLUMNS = frozenset({"dq_valid", "dq_flags", "valid_from", "valid_to", "is_current"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    name: Annotated[str, Field(pattern=IDENTIFIER, max_length=63)]
    type: str
    nullable: bool = True
    # Personal data, and how little of it is kept: ``tokenize`` replaces it by its keyed token (the
    # mapping back is in the encrypted token vault, for entitled users and erasure), ``hash`` by a
    # one-way keyed hash with no mapping anywhere, ``drop`` keeps nothing of it (not in bronze,
    # quarantine, rescued data, nor the row hash's input).
    pii: Literal["tokenize", "hash", "drop"] | None = None
    description: str | None = None
    # Silver normalisation of string values (bronze stays source-faithful).
    normalize: list[Literal["trim", "lower", "upper"]] = Field(default_factory=list)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return parse_type(value).name

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_COLUMNS:
            raise ValueError(f"{value!r} is a column the platform adds; choose another name")
        return value

    @model_validator(mode="after")
    def _pii_is_string(self) -> Column:
        if self.pii and self.type != "string":
            raise ValueError(f"pii: {self.pii} needs type string (tokens are strings), got {self.type}")
        if self.normalize and self.type != "string":
            raise ValueError(f"normalize applies to string columns, got {self.type}")
        return self

    @property
    def column_type(self) -> ColumnType:
        return parse_type(self.type)


class CsvOptions(_Strict):
    delimiter: Annotated[str, Field(min_length=1, max_length=1)] = ","
    quote: Annotated[str, Field(max_length=1)] = '"'
    escape: Annotated[str, Field(max_length=1)] = '"'
    header: bool = True
    null_values: list[str] = Field(default_factory=lambda: [""])


class FilesExtract(_Strict):
    """Files dropped in the landing zone, one folder or name per arrival day."""

    kind: Literal["files"]
    # Relative to the landing root; ``{date}`` is the arrival day (YYYY-MM-DD), e.g.
    # ``orders/{date}/*.csv``. Listing one day's folder keeps a partition's cost independent of
    # how much history the landing zone holds.
    path: str
    format: Literal["csv", "jsonl", "parquet"]
    options: CsvOptions = Field(default_factory=CsvOptions)
    # A day without files (or with header-only files) is normal for this source (a sparse fact
    # source: no orders on a holiday). Loads such a day as empty instead of tripping the circuit
    # breaker, and the volume check does not judge empty days. Without it, a run can still accept
    # one with the run config ``allow_empty_days``.
    allow_empty_days: bool = False
    # Another contract reads the same landing path on purpose (two views of one export). Without
    # it, two contracts whose paths can match the same files are refused at load.
    shared_path: bool = False

    @field_validator("path")
    @classmethod
    def _has_date(cls, value: str) -> str:
        if value.count("{date}") > 1:  # exactly once for daily sources: SourceContract checks
            raise ValueError("must contain '{date}' exactly once (the arrival day of the files)")
        if value.startswith("/") or "://" in value or ".." in value.split("/"):
            raise ValueError("must be relative to the landing root (no leading '/', '..' or scheme)")
        return value

    @model_validator(mode="after")
    def _options_fit_the_format(self) -> FilesExtract:
        if "options" in self.model_fields_set and self.format != "csv":
            raise ValueError(f"options are CSV dialect settings; format {self.format} takes none")
        return self


Extract = Annotated[FilesExtract | PostgresExtract | HttpExtract, Field(discriminator="kind")]


# The ``start`` of an unpartitioned source (``grain: none``): it has no days, so none is outside
# its history; the calendar ignores it.
UNPARTITIONED_START = date(1970, 1, 1)
_DAILY_ONLY = ("start", "end", "event_time", "lookback_days")


class Partitions(_Strict):
    # day: daily partitions on the lakehouse calendar. none: a table refreshed whole (a small
    # reference table with no useful days): each load replaces bronze and silver with the files
    # the path matches now, and the assets are unpartitioned (gold's daily models can join them).
    grain: Literal["day", "none"] = "day"
    start: date
    # The last day the source delivers (a finished or historical dataset). Days after it are
    # outside the source's history like days before ``start``; it has no freshness deadline.
    end: date | None = None
    # A timestamp or date column, or ``_arrival_date``: the day is the file's arrival day.
    event_time: str
    timezone: str = "UTC"
    # How many days late a row may arrive and still land in its own day; silver re-merges that
    # many previous days on every run so late rows reach it. Rows dated by arrival are never late:
    # 0, the default then.
    lookback_days: Annotated[int, Field(ge=0, le=90)] = 2

    @model_validator(mode="before")
    @classmethod
    def _arrival_lookback(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if data.get("grain") == "none":
            given = [name for name in _DAILY_ONLY if name in data]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: a source refreshed whole (grain: none) has no days; remove them"
                )
            # Rows are dated by their file's delivery day (kept in _arrival_date), never judged by it.
            return {**data, "start": UNPARTITIONED_START, "event_time": ARRIVAL_DATE, "lookback_days": 0}
        if data.get("event_time") == ARRIVAL_DATE and "lookback_days" not in data:
            return {**data, "lookback_days": 0}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Partitions:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.by_arrival and self.lookback_days:
            raise ValueError(
                f"lookback_days must be 0 with event_time {ARRIVAL_DATE}: a row's day is its file's "
                f"arrival day, so no row is ever late (got {self.lookback_days})"
            )
        return self

    @property
    def by_arrival(self) -> bool:
        return self.event_time == ARRIVAL_DATE

    @property
    def partitioned(self) -> bool:
        return self.grain == "day"

    def in_history(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown timezone {value!r} (use an IANA name such as 'UTC' or 'Europe/Madrid')"
            ) from None
        return value


class Silver(_Strict):
    mode: Literal["merge", "scd2", "append"] = "merge"
    # scd2: the timestamp column at which a version starts (default: the event time).
    valid_from: str | None = None
    # scd2: the columns whose change opens a new version (default: every non-key column except
    # the event time and valid_from columns).
    track: list[str] | None = None


class QualityRule(BaseModel):
    """A great-expectations expectation by name, its arguments, and how hard a failure is."""

    model_config = ConfigDict(extra="allow", frozen=True)

    expect: str
    column: str | None = None
    severity: Literal["error", "warn"] = "error"
    name: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_.:()-]+$")] = None
    description: str | None = None
    max_flagged_pct: Annotated[float | None, Field(ge=0, le=100)] = None

    @property
    def arguments(self) -> dict[str, Any]:
        return {k: v for k, v in (self.model_extra or {}).items() if k not in RULE_KEYS}

    @property
    def rule_id(self) -> str:
        return self.name or (f"{self.expect}({self.column})" if self.column else self.expect)

    @property
    def check_id(self) -> str:
        """The id as Dagster check names allow it: everything but letters, digits and _ folded."""
        return re.sub(r"[^A-Za-z0-9_]+", "_", self.rule_id).strip("_")

    @model_validator(mode="after")
    def _known_expectation(self) -> QualityRule:
        spec = EXPECTATIONS.get(self.expect)
        if spec is None:
            raise ValueError(
                f"unknown expectation {self.expect!r}; supported: {', '.join(sorted(EXPECTATIONS))}"
            )
        if spec.needs_column and not self.column:
            raise ValueError(f"{self.expect} needs 'column'")
        if not spec.needs_column and self.column:
            raise ValueError(f"{self.expect} is a table-level expectation and takes no 'column'")
        problems = check_arguments(spec, self.arguments)
        if problems:
            raise ValueError(f"{self.expect}: " + "; ".join(problems))
        return self


_DURATION = re.compile(r"^(\d+)\s*([mhd])$")


def parse_duration(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"expected a duration like '30m', '6h' or '2d', got {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    return timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})


def _duration_text(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


class Freshness(_Strict):
    # false: no freshness check (a source that delivers when it delivers). A source with
    # ``partitions.end`` has none either: it delivers no more days.
    enabled: bool = True
    # How long after a day ends (in the source's timezone) its data may still be missing from
    # bronze. Its range depends on the timezone: see ``max_lag_range``.
    max_lag: str = "12h"
    # Graceful degradation: how many days this source's newest day may lag behind the day gold is
    # built for. 0 (the default): gold waits for this source's day. A dimension that changes
    # slowly may say 1 ("yesterday's customers will do"): gold then proceeds without it and
    # records the staleness on the run (tag) and its materialisations (metadata).
    stale_ok_days: int = Field(default=0, ge=0, le=7)

    @field_validator("max_lag")
    @classmethod
    def _duration(cls, value: str) -> str:
        if parse_duration(value) < timedelta(minutes=1):
            raise ValueError(f"must be at least 1m, got {value!r}")
        return value

    @property
    def max_lag_delta(self) -> timedelta:
        return parse_duration(self.max_lag)


def max_lag_range(timezone: str) -> tuple[timedelta, timedelta]:
    """The ``max_lag`` values (from, up to but excluding) whose deadline names the right day.

    The deadline is a daily cron at ``max_lag`` past midnight in the source's timezone; Dagster's
    freshness check then expects the last day of the (UTC) partition calendar that ended before
    the deadline. That is the source's day just ended only while ``0 <= max_lag - utc_offset <
    24h`` for every offset the zone takes over the year (DST included); outside that range the
    check would wait for a day that has not ended yet, or let a day slip past its deadline.
    """
    zone = ZoneInfo(timezone)
    offsets = [
        datetime(2026, month, day, 12, tzinfo=zone).utcoffset() or timedelta(0)
        for month in range(1, 13)
        for day in (1, 15)
    ]
    return max(timedelta(minutes=1), max(offsets)), timedelta(hours=24) + min(offsets)


class Volume(_Strict):
    min_rows: Annotated[int, Field(ge=0)] = 1
    max_change_pct: Annotated[float, Field(gt=0)] = 20.0
    severity: Literal["error", "warn"] = "warn"


# The lawful bases of GDPR Art. 6(1) (a) to (f), as a contract names them.
LegalBasis = Literal[
    "consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests"
]
LEGAL_BASES: tuple[str, ...] = get_args(LegalBasis)


class Retention(_Strict):
    """How long each layer keeps a day, and why the data is kept at all.

    A window of N days keeps the N most recent days (today included) and lets the retention job
    delete older ones; no window keeps everything. Why a window exists is the ``purpose`` (and the
    ``legal_basis`` for processing it): data is kept no longer than its purpose needs (GDPR Art.
    5(1)(e)). A source with personal columns and no window or no purpose is a load-time warning.
    """

    bronze_days: Annotated[int | None, Field(ge=1)] = None
    silver_days: Annotated[int | None, Field(ge=1)] = None
    quarantine_days: Annotated[int | None, Field(ge=1)] = None
    # Landing files: by arrival day (the ``{date}`` of their path).
    landing_days: Annotated[int | None, Field(ge=1)] = None
    purpose: Annotated[str | None, Field(min_length=1)] = None
    legal_basis: LegalBasis | None = None

    @property
    def windows(self) -> dict[str, int]:
        """The layers with a window: ``landing``, ``bronze``, ``quarantine``, ``silver`` → days."""
        return {
            layer: days
            for layer, days in (
                ("landing", self.landing_days),
                ("bronze", self.bronze_days),
                ("quarantine", self.quarantine_days),
                ("silver", self.silver_days),
            )
            if days is not None
        }


class Erasure(_Strict):
    # shred: erasing a subject deletes its vault entries only (its tokens stay, resolvable by no
    # one: crypto-shredding); hard: also deletes its rows from bronze, quarantine, silver and gold.
    mode: Literal["hard", "shred"] = "hard"


class SourceContract(_Strict):
    name: Annotated[str, Field(pattern=IDENTIFIER, max_length=63)]
    entity: Annotated[str | None, Field(pattern=IDENTIFIER, max_length=63)] = None
    owner: str
    description: str = ""
    extract: Extract
    partitions: Partitions
    primary_key: Annotated[list[str], Field(min_length=1)]
    columns: Annotated[list[Column], Field(min_length=1)]
    silver: Silver = Field(default_factory=Silver)
    quality: list[QualityRule] = Field(default_factory=list)
    freshness: Freshness = Field(default_factory=Freshness)
    volume: Volume = Field(default_factory=Volume)
    retention: Retention = Field(default_factory=Retention)
    # Fields a file brings that the contract does not declare: keep them in ``_rescued_data``
    # (tokenised in a source with personal data), or drop them on read.
    undeclared: Literal["keep", "drop"] = "keep"
    erasure: Erasure = Field(default_factory=Erasure)

    @property
    def entity_name(self) -> str:
        return self.entity or self.name

    @property
    def column_map(self) -> dict[str, Column]:
        return {c.name: c for c in self.columns}

    @property
    def pii_columns(self) -> list[str]:
        """Every column with personal data, whatever is kept of it: the source has personal data."""
        return [c.name for c in self.columns if c.pii]

    @property
    def privacy_warnings(self) -> list[str]:
        """What a source holding personal data lacks to justify keeping it (warned at load, not
        refused: a missing policy must not stop the data flowing, but must not go unseen)."""
        if not self.pii_columns:
            return []
        retention, found = self.retention, []
        if not retention.windows:
            found.append(
                "retention: personal columns "
                f"({', '.join(self.pii_columns)}) but no retention window (bronze_days, silver_days, "
                "quarantine_days, landing_days): kept forever"
            )
        if not retention.purpose:
            found.append("retention.purpose: personal columns but no purpose declared for keeping them")
        return found

    @property
    def stored_columns(self) -> list[Column]:
        """The columns bronze and silver hold: all but ``pii: drop``."""
        return [c for c in self.columns if c.pii != "drop"]

    @property
    def keyed_columns(self) -> list[str]:
        """The columns stored as a keyed value (token or hash): where a subject can be found."""
        return [c.name for c in self.columns if c.pii in ("tokenize", "hash")]

    @property
    def tokenized_columns(self) -> list[str]:
        """The columns whose tokens the vault maps back to their values."""
        return [c.name for c in self.columns if c.pii == "tokenize"]

    @property
    def tracked_columns(self) -> list[str]:
        """scd2: the columns whose change opens a new version."""
        if self.silver.track is not None:
            return list(self.silver.track)
        skip = {*self.primary_key, self.partitions.event_time, self.silver.valid_from}
        return [c.name for c in self.stored_columns if c.name not in skip]

    @property
    def event_time_column(self) -> str | None:
        """The column that dates a row, or None when its day is its file's arrival day."""
        return None if self.partitions.by_arrival else self.partitions.event_time

    @property
    def event_order_column(self) -> str:
        """The column that orders a key's rows in time: the event time, or the row's day
        (``_event_date``, its arrival day) when the source has no time column."""
        return self.event_time_column or "_event_date"

    @property
    def valid_from_column(self) -> str | None:
        """scd2: the column a version starts at; None: the start of the row's day (by arrival)."""
        return self.silver.valid_from or self.event_time_column

    @property
    def freshness_checked(self) -> bool:
        """Whether the source has a freshness deadline: on, daily, and still delivering."""
        return self.freshness.enabled and self.partitions.partitioned and self.partitions.end is None

    @model_validator(mode="before")
    @classmethod
    def _landing_path_of_live_kinds(cls, data: Any) -> Any:
        """A postgres or http source lands its files under ``<name>/{date}/`` unless told."""
        if isinstance(data, dict) and isinstance(data.get("extract"), dict) and "path" not in data["extract"]:
            path = default_landing_path(data.get("name"), data["extract"].get("kind"))
            if path is not None:
                data = {**data, "extract": {**data["extract"], "path": path}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SourceContract:
        columns = self.column_map
        if len(columns) != len(self.columns):
            names = [c.name for c in self.columns]
            dupes = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"columns: duplicate column names {dupes}")

        def need(
            path: str, name: str, *, types: tuple[str, ...] | None = None, non_nullable: bool = False
        ) -> None:
            column = columns.get(name)
            if column is None:
                hint = (
                    f", or {ARRIVAL_DATE} to date rows by their file's arrival day"
                    if path == "partitions.event_time"
                    else ""
                )
                raise ValueError(
                    f"{path}: {name!r} is not a declared column (columns: {', '.join(columns)}{hint})"
                )
            if column.pii == "drop":
                raise ValueError(
                    f"{path}: column {name!r} is pii: drop (never stored), so it cannot be used here"
                )
            if types and column.type not in types:
                raise ValueError(
                    f"{path}: column {name!r} must be of type {' or '.join(types)}, is {column.type}"
                )
            if non_nullable and column.nullable:
                raise ValueError(f"{path}: column {name!r} must be declared nullable: false")

        if isinstance(self.extract, PostgresExtract | HttpExtract):
            need("extract.watermark", self.extract.watermark, types=("timestamp",), non_nullable=True)
        dated = self.extract.path.count("{date}")
        if self.partitions.partitioned and dated != 1:
            raise ValueError(
                "extract.path: must contain '{date}' exactly once (the arrival day of the files), "
                "or set partitions.grain: none for a source refreshed whole"
            )
        if not self.partitions.partitioned:
            if dated:
                raise ValueError(
                    "extract.path: a source refreshed whole (partitions.grain: none) reads the files its path "
                    "matches now, and has no '{date}'"
                )
            if self.silver.mode != "merge":
                raise ValueError(
                    f"silver.mode: a source refreshed whole keeps the latest row per key (merge), not "
                    f"{self.silver.mode}; for the history of a snapshot, partition it by day with "
                    "event_time: _arrival_date"
                )
        if not self.partitions.by_arrival:
            need(
                "partitions.event_time",
                self.partitions.event_time,
                types=("timestamp", "date"),
                non_nullable=True,
            )
        for i, key in enumerate(self.primary_key):
            need(f"primary_key[{i}]", key, non_nullable=True)
        if len(set(self.primary_key)) != len(self.primary_key):
            raise ValueError("primary_key: columns repeat")
        if self.silver.mode != "scd2" and (self.silver.valid_from or self.silver.track is not None):
            raise ValueError("silver: valid_from and track apply to mode scd2 only")
        if self.silver.valid_from:
            need("silver.valid_from", self.silver.valid_from, types=("timestamp", "date"), non_nullable=True)
        for i, name in enumerate(self.silver.track or []):
            need(f"silver.track[{i}]", name)
        if self.silver.mode == "scd2" and not self.tracked_columns:
            raise ValueError("silver: scd2 needs at least one tracked column")
        for i, rule in enumerate(self.quality):
            path = f"quality[{i}] ({rule.expect})"
            spec = EXPECTATIONS[rule.expect]
            if rule.column:
                need(f"{path}.column", rule.column)
                if columns[rule.column].pii and not spec.allowed_on_pii:
                    raise ValueError(
                        f"{path}: column {rule.column!r} is PII and tokenised in bronze; only null and "
                        "uniqueness rules can be checked on its tokens"
                    )
            if rule.column:
                _check_rule_values(path, rule, columns[rule.column])
            for j, name in enumerate(rule.arguments.get("column_list", [])):
                need(f"{path}.column_list[{j}]", name)
            if rule.max_flagged_pct is not None and not spec.row_level:
                raise ValueError(f"{path}: max_flagged_pct applies to row-level rules only")
            if rule.max_flagged_pct is not None and rule.severity == "error":
                raise ValueError(
                    f"{path}: max_flagged_pct escalates warn rules; an error rule blocks already"
                )
        if self.freshness.stale_ok_days and not self.partitions.partitioned:
            raise ValueError(
                "freshness.stale_ok_days: applies to daily sources (partitions.grain: day); a table "
                "refreshed whole has no newest day to lag"
            )
        low, high = max_lag_range(self.partitions.timezone)
        if not low <= self.freshness.max_lag_delta < high:
            raise ValueError(
                f"freshness.max_lag: with partitions.timezone {self.partitions.timezone!r} it must be "
                f"at least {_duration_text(low)} and under {_duration_text(high)} (the deadline is "
                f"that long after the day ends, and must fall on the day after it in UTC), got "
                f"{self.freshness.max_lag!r}"
            )
        ids = [r.check_id for r in self.quality]
        if len(set(ids)) != len(ids):
            raise ValueError("quality: two rules have the same id; give one a 'name'")
        return self


_NUMERIC = ("int32", "int64", "float32", "float64")
_STRING_ONLY = frozenset(
    {
        "column_values_to_match_regex",
        "column_values_to_not_match_regex",
        "column_value_lengths_to_be_between",
    }
)


def _check_rule_values(path: str, rule: QualityRule, column: Column) -> None:
    """Bounds and value sets must be values of the column's type, not just of some type."""
    values = [(name, rule.arguments[name]) for name in ("min_value", "max_value") if name in rule.arguments]
    values += [(f"value_set[{i}]", v) for i, v in enumerate(rule.arguments.get("value_set", []))]
    kind = column.type
    if rule.expect in _STRING_ONLY and kind != "string":
        raise ValueError(f"{path}: {rule.expect} applies to string columns; {column.name!r} is {kind}")
    for key in ("regex",):
        if key in rule.arguments:
            try:
                re.compile(rule.arguments[key])
            except re.error as error:
                raise ValueError(f"{path}: regex {rule.arguments[key]!r} is invalid: {error}") from None
    for name, value in values:
        if rule.expect == "column_value_lengths_to_be_between":
            continue  # lengths are integers whatever the column type
        if kind in _NUMERIC or kind.startswith("decimal"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            expected = "a number"
        elif kind in ("date", "timestamp"):
            ok = isinstance(value, str) and _is_iso(value)
            expected = "an ISO date or timestamp string"
        elif kind == "bool":
            ok = isinstance(value, bool)
            expected = "true or false"
        else:
            ok = isinstance(value, str)
            expected = "a string"
        if not ok:
            raise ValueError(
                f"{path}: {name} must be {expected} for column {column.name!r} ({kind}), got {value!r}"
            )


def _is_iso(text: str) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
