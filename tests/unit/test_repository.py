"""The repository's promises about itself: two README commands, CI runs the tests one, the image."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from dockerfile_parse import DockerfileParser

from tests.helpers import REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)\n(.*?)```", text, re.S)
    assert first_block, "README.md must open with a shell block"
    return [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands_demo_then_tests() -> None:
    text = (REPO / "README.md").read_text()
    assert text.index("```") < text.index("\n## "), "the commands come before any section"
    demo, tests = readme_commands()
    assert "lakehouse demo" in demo and demo.startswith("scripts/setup")
    assert "pytest" in tests and tests.startswith("scripts/setup --dev")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _, tests = readme_commands()
    ci = (REPO / ".ci" / "run").read_text()
    commands = [
        line.strip() for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert tests in commands


def test_dockerfile_installs_through_setup_and_starts_a_code_server() -> None:
    parser = DockerfileParser(path=str(REPO / "Dockerfile"))
    runs = [i["value"] for i in parser.structure if i["instruction"] == "RUN"]
    assert any(r.startswith("scripts/setup") for r in runs), runs
    assert parser.baseimage == "python:3.11-slim"  # the ARG's default, resolved by the parser
    assert any(i["instruction"] == "FROM" and i["value"] == "${BASE}" for i in parser.structure)
    cmd = parser.structure[-1]
    assert cmd["instruction"] == "CMD"
    argv = json.loads(cmd["value"])  # the exec form: a JSON list
    assert argv[:3] == ["dagster", "code-server", "start"]
    assert "lakehouse.definitions" in argv
    # Every file the image copies exists, and the command it starts exists in this environment.
    for instruction in parser.structure:
        if instruction["instruction"] == "COPY":
            for source in instruction["value"].split()[:-1]:
                assert (REPO / source).exists(), source
    help_text = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "code-server", "start", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for flag in argv[3:]:
        if flag.startswith("-"):
            assert flag in help_text, flag


def test_loading_the_definitions_imports_no_engine() -> None:
    """great_expectations, DuckDB, deltalake, pandas, boto3 (dagster-aws) and psycopg2 load when a
    run needs them, not with the definitions (every run worker and code server loads those)."""
    engines = ("great_expectations", "duckdb", "deltalake", "pandas", "boto3", "psycopg2", "pyarrow")
    code = (
        "import sys, lakehouse.definitions as location; location.defs(); "
        f"print(','.join(m for m in {engines!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert loaded.stdout.strip() == ""
