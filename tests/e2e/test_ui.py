"""What the Dagster UI shows is true for each day: through the webserver's GraphQL (the queries
the UI's pages run) and in headless Chromium.

One run over three days, with planted bad days: a volume drop on one day (bronze's ``volume``
check warns) and orders without a currency on another (gold's dbt test ``not_null`` of
``fct_daily_sales.currency`` fails with error severity). Then a real ``dagster-webserver`` on the
same instance, shared by every test of this module.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from lakehouse.demo.generate import generate
from lakehouse.platform import build_definitions
from lakehouse.runs import materialize_range
from lakehouse.tables.location import TableLocation
from lakehouse.tables.stats import rows_per_day
from tests.helpers import REPO, Webserver, free_port, make_settings, rows, serve

pytestmark = pytest.mark.slow

START, END = date(2026, 7, 1), date(2026, 7, 3)
WARN_DAY = date(2026, 7, 2)  # 60 % of its orders go missing: bronze volume warns
ERROR_DAY = date(2026, 7, 3)  # some orders lose their currency: gold's not_null test fails
LOOKBACK = [date(2026, 6, 29), date(2026, 6, 30)]  # restated by the run, nothing read
RUN_DAYS = [*LOOKBACK, START, WARN_DAY, ERROR_DAY]
CURRENCY_TEST = "not_null_fct_daily_sales_currency"
ARTIFACTS = REPO / "test-artifacts" / "ui"


def rewrite_orders(landing: Path, day: date, change) -> None:
    """Apply ``change(rows_of_that_day) -> rows`` to the orders of ``day`` in its own file."""
    path = landing / "orders" / day.isoformat() / f"orders_{day.isoformat()}.csv"
    stat = path.stat()
    lines = list(csv.reader(io.StringIO(path.read_text())))
    header, body = lines[0], lines[1:]
    at = header.index("ordered_at")
    mine = [r for r in body if len(r) == len(header) and r[at].startswith(day.isoformat())]
    others = [r for r in body if r not in mine]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *change(header, mine), *others])
    path.write_text(out.getvalue())
    os.utime(path, (stat.st_atime, stat.st_mtime))  # the same delivery time


def drop_most(header: list[str], day_rows: list[list[str]]) -> list[list[str]]:
    return day_rows[: len(day_rows) * 2 // 5]


def lose_currency(header: list[str], day_rows: list[list[str]]) -> list[list[str]]:
    for row in day_rows[:3]:
        row[header.index("currency")] = ""
    return day_rows


class UiScenario:
    def __init__(self, root: Path):
        self.root = root
        self.settings = make_settings(root)
        landing = Path(self.settings.landing_root)
        generate(landing, START, END, orders_per_day=150, seed=3)
        rewrite_orders(landing, WARN_DAY, drop_most)
        rewrite_orders(landing, ERROR_DAY, lose_currency)
        self.home = root / "home"
        self.home.mkdir()
        (self.home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        with dg.DagsterInstance.local_temp(str(self.home)) as instance:
            self.result = materialize_range(
                build_definitions(self.settings),
                START,
                END,
                instance=instance,
                raise_on_error=False,
                with_freshness_checks=True,
            )
        lake = Path(self.settings.lake_root)
        self.bronze = TableLocation(str(lake / "bronze" / "orders"))
        self.quarantine = TableLocation(str(lake / "quarantine" / "orders"))
        self.silver = TableLocation(str(lake / "silver" / "orders"))

    def warehouse(self, sql: str) -> list[tuple]:
        with duckdb.connect(self.settings.warehouse_path, read_only=True) as con:
            return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory):
    """The run, then a webserver over its instance (started once for the module)."""
    root = tmp_path_factory.mktemp("ui")
    scenario = UiScenario(root)
    shutil.copy(REPO / "workspace.yaml", root / "workspace.yaml")
    port = free_port()
    env = {**os.environ, **scenario.settings.as_environ(), "DAGSTER_HOME": str(scenario.home)}
    command = ["dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with serve(command, root, env, port, root / "webserver.log") as server:
        scenario.server = server
        yield scenario


# The queries below are the UI's own (dagster-webserver 1.13's bundle), trimmed to the fields
# the assertions read.

PARTITION_HEALTH = """
query AssetCheckPartitionHealthQuery($assetKey: AssetKeyInput!, $checkName: String!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      assetCheckOrError(checkName: $checkName) {
        ... on AssetCheck {
          partitionStatuses {
            ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
          }
        }
      }
    }
  }
}"""

HEADLINES = """
query ($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    ... on AssetNode {
      assetChecksOrError {
        ... on AssetChecks {
          checks {
            name
            executionForLatestMaterialization { status evaluation { severity description partition } }
          }
        }
      }
    }
  }
}"""

PARTITION_DETAIL = """
query AssetCheckPartitionDetailQuery($assetKey: AssetKeyInput!, $checkName: String!, $partitionKey: String!) {
  assetCheckExecutions(assetKey: $assetKey, checkName: $checkName, partition: $partitionKey, limit: 1000) {
    status
    evaluation {
      severity description partition
      targetMaterialization { runId }
      metadataEntries { label ... on TextMetadataEntry { text } }
    }
  }
}"""

METADATA_ENTRIES = """
  label
  ... on IntMetadataEntry { intValue }
  ... on TextMetadataEntry { text }
  ... on TableSchemaMetadataEntry { schema { columns { name type constraints { nullable } } } }
  ... on TableColumnLineageMetadataEntry { lineage { columnName columnDeps { assetKey { path } columnName } } }
