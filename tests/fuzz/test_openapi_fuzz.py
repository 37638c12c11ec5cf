"""Schemathesis over /openapi.json, in process, signed in as a reporter and as a manager.

First pass: every operation in the description, the writes included, gets generated valid and
invalid requests (the fuzzing phase); as a manager, who gets past every role check, also the
schema's boundary cases (the coverage phase). Generated ids name no record, so a second pass fuzzes
the operations that take record ids again with the ids of real ones (an accepted idea with a PDSA
cycle, a handover note, the demo trust's teams, partners, aims and manager) to reach the workflow
behind the validation.

Every answer must not be a 5xx, and must have a status code, a content type and a body the
description declares for it. Bounded and reproducible: FRONTLINE_FUZZ_EXAMPLES fuzzed requests per
operation (default 10), a fixed seed (FRONTLINE_FUZZ_SEED), derandomized Hypothesis, no example
database. docs/security.md says how to run it harder."""

from __future__ import annotations

import functools
import os
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.python.asgi import ASGIClient
from sqlalchemy import select

import api.auth.service
from api.config import get_settings
from api.db import open_session
from api.main import create_app
from api.security.passwords import verify_password
from schemas.accounts import User
from schemas.handovers import Handover
from schemas.ideas import Idea
from schemas.pdsa import PdsaCycle
from tests.conftest import Client
from tests.records import handover_data, idea_data, reference_ids

MAX_EXAMPLES = int(os.environ.get("FRONTLINE_FUZZ_EXAMPLES", "10"))
SEED = int(os.environ.get("FRONTLINE_FUZZ_SEED", "20241124"))
CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
ROLES = {"crew": "crew@demo.nhs.uk", "manager": "manager@demo.nhs.uk"}


def _description() -> dict[str, Any]:
    # Operations must be known at collection, before the fixtures configure the test database. The
    # description depends only on the routes, so an app on default settings serves the same one
    # (test_the_fuzzed_description_is_the_one_served_to_a_signed_in_user checks it).
    try:
        return TestClient(create_app()).get("/openapi.json").json()
    finally:
        get_settings.cache_clear()


def _config(phases: dict[str, Any]) -> Any:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": "http://testserver",
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            # Each operation on its own: the demo trust is fresh for every one.
            "phases": {"stateful": {"enabled": False}, **phases},
        }
    )


DESCRIPTION = _description()
with_boundaries = schemathesis.openapi.from_dict(DESCRIPTION, config=_config({}))
# Boundary cases test the validation, which is the same for every role and every record: a
# reporter would mostly meet the manager-only 403, and real ids add nothing to them.
fuzzed = schemathesis.openapi.from_dict(
    DESCRIPTION, config=_config({"coverage": {"enabled": False}})
)
# Creating a record, and everything done to one; a reporter may only create and read their own.
on_real_records = fuzzed.include(
    path_regex=r"\{(idea_id|note_id)\}|^/api/v1/(ideas|handovers)$"
).exclude(method="GET", path_regex=r"^/api/v1/(ideas|handovers)$")
on_own_real_records = fuzzed.include(
    method="POST", path_regex=r"^/api/v1/(ideas|handovers)$"
).include(method="GET", path_regex=r"^/api/v1/(ideas|handovers)/\{(idea_id|note_id)\}(/events)?$")

# Argon2 is slow on purpose, and every operation signs in again after the demo trust is reseeded;
# the demo users' hashes are the same each time (tests/conftest.py), so remember the answers.
_remembered_verify = functools.lru_cache(maxsize=16)(verify_password)


@pytest.fixture
def remembered_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.auth.service, "verify_password", _remembered_verify)


@pytest.fixture(params=sorted(ROLES))
def signed_in(request: pytest.FixtureRequest, app: Any, remembered_passwords: None) -> Client:
    return Client(app).sign_in(ROLES[request.param])


def _as_schemathesis_client(app: Any, browser: Client) -> ASGIClient:
    """The signed-in browser's cookie and CSRF token on schemathesis' in-process client. Not entered
    as a context manager, so the app's lifespan (the push delivery thread) stays off as in the
    other API tests."""
    http = ASGIClient(app)
    http.cookies.update(dict(browser.http.cookies))
    http.headers["X-CSRF-Token"] = browser.csrf
    return http


@pytest.fixture
def crew_session(app: Any, remembered_passwords: None) -> ASGIClient:
    return _as_schemathesis_client(app, Client(app).sign_in(ROLES["crew"]))


