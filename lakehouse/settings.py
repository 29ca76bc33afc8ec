"""Where the lakehouse keeps things (and how it runs), from environment variables with local defaults.

One place resolves every path so that Dagster resources, the dbt subprocess and the command line
agree. The embedded default (no variable set) keeps everything under the checkout: landing files
and Delta tables under ``./data``, the DuckDB warehouse at ``./data/warehouse.duckdb`` and the
Dagster instance under ``./.dagster_home``. Another deployment points the same variables
elsewhere (a volume, another ``DAGSTER_HOME``); object stores come with a later change.

Secrets are not settings: they are read through ``dagster.EnvVar`` by the resources that use them.
Reading settings never writes the environment: the dbt resource hands them to its subprocess.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _default_project_dir() -> Path:
    """The checkout root when running from source, else the working directory (e.g. in the image)."""
    candidate = PACKAGE_DIR.parent
    if (candidate / "pyproject.toml").exists() and (candidate / "sources").is_dir():
        return candidate
    return Path.cwd()


def _is_uri(value: str) -> bool:
    return "://" in value


def _resolve(value: str, base: Path) -> str:
    """Absolute local paths (so a subprocess in another working directory agrees); URIs unchanged."""
    if _is_uri(value):
        return value.rstrip("/")
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (base / path).resolve())


@dataclass(frozen=True)
class Settings:
    """Resolved locations. Field names map to ``LAKEHOUSE_<FIELD>`` environment variables."""

    project_dir: str
    sources_dir: str
    data_dir: str
    landing_root: str
    lake_root: str
    warehouse_path: str
    dbt_project_dir: str
    # How a run executes its steps: "in_process" (one process per run: the definitions, dbt's
    # import included, load once) or "multiprocess" (a process per step, steps in parallel).
    executor: str = "in_process"
    # An invalid contract fails definitions loading instead of being skipped (CI).
    strict_contracts: bool = False

    @classmethod
    def from_env(
        cls, environ: os._Environ[str] | dict[str, str] | None = None, **given: str | bool | None
    ) -> Settings:
        """Each setting from ``given`` (a component's attributes), else its ``LAKEHOUSE_*``
        variable, else the embedded default. Relative paths resolve against the project
        directory (``given["project_dir"]``, ``LAKEHOUSE_PROJECT_DIR``, or the checkout)."""
        env = os.environ if environ is None else environ

        def setting(name: str, default: str) -> str:
            value = given.get(name)
            return str(value) if value is not None else env.get(f"LAKEHOUSE_{name.upper()}") or default

        project = Path(setting("project_dir", str(_default_project_dir()))).resolve()
        data = _resolve(setting("data_dir", "data"), project)
        data_base = Path(data) if not _is_uri(data) else project
        strict = given.get("strict_contracts")
        return cls(
            project_dir=str(project),
            sources_dir=_resolve(setting("sources_dir", "sources"), project),
            data_dir=data,
            landing_root=_resolve(setting("landing_root", f"{data}/landing"), data_base),
            lake_root=_resolve(setting("lake_root", f"{data}/lake"), data_base),
            warehouse_path=_resolve(setting("warehouse_path", f"{data}/warehouse.duckdb"), data_base),
            dbt_project_dir=_resolve(setting("dbt_project_dir", "dbt_models"), project),
            executor=setting("executor", "in_process"),
            strict_contracts=bool(strict)
            if strict is not None
            else env.get("LAKEHOUSE_STRICT_CONTRACTS", "") in ("1", "true"),
        )

    def as_environ(self) -> dict[str, str]:
        """The settings as ``LAKEHOUSE_*`` variables, for subprocesses such as dbt, whose profile
        and sources read them (so dbt sees exactly the paths the Dagster resources use)."""
        values = {
            f"LAKEHOUSE_{f.name.upper()}": str(getattr(self, f.name))
            for f in fields(self)
            if f.name != "strict_contracts"
        }
        return {**values, "LAKEHOUSE_STRICT_CONTRACTS": "1" if self.strict_contracts else ""}


def default_dagster_home(settings: Settings) -> str:
    return str(Path(settings.project_dir) / ".dagster_home")
