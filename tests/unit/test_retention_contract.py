"""The retention part of a contract: windows, purpose and legal basis validated; personal data
without a policy is a load-time warning in the code location's metadata, not an error; the
personal columns are asset metadata; the retention job and its schedule are defined, its report
asset out of every asset selection's runs; the vacuum window is a setting."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest

from lakehouse.contracts import ContractError, parse_contract
from lakehouse.platform import build_definitions
from lakehouse.settings import MissingSettingError, Settings
from tests.helpers import EVENTS_CONTRACT, contract_from, make_settings


def test_windows_purpose_and_legal_basis_are_validated() -> None:
    contract = contract_from(
        EVENTS_CONTRACT
        + "retention: {bronze_days: 30, silver_days: 90, quarantine_days: 14, landing_days: 7, "
        "purpose: billing disputes, legal_basis: legal_obligation}\n"
    )
    assert contract.retention.windows == {"landing": 7, "bronze": 30, "quarantine": 14, "silver": 90}
    assert contract.privacy_warnings == []
    with pytest.raises(ContractError, match=r"retention\.legal_basis.*consent"):
        contract_from(EVENTS_CONTRACT + "retention: {bronze_days: 30, purpose: x, legal_basis: because}\n")
    with pytest.raises(ContractError, match=r"retention\.landing_days"):
        contract_from(EVENTS_CONTRACT + "retention: {landing_days: 0, purpose: x}\n")


def test_personal_data_without_a_policy_is_a_warning_in_the_code_locations_metadata(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "events.yaml").write_text(EVENTS_CONTRACT)  # an e-mail column, no retention
    no_pii = re.sub(r",\s+pii: tokenize", "", EVENTS_CONTRACT.replace("events", "clicks"))
    (sources / "clicks.yaml").write_text(no_pii)
    assert parse_contract(no_pii).privacy_warnings == []
    assert len(parse_contract(EVENTS_CONTRACT).privacy_warnings) == 2  # no window, no purpose

    defs = build_definitions(make_settings(tmp_path, sources), strict=True)  # loads: a warning only
    warnings = defs.metadata["privacy_warnings"].value
    assert "events.yaml" in warnings and "no retention window" in warnings and "no purpose" in warnings
    assert "clicks.yaml" not in warnings


def test_the_personal_columns_and_the_retention_job_are_in_the_definitions(tmp_path: Path) -> None:
    defs = build_definitions(make_settings(tmp_path))
    graph = defs.resolve_asset_graph()
    for key, upstream in (("bronze/orders", "landing/orders"), ("silver/orders", "bronze/orders")):
        table = graph.get(dg.AssetKey.from_user_string(key)).metadata["lakehouse/pii_columns"]
        assert [r.data for r in table.records] == [
            {
                "column": "customer_email",
                "protection": "tokenize",
                "source_column": f"{upstream}.customer_email",
            }
        ]
    report = graph.get(dg.AssetKey(["reports", "retention"]))
    assert not report.is_executable  # recorded by the job: no '*' range run or backfill runs it
    assert defs.resolve_job_def("retention").name == "retention"
    schedule = defs.resolve_schedule_def("retention_daily")
    assert schedule.cron_schedule == "30 2 * * *" and schedule.job_name == "retention"


def test_the_vacuum_window_is_a_setting() -> None:
    assert Settings.from_env({}).vacuum_retain_hours == 168
    assert Settings.from_env({"LAKEHOUSE_VACUUM_RETAIN_HOURS": "0"}).vacuum_retain_hours == 0
    with pytest.raises(MissingSettingError, match="LAKEHOUSE_VACUUM_RETAIN_HOURS='a week'"):
        Settings.from_env({"LAKEHOUSE_VACUUM_RETAIN_HOURS": "a week"})
