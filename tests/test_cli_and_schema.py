"""The command line and the migrations: what an operator runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from api.db import get_engine
from api.ideas.search import SEARCH_OBJECTS
from tests.conftest import ROOT
from tests.support.hashing import CHEAP_HASHING

FRONTLINE = [sys.executable, "-m", "api.cli"]


def run_cli(
    *args: str, data_dir: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}},
        "FRONTLINE_DATA_DIR": str(data_dir),
        "FRONTLINE_ENVIRONMENT": "development",
        **env,
    }
    if environment["FRONTLINE_ENVIRONMENT"] != "production":
        environment.update(CHEAP_HASHING)
    return subprocess.run(
        [*FRONTLINE, *args],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_migrations_build_exactly_the_schema_the_models_describe() -> None:
    with get_engine().connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": lambda name, *_: name not in SEARCH_OBJECTS}
        )
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


@pytest.mark.sqlite_file  # a `frontline` command on a data folder of its own
def test_migrate_then_demo_twice_seeds_once(tmp_path: Path) -> None:
    assert run_cli("migrate", data_dir=tmp_path).returncode == 0
    first = run_cli("demo", data_dir=tmp_path)
    second = run_cli("demo", data_dir=tmp_path)
    assert first.returncode == second.returncode == 0
    assert "seeded" in first.stdout
    assert "already present" in second.stdout
    assert (tmp_path / "frontline.db").exists()


@pytest.mark.sqlite_file  # a `frontline` command on a data folder of its own
def test_demo_refuses_to_run_in_production(tmp_path: Path) -> None:
    run_cli("migrate", data_dir=tmp_path)
    result = run_cli(
        "demo", data_dir=tmp_path, FRONTLINE_ENVIRONMENT="production", FRONTLINE_SECRET_KEY="s" * 40
    )
    assert result.returncode == 2
    assert "Refusing" in result.stderr


@pytest.mark.sqlite_file  # a `frontline` command on a data folder of its own
def test_create_user_reads_the_password_from_stdin_and_refuses_bad_input(tmp_path: Path) -> None:
    run_cli("migrate", data_dir=tmp_path)
    ok = run_cli(
        "create-user",
        "--email",
        "New.Manager@NHS.net",
        "--name",
        "New Manager",
        "--role",
        "manager",
        "--password-stdin",
        data_dir=tmp_path,
        stdin="a-long-enough-password\n",
    )
    assert ok.returncode == 0, ok.stderr
    assert "new.manager@nhs.net" in ok.stdout
    again = run_cli(
        "create-user",
        "--email",
        "new.manager@nhs.net",
        "--name",
        "X",
        "--password-stdin",
        data_dir=tmp_path,
        stdin="short\n",
    )
    assert again.returncode == 1
    assert "email: An account with this email already exists" in again.stderr
    assert "password: Password must be at least 12 characters" in again.stderr


@pytest.mark.sqlite_file  # a `frontline` command on a data folder of its own
def test_production_refuses_to_start_with_the_default_secret(tmp_path: Path) -> None:
    result = run_cli("serve", data_dir=tmp_path, FRONTLINE_ENVIRONMENT="production")
    assert result.returncode != 0
    assert "FRONTLINE_SECRET_KEY" in result.stderr


@pytest.mark.sqlite_file  # a `frontline` command on a data folder of its own
def test_production_refuses_to_serve_a_database_with_demo_accounts(tmp_path: Path) -> None:
    run_cli("migrate", data_dir=tmp_path)
    run_cli("demo", data_dir=tmp_path)
    result = run_cli(
        "serve",
        "--port",
        "8765",
        data_dir=tmp_path,
        FRONTLINE_ENVIRONMENT="production",
        FRONTLINE_SECRET_KEY="s" * 40,
    )
    assert result.returncode != 0
    assert "Demo accounts exist" in result.stderr