"""

PARTITION_EVENTS = f"""
query AssetPartitionDetailQuery($assetKey: AssetKeyInput!, $partitionKey: String!) {{
  assetOrError(assetKey: $assetKey) {{
    ... on Asset {{
      assetEventHistory(partitions: [$partitionKey], limit: 1000, eventTypeSelectors: [MATERIALIZATION]) {{
        results {{ ... on MaterializationEvent {{ partition runId metadataEntries {{ {METADATA_ENTRIES} }} }} }}
      }}
    }}
  }}
}}"""

PLOTTED = f"""
query AssetPartitionEventsQuery($assetKey: AssetKeyInput!, $partitions: [String!]!) {{
  assetNodeOrError(assetKey: $assetKey) {{
    ... on AssetNode {{
      latestMaterializationByPartition(partitions: $partitions) {{
        partition metadataEntries {{ {METADATA_ENTRIES} }}
      }}
    }}
  }}
}}"""

DEFINITION = f"""
query ($assetKey: AssetKeyInput!) {{
  assetNodeOrError(assetKey: $assetKey) {{
    ... on AssetNode {{
      description owners {{ ... on UserAssetOwner {{ email }} ... on TeamAssetOwner {{ team }} }}
      dependencyKeys {{ path }}
      metadataEntries {{ {METADATA_ENTRIES} }}
      assetMaterializations(limit: 1) {{ metadataEntries {{ {METADATA_ENTRIES} }} }}
    }}
  }}
}}"""


RUN_LOGS = """
query ($runId: ID!, $cursor: String) {
  logsForRun(runId: $runId, afterCursor: $cursor, limit: 1000) {
    ... on EventConnection { cursor hasMore events { __typename ... on MessageEvent { message } } }
  }
}"""


def key(path: str) -> dict:
    return {"path": path.split("/")}


def day_statuses(server: Webserver, asset: str, check: str) -> dict[str, str]:
    """The check's Partitions tab: status per day (days it does not list are Missing)."""
    node = server.graphql(PARTITION_HEALTH, assetKey=key(asset), checkName=check)["assetNodeOrError"]
    statuses = {}
    for r in node["assetCheckOrError"]["partitionStatuses"]["ranges"]:
        day, last = date.fromisoformat(r["startKey"]), date.fromisoformat(r["endKey"])
        while day <= last:
            statuses[day.isoformat()] = r["status"]
            day += timedelta(days=1)
    return statuses


def headlines(server: Webserver, asset: str) -> dict[str, dict]:
    checks = server.graphql(HEADLINES, assetKey=key(asset))["assetNodeOrError"]["assetChecksOrError"][
        "checks"
    ]
    return {c["name"]: c["executionForLatestMaterialization"] for c in checks}


def entries(metadata_entries: list[dict]) -> dict[str, dict]:
    return {e["label"]: e for e in metadata_entries}


