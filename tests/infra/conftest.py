"""Fixtures of the infrastructure tests: a moto S3 server and a PostgreSQL database per run."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra.services import MotoServer, PostgresDatabase


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto"))
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabase]:
    """One database for the whole test run (tests use tables of their own in it)."""
    database = PostgresDatabase()
    yield database
    database.drop()
