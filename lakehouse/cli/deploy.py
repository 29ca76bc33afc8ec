"""``lakehouse deploy validate``: a deployment's configs, checked by Dagster's own schemas offline."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def deploy() -> None:
    """Deployment configuration (deploy/)."""


@deploy.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
def validate(paths: tuple[Path, ...]) -> None:
    """Check instance folders (holding dagster.yaml) and executor files (*.yaml with `executor:`)
    without a cluster, a cloud or secrets; exit 1 on any problem."""
    from lakehouse.deploy.validate import validate_executor, validate_instance

    failed = False
    for path in paths or (Path("deploy"), Path("deploy/k8s"), Path("deploy/ecs")):
        problems = validate_instance(path) if path.is_dir() else validate_executor(path)
        click.echo(f"{path}: {'ok' if not problems else 'INVALID'}")
        for problem in problems:
            click.echo(f"  - {problem}")
        failed |= bool(problems)
    if failed:
        raise SystemExit(1)
