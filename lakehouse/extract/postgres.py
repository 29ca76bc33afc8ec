"""PostgreSQL → Parquet landing files, in chunks from a server-side cursor.

psycopg2 (already installed by dagster-postgres) with a named cursor: the server keeps the
result and each ``FETCH`` brings ``chunk_rows`` rows, which become one Arrow record batch and
one Parquet row group; memory holds one chunk whatever the table's size. The read runs in a
read-only REPEATABLE READ transaction (one consistent snapshot), ordered by the watermark so
each day's rows are written in one run and the last row carries the new watermark.

Values keep the source's types (integers, floats, booleans, dates, timestamps); ``numeric``,
``json`` and ``jsonb`` are kept as PostgreSQL's own text (exact: bronze casts them to the
contract's decimals), anything else as its text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lakehouse.contracts.extracts import PostgresExtract
from lakehouse.contracts.model import SourceContract
from lakehouse.extract.errors import SourceConfigError, SourceUnavailableError, dsn_secrets, redact
from lakehouse.extract.files import StagedFiles

if TYPE_CHECKING:
    import pyarrow as pa

# PostgreSQL type OIDs → Arrow types (pyarrow is imported on use).
_ARROW_TYPES: dict[int, str] = {
    16: "bool",
    20: "int64",
    21: "int16",
    23: "int32",
    26: "int64",
    700: "float32",
    701: "float64",
    1082: "date32",
    1114: "timestamp",
    1184: "timestamptz",
}
_RAW_TEXT_OIDS = (1700, 114, 3802, 1231)  # numeric, json, jsonb, numeric[]: PostgreSQL's text


def _arrow_type(oid: int) -> pa.DataType:
    import pyarrow as pa

    name = _ARROW_TYPES.get(oid)
    if name == "timestamp":
        return pa.timestamp("us")
    if name == "timestamptz":
        return pa.timestamp("us", tz="UTC")
    return getattr(pa, name)() if name else pa.string()


def source_query(extract: PostgresExtract, *, inclusive: bool) -> Any:
    """``SELECT * FROM <table or (query)> WHERE <watermark in the window> ORDER BY <watermark>``."""
    from psycopg2 import sql

    if extract.table is not None:
        relation = sql.SQL("{}").format(sql.Identifier(*extract.table.split(".")))
    else:
        assert extract.query is not None
        # The query is the contract's text; a literal % must not read as a parameter.
        relation = sql.SQL("({}) AS lakehouse_source").format(sql.SQL(extract.query.replace("%", "%%")))
    mark = sql.Identifier(extract.watermark)
    return sql.SQL(
        "SELECT * FROM {relation} WHERE {mark} {op} %(lower)s AND {mark} < %(until)s ORDER BY {mark}"
    ).format(relation=relation, mark=mark, op=sql.SQL(">=" if inclusive else ">"))


def extract_postgres(
    contract: SourceContract,
    dsn: str,
    staged: StagedFiles,
    *,
    on_chunk: Callable[[int], None] | None = None,
) -> pa.Schema:
    """Read the window's rows into ``staged``; return the result's Arrow schema."""
    import psycopg2
    import psycopg2.extensions as ext

    extract = contract.extract
    assert isinstance(extract, PostgresExtract)
    window = staged.window
    secrets = dsn_secrets(dsn)

    def fail(error: Exception, doing: str) -> Exception:
        message = redact(str(error).strip(), secrets)
        unavailable = isinstance(error, psycopg2.OperationalError | psycopg2.InterfaceError)
        cls = SourceUnavailableError if unavailable else SourceConfigError
        return cls(f"{contract.name}: PostgreSQL {doing} failed: {message}")

    try:
        con = psycopg2.connect(dsn, application_name=f"lakehouse:{contract.name}", connect_timeout=15)
    except psycopg2.Error as error:
        raise fail(error, "connection") from None
    try:
        raw = ext.new_type(_RAW_TEXT_OIDS, "LAKEHOUSE_RAW_TEXT", lambda value, cursor: value)
        ext.register_type(raw, con)
        con.set_session(readonly=True, isolation_level="REPEATABLE READ")
        with con.cursor() as cur:
            cur.execute("SET TimeZone = %s", [contract.partitions.timezone])
        query = source_query(extract, inclusive=window.lower_inclusive)
        cursor = con.cursor(name="lakehouse_extract")
        cursor.itersize = extract.chunk_rows
        cursor.execute(query, {"lower": window.lower, "until": window.until})
        schema = None
        while True:
            chunk = cursor.fetchmany(extract.chunk_rows)
            if schema is None:
                schema = _schema(cursor.description, contract, extract)
            if not chunk:
                break
            _write_chunk(chunk, schema, extract.watermark, staged)
            if on_chunk is not None:
                on_chunk(len(chunk))
        cursor.close()
        con.rollback()
        return schema
    except psycopg2.Error as error:
        raise fail(error, "read") from None
    finally:
        con.close()


def _schema(description: Any, contract: SourceContract, extract: PostgresExtract) -> pa.Schema:
    import pyarrow as pa

    names = [column.name for column in description]
    if extract.watermark not in names:
        raise SourceConfigError(f"{contract.name}: the result has no watermark column {extract.watermark!r}")
    return pa.schema([pa.field(column.name, _arrow_type(column.type_code)) for column in description])


def _write_chunk(chunk: list[tuple], schema: pa.Schema, watermark: str, staged: StagedFiles) -> None:
    """One chunk as record batches, one per day of the watermark (rows arrive ordered by it)."""
    import pyarrow as pa

    columns = list(zip(*chunk, strict=True))
    arrays = [
        pa.array(
            values if pa.types.is_timestamp(f.type) or f.type != pa.string() else [_text(v) for v in values],
            type=f.type,
        )
        for f, values in zip(schema, columns, strict=True)
    ]
    batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
    marks: tuple[datetime, ...] = columns[schema.get_field_index(watermark)]
    days = [staged.window.day_of(m) for m in marks]
    begin = 0
    for i in range(1, len(days) + 1):
        if i == len(days) or days[i] != days[begin]:
            staged.write_batch(days[begin], batch.slice(begin, i - begin))
            last = marks[i - 1]
            aware = last if last.tzinfo else last.replace(tzinfo=_zone(staged))
            staged.seen(aware, days[begin], i - begin)
            begin = i


def _zone(staged: StagedFiles) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(staged.window.timezone)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)
