"""The embedded default environment: a local Dagster instance, a local PII key and vault key.

The demo must work on a fresh checkout with nothing configured, and ``dagster dev`` must then
open the same instance. ``DAGSTER_HOME`` defaults to ``.dagster_home`` in the checkout; a PII key
and a vault key are generated once into ``.env`` (ignored by git), which Dagster also loads for
its code servers.
Anything already set in the environment wins.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import click

from lakehouse.settings import Settings, default_dagster_home

INSTANCE_CONFIG = """\
# Local instance for the embedded default: SQLite storage under this folder.
telemetry:
  enabled: false
# Runs that died (killed, the machine restarted) are marked failed by the daemon: Dagster's
# default run launcher plus the check of a run's process (lakehouse/deploy/run_health.py).
# Without a daemon: `lakehouse runs heal`.
run_launcher:
  module: lakehouse.deploy.run_health
  class: LakehouseRunLauncher
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_resume_run_attempts: 0
  poll_interval_seconds: 30
"""
# What earlier versions wrote: such a file, untouched by the user, is brought up to date.
_EARLIER_INSTANCE_CONFIG = """\
# Local instance for the embedded default: SQLite storage under this folder.
telemetry:
  enabled: false
"""


def read_dotenv(path: Path) -> dict[str, str]:
    values = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def prepare_local_environment(settings: Settings) -> Path:
    """Make DAGSTER_HOME, LAKEHOUSE_PII_KEY and LAKEHOUSE_VAULT_KEY available; return the Dagster home."""
    dotenv_path = Path(settings.project_dir) / ".env"
    dotenv = read_dotenv(dotenv_path)
    additions = {}
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = dotenv.get("DAGSTER_HOME") or default_dagster_home(settings)
        additions["DAGSTER_HOME"] = os.environ["DAGSTER_HOME"]
    if not os.environ.get("LAKEHOUSE_PII_KEY"):
        os.environ["LAKEHOUSE_PII_KEY"] = dotenv.get("LAKEHOUSE_PII_KEY") or secrets.token_hex(32)
        additions["LAKEHOUSE_PII_KEY"] = os.environ["LAKEHOUSE_PII_KEY"]
    if not os.environ.get("LAKEHOUSE_VAULT_KEY"):
        os.environ["LAKEHOUSE_VAULT_KEY"] = dotenv.get("LAKEHOUSE_VAULT_KEY") or secrets.token_hex(32)
        additions["LAKEHOUSE_VAULT_KEY"] = os.environ["LAKEHOUSE_VAULT_KEY"]
    missing = {k: v for k, v in additions.items() if k not in dotenv}
    if missing:
        try:
            # Created owner-only from the first byte: it holds a secret.
            descriptor = os.open(dotenv_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        except OSError as error:
            # A read-only installation (the image): generating values nobody could find again
            # would strand the PII tokens and the instance, so ask for them instead.
            raise click.ClickException(
                f"cannot keep the generated {' and '.join(missing)} in {dotenv_path} "
                f"({error.strerror}); set {' and '.join(missing)} in the environment"
            ) from None
        with os.fdopen(descriptor, "a") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in missing.items())

    home = Path(os.environ["DAGSTER_HOME"])
    try:
        home.mkdir(parents=True, exist_ok=True)
        config = home / "dagster.yaml"
        if not config.exists() or config.read_text() == _EARLIER_INSTANCE_CONFIG:
            config.write_text(INSTANCE_CONFIG)
    except OSError as error:  # e.g. a host folder mounted on the image's /data, owned by root
        raise click.ClickException(
            f"cannot prepare the Dagster home {home} ({error.strerror}): make it writable by this "
            f"user (uid {os.getuid()}), or set DAGSTER_HOME to a folder that is"
        ) from None
    return home
