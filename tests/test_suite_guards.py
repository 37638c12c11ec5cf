"""The suite's own guards (tests/conftest.py) hold: a test marked no_database gets no database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.db import get_engine, open_session


@pytest.mark.no_database
def test_a_test_marked_no_database_cannot_open_the_database() -> None:
    with pytest.raises(AssertionError, match="marked no_database"), get_engine().connect():
        pass
    with (
        pytest.raises(AssertionError, match="marked no_database"),
        open_session(write=False) as session,
    ):
        session.execute(text("SELECT 1"))


def test_an_unmarked_test_gets_the_demo_trust() -> None:
    with open_session(write=False) as session:
        assert session.execute(text("SELECT count(*) FROM app_user")).scalar_one() >= 5
