"""The bronze step's run configuration: what an operator may accept for one run, in the UI's
launchpad or a run config. The defaults are the safe choice."""

from __future__ import annotations

import dagster as dg
from pydantic import Field


class BronzeRunConfig(dg.Config):
    allow_missing_files: bool = Field(
        default=False,
        description="Rewrite days whose rows came from landing files that are gone, accepting that "
        "those rows disappear from bronze. Without it such a run stops and names the files.",
    )
    allow_empty_days: bool = Field(
        default=False,
        description="Load a day of the run that has no landing files (as empty). Without it the circuit "
        "breaker stops the run: the source may be late or down.",
    )
