"""``lakehouse lineage``: where a personal column goes, and where one person's value is.

Answers from the contracts and the dbt manifest alone (``privacy/lineage.py``), without loading
the Dagster definitions, so it returns in a fraction of a second.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

HEADERS = ("layer", "asset", "column", "protection", "from", "note")


@click.command()
@click.option("--column", "column", default=None, metavar="SOURCE.COLUMN", help="e.g. orders.customer_email")
@click.option(
    "--subject",
    default=None,
    metavar="VALUE",
    help="A person's value (an e-mail): tokenised with LAKEHOUSE_PII_KEY and looked up in the tables "
    "that carry the column's token (every personal column, or --column's).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def lineage(column: str | None, subject: str | None, as_json: bool) -> None:
    """Which sources, tables, columns and gold models hold a personal column (every one, without
    --column), and how each protects it; with --subject, how many rows hold that value's token."""
    from lakehouse.contracts.loader import load_contracts
    from lakehouse.privacy.lineage import DbtLineage, LineageError, trace
    from lakehouse.settings import Settings

    settings = Settings.from_env()
    contracts = {loaded.contract.name: loaded.contract for loaded in load_contracts(settings.sources_dir)}
    try:
        dbt = DbtLineage.from_file(
            Path(settings.dbt_project_dir) / "target" / "manifest.json", contracts.values()
        )
        wanted = _wanted(column, contracts)
        traced = [trace(contracts[source], name, dbt) for source, name in wanted]
    except LineageError as error:
        raise click.ClickException(str(error)) from None
    found = _lookup(settings, traced, subject) if subject is not None else None
    if as_json:
        click.echo(json.dumps(_as_json(traced, found), indent=2, default=str))
        return
    for held in traced:
        retention = held.contract.retention
        click.echo(
            f"{held.source}.{held.column} ({held.protection}); purpose: {retention.purpose or 'none declared'}; "
            f"legal basis: {retention.legal_basis or 'none declared'}; windows: "
            + (", ".join(f"{k} {v} days" for k, v in retention.windows.items()) or "none (kept forever)")
        )
        rows = [(h.layer, h.asset, h.column, h.protection, h.derived_from, h.note) for h in held.holders]
        click.echo(_table(HEADERS, rows))
        if found is not None:
            click.echo(
                _table(("asset", "column", "rows with the token", "note"), found[held.source, held.column])
            )
        click.echo("")


def _wanted(column: str | None, contracts: dict) -> list[tuple[str, str]]:
    from lakehouse.privacy.lineage import LineageError, personal_columns

    if column is None:
        return [(c.name, name) for c, name in personal_columns(contracts.values())]
    source, _, name = column.partition(".")
    if not name:
        raise LineageError(f"--column {column}: expected SOURCE.COLUMN, e.g. orders.customer_email")
    if source not in contracts:
        raise LineageError(
            f"--column {column}: no source {source!r} (sources: {', '.join(sorted(contracts))})"
        )
    return [(source, name)]


def _lookup(settings, traced: list, subject: str) -> dict:
    import os

    from lakehouse.bronze.pii import token
    from lakehouse.cli.environment import read_dotenv
    from lakehouse.privacy.lineage import find_token
    from lakehouse.resources import lake_storage

    key = os.environ.get("LAKEHOUSE_PII_KEY") or read_dotenv(Path(settings.project_dir) / ".env").get(
        "LAKEHOUSE_PII_KEY"
    )
    if not key:
        raise click.ClickException("--subject needs LAKEHOUSE_PII_KEY (the key the tokens were made with)")
    lake = lake_storage(settings, env_vars=False)
    return {
        (held.source, held.column): [
            (o.asset, o.column, "" if o.rows is None else o.rows, o.note)
            for o in find_token(
                held, token(key, subject), table=lake.table, warehouse_path=settings.warehouse_path
            )
        ]
        for held in traced
        if held.protection != "none"
    }


def _as_json(traced: list, found: dict | None) -> list[dict]:
    from dataclasses import asdict

    return [
        {
            "source": held.source,
            "column": held.column,
            "protection": held.protection,
            "purpose": held.contract.retention.purpose,
            "legal_basis": held.contract.retention.legal_basis,
            "retention_days": held.contract.retention.windows,
            "gold_models": held.gold_models,
            "holders": [asdict(h) for h in held.holders],
            **(
                {
                    "subject": [
                        dict(zip(("asset", "column", "rows", "note"), r, strict=True))
                        for r in found[held.source, held.column]
                    ]
                }
                if found is not None and (held.source, held.column) in found
                else {}
            ),
        }
        for held in traced
    ]


def _table(headers: tuple[str, ...], rows: list[tuple]) -> str:
    widths = [max(len(str(v)) for v in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)
