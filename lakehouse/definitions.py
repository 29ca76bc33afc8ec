"""The Dagster code location: ``dagster dev -w workspace.yaml`` loads ``defs`` from here."""

from lakehouse.platform import build_definitions
from lakehouse.settings import Settings

defs = build_definitions(Settings.from_env())