def day_metadata(server: Webserver, asset: str, day: date) -> dict[str, dict]:
    """The latest materialisation of ``day``, as the asset's partition page shows it."""
    history = server.graphql(PARTITION_EVENTS, assetKey=key(asset), partitionKey=day.isoformat())
    events = history["assetOrError"]["assetEventHistory"]["results"]
    assert events and events[0]["partition"] == day.isoformat(), events
    return entries(events[0]["metadataEntries"])


def everything_else_passed(statuses: dict[str, str], failed: set[str]) -> bool:
    return {d for d, s in statuses.items() if s == "FAILED"} == failed and all(
        statuses.get(d.isoformat()) == "SUCCEEDED" for d in RUN_DAYS if d.isoformat() not in failed
    )


def test_the_run_planted_what_the_ui_is_asked_about(scenario: UiScenario) -> None:
    evaluations = scenario.result.get_asset_check_evaluations()
    volume = {
        e.partition: e for e in evaluations if e.check_name == "volume" and e.asset_key.path[-1] == "orders"
    }
    assert not volume[WARN_DAY.isoformat()].passed and volume[WARN_DAY.isoformat()].severity.value == "WARN"
    assert not scenario.result.success  # the error test fails the gold step, after recording it all


def test_each_check_partitions_tab_shows_which_days_passed_warned_and_failed(scenario: UiScenario) -> None:
    server = scenario.server
    volume = day_statuses(server, "bronze/orders", "volume")
    assert everything_else_passed(volume, {WARN_DAY.isoformat()}), volume
    assert everything_else_passed(day_statuses(server, "bronze/orders", "reconciliation"), set())
    assert everything_else_passed(day_statuses(server, "silver/orders", "reconciliation"), set())
    currency = day_statuses(server, "gold/fct_daily_sales", CURRENCY_TEST)  # a dbt test, per day
    assert everything_else_passed(currency, {ERROR_DAY.isoformat()}), currency
    # freshness, per day: the run's days arrived after their deadlines (this test loads July in
    # December), and the day due now is missing
    freshness = day_statuses(server, "bronze/orders", "freshness_check")
    assert {d for d, s in freshness.items() if s == "FAILED"} >= {
        START.isoformat(),
        WARN_DAY.isoformat(),
        ERROR_DAY.isoformat(),
    }
    assert len(freshness) == 4 and set(freshness.values()) == {"FAILED"}, freshness

    # Clicking a day: its own evaluation, naming the day and its result, against that day's
    # materialisation; a warning is a warning.
    [warned, *_] = server.graphql(
        PARTITION_DETAIL, assetKey=key("bronze/orders"), checkName="volume", partitionKey=WARN_DAY.isoformat()
    )["assetCheckExecutions"]
    assert warned["status"] == "FAILED" and warned["evaluation"]["severity"] == "WARN"
    assert warned["evaluation"]["description"].startswith(f"{WARN_DAY} warned: ")
    assert entries(warned["evaluation"]["metadataEntries"])["result"]["text"] == "warned"
    assert warned["evaluation"]["targetMaterialization"]["runId"] == scenario.result.run_id
    [failed, *_] = server.graphql(
        PARTITION_DETAIL,
        assetKey=key("gold/fct_daily_sales"),
        checkName=CURRENCY_TEST,
        partitionKey=ERROR_DAY.isoformat(),
    )["assetCheckExecutions"]
    assert (failed["status"], failed["evaluation"]["severity"]) == ("FAILED", "ERROR")


def test_the_run_log_names_each_day_and_its_result(scenario: UiScenario) -> None:
    messages, cursor = [], None
    while True:
        page = scenario.server.graphql(RUN_LOGS, runId=scenario.result.run_id, cursor=cursor)["logsForRun"]
        messages += [
            e.get("message") or "" for e in page["events"] if e["__typename"] == "AssetCheckEvaluationEvent"
        ]
        cursor = page["cursor"]
        if not page["hasMore"]:
            break
    volume = [m for m in messages if "'volume' on 'bronze/orders'" in m]
    assert any(f"'{WARN_DAY} warned: " in m for m in volume), volume
    assert any(f"'{START} passed" in m for m in volume), volume


