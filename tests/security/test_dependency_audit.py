"""The dependency audit CI runs (scripts/audit_dependencies.py, pip-audit over uv.lock): how it
judges pip-audit's report. A known vulnerability fails the run and is printed; packages the service
could not look up are listed, and fail the run only in strict mode."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)


def audit_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "audit_dependencies", Path(ROOT) / "scripts" / "audit_dependencies.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The shape pip-audit's `--format json` writes.
CLEAN = {"name": "anyio", "version": "4.9.0", "vulns": []}
VULNERABLE = {
    "name": "urllib3",
    "version": "1.26.4",
    "vulns": [
        {
            "id": "PYSEC-2021-108",
            "fix_versions": ["1.26.5"],
            "aliases": ["CVE-2021-33503", "GHSA-q2q7-5pp4-w6pg"],
            "description": "catastrophic backtracking in URL authority parsing",
        }
    ],
}
UNKNOWN = {
    "name": "private-wheel",
    "skip_reason": "Dependency not found on PyPI and could not be audited: private-wheel (1.0)",
}


def test_a_known_vulnerability_fails_the_run_and_is_printed() -> None:
    code, lines = audit_module().judge({"dependencies": [CLEAN, VULNERABLE]}, strict=False)
    assert code == 1
    assert lines[0] == (
        "VULNERABLE urllib3 1.26.4: PYSEC-2021-108 (CVE-2021-33503, GHSA-q2q7-5pp4-w6pg); "
        "fixed in 1.26.5"
    )
    assert "2 of 2 locked packages audited, 1 known vulnerabilities" in lines[-1]


def test_a_clean_lock_passes() -> None:
    code, lines = audit_module().judge({"dependencies": [CLEAN]}, strict=True)
    assert code == 0
    assert lines == ["dependency audit: 1 of 1 locked packages audited, 0 known vulnerabilities"]


def test_packages_that_could_not_be_audited_are_named_and_fail_only_when_strict() -> None:
    audit = audit_module()
    lenient, lines = audit.judge({"dependencies": [CLEAN, UNKNOWN]}, strict=False)
    strict, _ = audit.judge({"dependencies": [CLEAN, UNKNOWN]}, strict=True)
    assert (lenient, strict) == (0, 1)
    assert any(line.startswith("NOT AUDITED (1;") and "private-wheel" in line for line in lines)
    # A vulnerability still fails whatever else could not be looked up.
    assert audit.judge({"dependencies": [VULNERABLE, UNKNOWN]}, strict=False)[0] == 1
