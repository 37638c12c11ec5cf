"""Issue #10, smaller findings: development mode is open by design (the API description for
anyone, the placeholder secret, demo accounts), so outside production the server listens only on
loopback and says why when asked otherwise (api/production_checks.py::refuse_open_development);
and no answer names the server software (uvicorn's `server` header is off)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api.production_checks import is_loopback
from tests.support.live_server import LiveServer, free_port
from tests.test_cli_and_schema import run_cli


@pytest.mark.parametrize(
    ("environment", "host"),
    [
        ("development", "0.0.0.0"),  # noqa: S104 - the attack: every interface
        ("test", "::"),
        ("development", "frontline.trust.nhs.uk"),
    ],
)
@pytest.mark.sqlite_file  # a `frontline` command on a data folder of its own
def test_development_mode_refuses_to_listen_beyond_this_machine(
    tmp_path: Path, environment: str, host: str
) -> None:
    result = run_cli(
        "serve",
        "--host",
        host,
        "--port",
        str(free_port()),
        data_dir=tmp_path,
        FRONTLINE_ENVIRONMENT=environment,
    )
    assert result.returncode != 0
    assert f"Refusing to listen on {host} in development mode" in result.stderr
    assert "FRONTLINE_ENVIRONMENT=production" in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104 - an address to refuse, not one to bind
        ("::", False),
        ("10.0.0.1", False),
        ("my-laptop", False),
    ],
)
@pytest.mark.no_database
def test_only_loopback_counts_as_this_machine(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_no_answer_names_the_server_software(start_server: Callable[..., LiveServer]) -> None:
    server = start_server()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answers = [
            http.get("/healthz"),
            http.get("/login"),
            http.get("/static/css/app.css"),
            http.get("/no-such-page"),
            http.post("/api/v1/sync", json={"items": []}),  # 401
            http.post("/login", content=b"x" * (1024 * 1024 + 1)),  # 413 from the middleware
        ]
    assert [a.status_code for a in answers][:4] == [200, 200, 200, 404]
    for answer in answers:
        assert "server" not in answer.headers, (answer.request.url, answer.headers["server"])
