"""Fixtures for the operations tests: an app under settings of the test's choosing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from api.config import get_settings
from api.main import create_app
from api.sync import guard


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """A fresh app under FRONTLINE_* settings of the test's choosing; the suite's settings come back
    afterwards."""

    def apply(**values: Any) -> Any:
        for name, value in values.items():
            monkeypatch.setenv(f"FRONTLINE_{name.upper()}", str(value))
        get_settings.cache_clear()
        guard._limiter.cache_clear()
        return create_app()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()
    guard._limiter.cache_clear()
