"""Which rows one extraction reads: ``since < watermark < until``, and the days it covers.

- ``until`` is the start of the day after the run's last day, in the source's timezone: a run
  for days ``S..E`` reads changes up to the end of ``E``, never "everything until now", so a run
  is repeatable and a backfill of old days reads nothing new.
- ``since`` is the committed watermark minus ``extract.lookback`` (rows written late with an
  earlier ``updated_at`` fall in that window); before the first commit, the start of the
  source's ``partitions.start``, inclusive.
- The file stem names the committed watermark the extraction started from: a retry after a
  failed run (watermark unchanged) replaces the files of the attempt before; a later extraction
  adds files of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from lakehouse.contracts.extracts import HttpExtract, PostgresExtract
from lakehouse.contracts.model import SourceContract
from lakehouse.days import days_between


@dataclass(frozen=True)
class ExtractWindow:
    lower: datetime  # aware
    lower_inclusive: bool  # only for an initial load (from the start of partitions.start)
    until: datetime  # aware, exclusive
    committed: datetime | None  # the watermark the window was derived from
    timezone: str

    @property
    def stem(self) -> str:
        """The file name's stem: ``initial`` or ``since-<committed watermark, UTC>``."""
        if self.committed is None:
            return "initial"
        return "since-" + self.committed.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%S%fZ")

    def day_of(self, value: datetime) -> date:
        """The landing folder of a row: its watermark's day in the source's timezone."""
        zone = ZoneInfo(self.timezone)
        return (value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)).date()

    def contains(self, value: datetime) -> bool:
        value = value.replace(tzinfo=ZoneInfo(self.timezone)) if value.tzinfo is None else value
        above = value >= self.lower if self.lower_inclusive else value > self.lower
        return above and value < self.until

    @property
    def days(self) -> list[date]:
        """Every day the window touches: each gets a file, empty or not, so a day with no
        changes is recorded as read rather than missing."""
        last = (self.until - timedelta(microseconds=1)).astimezone(ZoneInfo(self.timezone)).date()
        return days_between(self.day_of(self.lower), last)


def start_of(day: date, timezone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))


def window_for(contract: SourceContract, committed: datetime | None, end: date) -> ExtractWindow | None:
    """The window of a run whose last day is ``end``; None when it holds nothing to read."""
    extract = contract.extract
    assert isinstance(extract, PostgresExtract | HttpExtract)
    timezone = contract.partitions.timezone
    until = start_of(end + timedelta(days=1), timezone)
    if committed is None:
        lower, inclusive = start_of(contract.partitions.start, timezone), True
    else:
        lower, inclusive = committed - extract.lookback_delta, False
    if lower >= until:
        return None
    return ExtractWindow(lower, inclusive, until, committed, timezone)