def test_the_headline_is_the_worst_of_the_run_days_and_a_warning_stays_a_warning(
    scenario: UiScenario,
) -> None:
    bronze = headlines(scenario.server, "bronze/orders")
    assert bronze["volume"]["status"] == "FAILED"
    assert bronze["volume"]["evaluation"]["severity"] == "WARN"  # yellow, not red
    assert bronze["volume"]["evaluation"]["partition"] is None  # the run's result, not a lookback day's
    assert str(WARN_DAY) in bronze["volume"]["evaluation"]["description"]
    assert bronze["reconciliation"]["status"] == "SUCCEEDED"
    fresh = bronze["freshness_check"]  # the day due now is missing: an error
    assert (fresh["status"], fresh["evaluation"]["severity"], fresh["evaluation"]["partition"]) == (
        "FAILED",
        "ERROR",
        None,
    )
    gold = headlines(scenario.server, "gold/fct_daily_sales")
    assert (gold[CURRENCY_TEST]["status"], gold[CURRENCY_TEST]["evaluation"]["severity"]) == (
        "FAILED",
        "ERROR",
    )


def test_each_day_carries_its_own_row_quarantine_and_flag_counts(scenario: UiScenario) -> None:
    server = scenario.server
    bronze = rows_per_day(scenario.bronze, "_event_date")
    quarantined = rows_per_day(scenario.quarantine, "_partition_date")
    silver = {
        r["d"]: (r["n"], r["flagged"])
        for r in rows(
            scenario.silver,
            "SELECT _event_date AS d, count(*) AS n, count(*) FILTER (WHERE NOT dq_valid) AS flagged FROM t GROUP BY 1",
        )
    }
    gold = dict(scenario.warehouse("SELECT order_date, count(*) FROM fct_daily_sales GROUP BY 1"))
    assert len({bronze[d] for d in (START, WARN_DAY, ERROR_DAY)}) == 3  # the days differ
    for day in (START, WARN_DAY, ERROR_DAY):
        b = day_metadata(server, "bronze/orders", day)
        assert b["dagster/row_count"]["intValue"] == bronze[day]
        assert b["rows_quarantined"]["intValue"] == quarantined.get(day, 0)
        s = day_metadata(server, "silver/orders", day)
        assert (s["dagster/row_count"]["intValue"], s["rows_flagged"]["intValue"]) == silver[day]
        assert day_metadata(server, "gold/fct_daily_sales", day)["dagster/row_count"]["intValue"] == gold[day]
    lookback = day_metadata(server, "bronze/orders", LOOKBACK[0])  # restated, nothing read
    assert lookback["dagster/row_count"]["intValue"] == 0
    # The plots by partition read the same numbers.
    plotted = server.graphql(
        PLOTTED, assetKey=key("bronze/orders"), partitions=[d.isoformat() for d in (START, WARN_DAY)]
    )["assetNodeOrError"]["latestMaterializationByPartition"]
    by_day = {p["partition"]: entries(p["metadataEntries"]) for p in plotted}
    assert by_day[WARN_DAY.isoformat()]["dagster/row_count"]["intValue"] == bronze[WARN_DAY]
    assert "volume_change_pct" in by_day[WARN_DAY.isoformat()]


def columns_of(metadata_entries: list[dict]) -> dict[str, str]:
    schema = entries(metadata_entries)["dagster/column_schema"]["schema"]["columns"]
    return {c["name"]: c["type"] for c in schema}


def lineage_of(metadata_entries: list[dict]) -> dict[str, set[tuple[str, str]]]:
    lineage = entries(metadata_entries)["dagster/column_lineage"]["lineage"]
    return {
        c["columnName"]: {("/".join(d["assetKey"]["path"]), d["columnName"]) for d in c["columnDeps"]}
        for c in lineage
    }