@pytest.fixture
def manager_session(app: Any, remembered_passwords: None) -> ASGIClient:
    return _as_schemathesis_client(app, Client(app).sign_in(ROLES["manager"]))


@dataclass
class RealRecords:
    path_ids: dict[str, str]
    teams: list[int]
    partners: list[int]
    aims: list[int]
    manager_id: int

    def substitute(self, case: Any) -> None:
        """Put real ids where the generated request has ids, leaving everything else as generated."""
        case.path_parameters = {
            **case.path_parameters,
            **{name: self.path_ids[name] for name in case.path_parameters if name in self.path_ids},
        }
        body = case.body if isinstance(case.body, dict) else {}
        for name, choices in (("team_id", self.teams), ("partner_id", self.partners)):
            if isinstance(body.get(name), int):
                body[name] = choices[body[name] % len(choices)]
        if isinstance(body.get("aims"), list) and all(isinstance(a, int) for a in body["aims"]):
            body["aims"] = [self.aims[a % len(self.aims)] for a in body["aims"]]
        if isinstance(body.get("owner_id"), int):
            body["owner_id"] = self.manager_id
        if case.method == "PATCH" or "If-Match" in (case.headers or {}):
            # A well-behaved client's precondition, so the change itself is fuzzed (missing,
            # stale and malformed versions are in the first pass and in tests/api).
            case.headers = {**(case.headers or {}), "If-Match": self._etag(case.path_parameters)}

    @staticmethod
    def _etag(path_parameters: dict[str, Any]) -> str:
        with open_session(write=False) as session:
            if "note_id" in path_parameters:
                record: Any = session.get(Handover, uuid.UUID(path_parameters["note_id"]))
            else:
                record = session.get(Idea, uuid.UUID(path_parameters["idea_id"]))
            assert record is not None
            return f'"{record.version}"'


@pytest.fixture
def real_records(app: Any, remembered_passwords: None) -> RealRecords:
    """The crew member's idea (accepted, with a PDSA cycle) and handover note, made through the API."""
    crew = Client(app).sign_in(ROLES["crew"])
    idea_id, note_id = str(uuid.uuid4()), str(uuid.uuid4())
    assert crew.post("/api/v1/ideas", json={"id": idea_id, **idea_data()}).status_code == 201
    created = crew.post("/api/v1/handovers", json={"id": note_id, **handover_data()})
    assert created.status_code == 201
    with open_session(write=True) as session:
        idea = session.get(Idea, uuid.UUID(idea_id))
        assert idea is not None
        idea.status = "accepted"
        cycle = PdsaCycle(
            idea_id=idea.id,
            plan="Pack TTOs the evening before",
            start_date=date(2026, 11, 2),
            measure_name="Discharges before noon",
            created_by=idea.submitted_by,
        )
        session.add(cycle)
        manager_id = session.execute(
            select(User.id).where(User.email == ROLES["manager"])
        ).scalar_one()
        session.commit()
        cycle_id = str(cycle.id)
    ids = reference_ids()
    return RealRecords(
        path_ids={"idea_id": idea_id, "note_id": note_id, "cycle_id": cycle_id},
        teams=ids["teams"],
        partners=ids["partners"],
        aims=ids["aims"],
        manager_id=manager_id,
    )


def _checks() -> list[Any]:
    load_all_checks()
    return [CHECKS.get_one(name) for name in CHECK_NAMES]


def test_the_fuzzed_description_is_the_one_served_to_a_signed_in_user(signed_in: Client) -> None:
    served = signed_in.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == DESCRIPTION


def test_the_writes_are_fuzzed_too() -> None:
    methods = {method for path in DESCRIPTION["paths"].values() for method in path}
    assert {"post", "patch", "put", "delete"} <= methods


@with_boundaries.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_a_manager_as_documented(
    case: Any, manager_session: ASGIClient
) -> None:
    case.call_and_validate(session=manager_session, checks=_checks())


@fuzzed.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_a_crew_member_as_documented(
    case: Any, crew_session: ASGIClient
) -> None:
    case.call_and_validate(session=crew_session, checks=_checks())


@on_real_records.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_on_real_records_answers_a_manager_as_documented(
    case: Any, manager_session: ASGIClient, real_records: RealRecords
) -> None:
    real_records.substitute(case)
    case.call_and_validate(session=manager_session, checks=_checks())


@on_own_real_records.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_creating_and_reading_own_records_answers_a_crew_member_as_documented(
    case: Any, crew_session: ASGIClient, real_records: RealRecords
) -> None:
    real_records.substitute(case)
    case.call_and_validate(session=crew_session, checks=_checks())
