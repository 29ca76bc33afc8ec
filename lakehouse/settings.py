"""Where the lakehouse keeps things (and how it runs), from environment variables with local defaults.

One place resolves every path so that Dagster resources, the dbt subprocess and the command line
agree. The embedded default (no variable set) keeps everything under the checkout: landing files
and Delta tables under ``./data``, the DuckDB warehouse at ``./data/warehouse.duckdb`` and the
Dagster instance under ``./.dagster_home``. Another deployment points the same variables
elsewhere: a volume, another ``DAGSTER_HOME``, or S3 (``s3://`` roots). ``LAKEHOUSE_PROFILE=prod``
demands the lake on S3 and names every variable it misses at start-up, instead of falling back
to a local default nobody meant.

Secrets are not settings: they are read through ``dagster.EnvVar`` by the resources that use them.
Reading settings never writes the environment: the dbt resource hands them to its subprocess.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROFILES = ("local", "prod")
AWS_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# The Celery executor's broker and result backend: URLs that may hold a password, so they are
# not settings; the executor's config refers to the variables, resolved only where a run starts.
CELERY_VARIABLES = ("LAKEHOUSE_CELERY_BROKER_URL", "LAKEHOUSE_CELERY_BACKEND_URL")
EXECUTOR_NAMES = ("in_process", "multiprocess", "celery", "k8s")


class MissingSettingError(ValueError):
    """A deployment that lacks a variable it needs: raised at start-up, naming the variable."""


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
    # local: the embedded default; prod: the lake on S3, every variable it needs set.
    profile: str = "local"
    # S3 (any root given as s3://): None for AWS itself, else an S3-compatible endpoint URL.
    s3_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    # How long a Delta table's replaced and removed files stay readable (time travel, a paired
    # write's undo, readers still on an older version) before vacuum deletes them.
    vacuum_retain_hours: int = 168
    # Which of the AWS credential variables are set (their names only; the values are read by
    # the resources through dagster.EnvVar).
    aws_variables: tuple[str, ...] = ()
    # The webserver the contract sensor asks to reload the code location (GraphQL); the default
    # is where ``dagster dev`` serves it. The code server must be able to reach it.
    webserver_url: str = "http://127.0.0.1:3000"
    # Seconds between two looks of the contract sensor at the sources folder.
    contract_sensor_interval: int = 30
    # Automation (lakehouse/assets/automation.py): the cron of "the day is complete" (midnight
    # UTC, the calendar's day boundary) and how often the landing and automation sensors evaluate.
    automation_cron: str = "0 0 * * *"
    automation_interval_seconds: int = 30
    # The token vault (the encrypted value of each token), outside bronze, silver and gold: its
    # own location, so its access can be granted apart from the lake's. Default: ``vault`` beside
    # the lake root (``<data>/vault``, or ``s3://bucket/vault`` for ``s3://bucket/lake``).
    vault_root: str = ""

    @property
    def uses_s3(self) -> bool:
        return any(_is_s3(v) for v in (self.landing_root, self.lake_root))

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

        profile = env.get("LAKEHOUSE_PROFILE") or "local"
        if profile not in PROFILES:
            raise MissingSettingError(f"LAKEHOUSE_PROFILE={profile!r}: expected one of {', '.join(PROFILES)}")
        if profile == "prod":
            _require_prod(env, given)
        executor = setting("executor", "in_process")
        if executor not in EXECUTOR_NAMES:
            raise MissingSettingError(
                f"LAKEHOUSE_EXECUTOR={executor!r}: expected one of {', '.join(EXECUTOR_NAMES)}"
            )
        if executor == "celery":
            missing = [name for name in CELERY_VARIABLES if not env.get(name)]
            if missing:
                raise MissingSettingError(
                    f"LAKEHOUSE_EXECUTOR=celery needs {' and '.join(missing)} (the broker and result backend URLs)"
                )
        vacuum_hours = _hours(setting("vacuum_retain_hours", "168"))
        project = Path(setting("project_dir", str(_default_project_dir()))).resolve()
        data = _resolve(setting("data_dir", "data"), project)
        data_base = Path(data) if not _is_uri(data) else project
        strict = given.get("strict_contracts")
        lake_root = _resolve(setting("lake_root", f"{data}/lake"), data_base)
        return cls(
            project_dir=str(project),
            sources_dir=_resolve(setting("sources_dir", "sources"), project),
            data_dir=data,
            landing_root=_resolve(setting("landing_root", f"{data}/landing"), data_base),
            lake_root=lake_root,
            warehouse_path=_resolve(setting("warehouse_path", f"{data}/warehouse.duckdb"), data_base),
            dbt_project_dir=_resolve(setting("dbt_project_dir", "dbt_models"), project),
            executor=executor,
            strict_contracts=bool(strict)
            if strict is not None
            else env.get("LAKEHOUSE_STRICT_CONTRACTS", "") in ("1", "true"),
            profile=profile,
            s3_endpoint_url=env.get("LAKEHOUSE_S3_ENDPOINT_URL") or None,
            s3_region=env.get("LAKEHOUSE_S3_REGION") or env.get("AWS_REGION") or "us-east-1",
            aws_variables=tuple(name for name in AWS_CREDENTIALS if env.get(name)),
            vacuum_retain_hours=vacuum_hours,
            webserver_url=(env.get("LAKEHOUSE_WEBSERVER_URL") or "http://127.0.0.1:3000").rstrip("/"),
            contract_sensor_interval=_interval(env.get("LAKEHOUSE_CONTRACT_SENSOR_INTERVAL")),
            automation_cron=setting("automation_cron", "0 0 * * *"),
            automation_interval_seconds=_seconds(setting("automation_interval_seconds", "30")),
            vault_root=_resolve(setting("vault_root", _beside(lake_root, "vault")), data_base),
        )

    def as_environ(self) -> dict[str, str]:
        """The settings as ``LAKEHOUSE_*`` variables, for subprocesses such as dbt, whose profile
        and sources read them (so dbt sees exactly the paths the Dagster resources use)."""
        values = {
            f"LAKEHOUSE_{f.name.upper()}": str(getattr(self, f.name))
            for f in fields(self)
            if f.name not in ("strict_contracts", "aws_variables") and getattr(self, f.name) not in (None, "")
        }
        return {**values, "LAKEHOUSE_STRICT_CONTRACTS": "1" if self.strict_contracts else ""}


def _hours(text: str) -> int:
    try:
        hours = int(text)
    except ValueError:
        hours = -1
    if hours < 0:
        raise MissingSettingError(
            f"LAKEHOUSE_VACUUM_RETAIN_HOURS={text!r}: expected a whole number of hours >= 0"
        )
    return hours


def _interval(value: str | None) -> int:
    """The contract sensor's interval: 30 s unless set, and never more (the promise of issue 15)."""
    if not value:
        return 30
    try:
        seconds = int(value)
    except ValueError:
        seconds = 0
    if not 1 <= seconds <= 30:
        raise MissingSettingError(
            f"LAKEHOUSE_CONTRACT_SENSOR_INTERVAL={value!r}: expected whole seconds from 1 to 30"
        )
    return seconds