def test_every_layer_shows_its_columns_with_types_and_their_lineage(scenario: UiScenario) -> None:
    server = scenario.server
    bronze = server.graphql(DEFINITION, assetKey=key("bronze/orders"))["assetNodeOrError"]
    columns = columns_of(bronze["metadataEntries"])
    assert columns["amount"] == "decimal(12,2)" and columns["ordered_at"] == "timestamp"
    assert {"_rescued_data", "_row_hash", "_event_date", "_source_file", "_ingested_at"} <= set(columns)
    lineage = lineage_of(bronze["metadataEntries"])
    assert lineage["amount"] == {("landing/orders", "amount")}
    assert lineage["_event_date"] == {("landing/orders", "ordered_at")}
    assert entries(bronze["metadataEntries"])["dagster/uri"]["text"].endswith("/lake/bronze/orders")

    silver = server.graphql(DEFINITION, assetKey=key("silver/orders"))["assetNodeOrError"]
    columns = columns_of(silver["metadataEntries"])
    assert (
        columns["_sk"] == "string"
        and columns["dq_flags"] == "list<string>"
        and columns["amount"] == "decimal(12,2)"
    )
    lineage = lineage_of(silver["metadataEntries"])
    assert lineage["amount"] == {("bronze/orders", "amount")}
    assert lineage["_sk"] == {("bronze/orders", "order_id")}

    gold = server.graphql(DEFINITION, assetKey=key("gold/fct_daily_sales"))["assetNodeOrError"]
    [latest] = gold["assetMaterializations"]
    built = {
        name: kind
        for name, kind in scenario.warehouse(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'fct_daily_sales'"
        )
    }
    assert columns_of(latest["metadataEntries"]) == built and len(built) == 8  # every column, typed
    lineage = lineage_of(latest["metadataEntries"])
    assert lineage["net_revenue"] == {
        ("silver/orders", "amount"),
        ("silver/orders", "dq_valid"),
        ("silver/orders", "status"),
    }
    assert lineage["order_date"] == {("silver/orders", "_event_date")}
    # the catalog: dbt's description (not the SQL), owners
    assert (
        gold["description"].startswith("Orders and revenue per day") and "Raw SQL" not in gold["description"]
    )
    assert gold["owners"]


def test_headless_chromium_shows_the_failed_and_warned_days_and_the_row_count(scenario: UiScenario) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip(
            "no chromium: `scripts/setup --dev` installs Debian's package where it runs as root with apt-get"
        )
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    url = scenario.server.url
    rows_on_warn_day = rows_per_day(scenario.bronze, "_event_date")[WARN_DAY]
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000})
            page.add_init_script("window.localStorage.setItem('communityNux', '1')")  # no welcome dialog
            page.set_default_timeout(60_000)
            expect.set_options(timeout=60_000)

            def partitions_tab(asset: str, check: str, day: date, result: str, shot: str) -> None:
                """The check's Partitions tab: one failed day, the others passed; then that day."""
                page.goto(f"{url}/assets/{asset}?view=checks&checkDetail={check}")
                expect(page.get_by_role("tab", name="Execution history")).to_be_visible()
                page.get_by_role("tab", name="Partitions").last.click()  # the check's, not the asset's
                expect(page.get_by_text("Failed (1)")).to_be_visible()
                expect(page.get_by_text(f"Passed ({len(RUN_DAYS) - 1})")).to_be_visible()
                page.get_by_placeholder("Filter by partition…").fill(day.isoformat())
                page.get_by_text(day.isoformat(), exact=True).first.click()
                expect(page.get_by_text(f"{day} {result}: ")).to_be_visible()  # the day's own result
                page.screenshot(path=str(ARTIFACTS / shot), full_page=True)

            partitions_tab("bronze/orders", "volume", WARN_DAY, "warned", "bronze-volume-partitions.png")
            partitions_tab(
                "gold/fct_daily_sales", CURRENCY_TEST, ERROR_DAY, "failed", "gold-test-partitions.png"
            )

            page.goto(f"{url}/assets/bronze/orders?view=partitions&partition={WARN_DAY}")
            row = page.get_by_role("row").filter(has_text="dagster/row_count").first
            expect(row).to_contain_text(str(rows_on_warn_day))
            page.screenshot(path=str(ARTIFACTS / "bronze-partition-row-count.png"), full_page=True)
        finally:
            browser.close()
    for shot in (
        "bronze-volume-partitions.png",
        "gold-test-partitions.png",
        "bronze-partition-row-count.png",
    ):
        assert (ARTIFACTS / shot).stat().st_size > 0
