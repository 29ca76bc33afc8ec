"""Landing retention on a real landing zone: the arrival days a template's ``{date}`` names
(a folder per day or a file name), files older than the window deleted with their emptied
folders, the rest untouched, and a rerun deleting nothing; then bronze plans over those days."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from lakehouse.bronze.preflight import plan_bronze
from lakehouse.privacy.retention import arrival_days_held, cutoff, expire_landing, retained_from
from tests.helpers import EVENTS_CONTRACT, HEADER, Lake

TODAY = date(2026, 5, 10)
DAYS = [TODAY - timedelta(days=n) for n in range(6, 0, -1)]  # 05-04 .. 05-09


def _row(day: date, n: int) -> str:
    return f"e{day:%m%d}{n},acct,a{n}@example.com,click,1.00,1,true,{day}T10:00:00Z"


@pytest.mark.parametrize(
    "template", ["events/{date}/*.csv", "flat/events_{date}.csv"], ids=["folder per day", "dated names"]
)
def test_landing_files_older_than_the_window_leave(tmp_path: Path, template: str) -> None:
    lake = Lake(
        tmp_path,
        EVENTS_CONTRACT.replace('"events/{date}/*.csv"', f'"{template}"')
        + "retention: {landing_days: 3, purpose: tests}\n",
    )
    for day in DAYS:
        relative = template.replace("{date}", day.isoformat()).replace("*", "part-1")
        lake.file(relative, f"{HEADER}\n{_row(day, 1)}\n{_row(day, 2)}\n", day)
    (lake.landing / "events" / "notes").mkdir(parents=True)  # not a day: never touched
    assert arrival_days_held(lake.landing, template) == DAYS

    keep_from = cutoff(lake.contract.retention.landing_days, TODAY)
    assert keep_from == date(2026, 5, 8)
    report = expire_landing(str(lake.landing), lake.contract, keep_from)
    assert report.days_deleted == DAYS[:4] and report.files_removed == 4 and report.bytes_freed > 0
    assert arrival_days_held(lake.landing, template) == DAYS[4:]
    assert (lake.landing / "events" / "notes").is_dir()
    if template.startswith("events/"):
        assert sorted(p.name for p in (lake.landing / "events").iterdir()) == [
            "2026-05-08",
            "2026-05-09",
            "notes",
        ]
    again = expire_landing(str(lake.landing), lake.contract, keep_from)
    assert (again.days_deleted, again.files_removed) == ([], 0)


def test_bronze_plans_no_day_whose_landing_files_may_be_gone(tmp_path: Path) -> None:
    """A range over expired landing days: the plan starts the day after the first kept arrival
    day (a file may hold the next day's early rows), and an entirely expired range plans nothing."""
    lake = Lake(tmp_path, EVENTS_CONTRACT + "retention: {landing_days: 3, bronze_days: 30, purpose: tests}\n")
    for day in DAYS:
        lake.file(f"events/{day}/part-1.csv", f"{HEADER}\n{_row(day, 1)}\n", day)
    assert retained_from(lake.contract, TODAY) == date(2026, 5, 9)
    expire_landing(str(lake.landing), lake.contract, cutoff(3, TODAY))

    def plan(start: date, end: date):
        return plan_bronze(
            lake.contract,
            start=start,
            end=end,
            landing_root=str(lake.landing),
            bronze=lake.bronze,
            quarantine=lake.quarantine,
            today=TODAY,
        )

    partial = plan(DAYS[0], DAYS[-1])
    assert partial is not None and not partial.problems  # no "no files for day" for 05-04..05-07
    assert (partial.first, partial.last) == (date(2026, 5, 9), date(2026, 5, 9))
    assert partial.expired == (date(2026, 5, 2), date(2026, 5, 8))  # the lookback's days included
    assert plan(DAYS[0], DAYS[2]) is None
    unlimited = plan_bronze(  # the same range without the windows: the guard trips, as before
        lake.contract.model_copy(
            update={
                "retention": lake.contract.retention.model_copy(
                    update={"landing_days": None, "bronze_days": None}
                )
            }
        ),
        start=DAYS[0],
        end=DAYS[-1],
        landing_root=str(lake.landing),
        bronze=lake.bronze,
        quarantine=lake.quarantine,
        today=TODAY,
    )
    assert unlimited is not None and {p.kind for p in unlimited.problems} == {"no files"}