def _seconds(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise MissingSettingError(
            f"LAKEHOUSE_AUTOMATION_INTERVAL_SECONDS={text!r}: expected a whole number of seconds >= 1"
        )
    return value


def _beside(root: str, name: str) -> str:
    """``name`` next to ``root``'s last segment (inside it when ``root`` is a bare bucket)."""
    head, _, tail = root.rstrip("/").rpartition("/")
    return f"{root.rstrip('/')}/_{name}" if not tail or head.endswith(":/") else f"{head}/{name}"


def _is_s3(value: str) -> bool:
    return value.startswith(("s3://", "s3a://"))


# What the prod profile needs, and why each, for the start-up error.
_PROD_REQUIRED = {
    "LAKEHOUSE_LAKE_ROOT": "the s3://bucket/prefix of the Delta tables",
    "LAKEHOUSE_LANDING_ROOT": "where source files arrive (s3://bucket/prefix or a path)",
    "LAKEHOUSE_WAREHOUSE_PATH": "the DuckDB warehouse file, on a persistent volume",
}
_PROD_SECRETS = {
    "AWS_ACCESS_KEY_ID": "the lake's S3 key (read through dagster.EnvVar)",
    "AWS_SECRET_ACCESS_KEY": "the lake's S3 secret (read through dagster.EnvVar)",
    "LAKEHOUSE_PII_KEY": "the key of the PII tokens (read through dagster.EnvVar)",
    "LAKEHOUSE_VAULT_KEY": "the key of the token vault (read through dagster.EnvVar)",
}


def _require_prod(env: os._Environ[str] | dict[str, str], given: dict[str, str | bool | None]) -> None:
    """Every variable the prod profile needs, all named at once."""
    missing = [
        f"{name} ({why})"
        for name, why in _PROD_REQUIRED.items()
        if not given.get(name.removeprefix("LAKEHOUSE_").lower()) and not env.get(name)
    ]
    missing += [f"{name} ({why})" for name, why in _PROD_SECRETS.items() if not env.get(name)]
    if missing:
        raise MissingSettingError("LAKEHOUSE_PROFILE=prod needs: " + "; ".join(missing))
    lake = str(given.get("lake_root") or env.get("LAKEHOUSE_LAKE_ROOT"))
    if not _is_s3(lake):
        raise MissingSettingError(
            f"LAKEHOUSE_PROFILE=prod puts the lake on S3: LAKEHOUSE_LAKE_ROOT={lake!r} is not s3://"
        )


def default_dagster_home(settings: Settings) -> str:
    return str(Path(settings.project_dir) / ".dagster_home")
