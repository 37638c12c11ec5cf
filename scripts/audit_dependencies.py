"""Known vulnerabilities in the locked Python dependencies: pip-audit over what uv.lock pins.

Exit 1, printing each finding (package, version, advisory, fixed versions), when any locked
dependency has a known vulnerability; exit 2 when the audit itself could not run (no network, a
tool error): a check that did not run is not a pass. Packages the vulnerability service had no
record of are listed as not audited; with FRONTLINE_AUDIT_STRICT=1 they fail the run too.
What this can and cannot tell is in docs/security.md ("Dependency audit")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UV = ROOT / ".tools" / "bin" / "uv"


def locked_requirements() -> str:
    """Every package uv.lock pins, for every group (the dev tools run in CI too), without hashes."""
    return subprocess.run(  # noqa: S603 - a fixed command line, nothing from input
        [str(UV), "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def run_pip_audit(requirements: str) -> tuple[int, dict[str, Any] | None, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
        file.write(requirements)
    try:
        result = subprocess.run(  # noqa: S603 - a fixed command line, nothing from input
            [
                sys.executable,
                "-m",
                "pip_audit",
                "--requirement",
                file.name,
                "--disable-pip",
                "--no-deps",  # the lock pins every package already
                "--format",
                "json",
                "--progress-spinner",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        Path(file.name).unlink()
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = None
    return result.returncode, report, result.stderr


def judge(report: dict[str, Any], *, strict: bool) -> tuple[int, list[str]]:
    """The exit code and what to print, from pip-audit's JSON report."""
    lines: list[str] = []
    found = 0
    unaudited: list[str] = []
    dependencies = report.get("dependencies", [])
    for dependency in dependencies:
        name, version = dependency.get("name", "?"), dependency.get("version", "")
        if "skip_reason" in dependency:
            unaudited.append(name)
            continue
        for vuln in dependency.get("vulns", []):
            found += 1
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
            aliases = ", ".join(vuln.get("aliases") or [])
            lines.append(
                f"VULNERABLE {name} {version}: {vuln.get('id')}"
                + (f" ({aliases})" if aliases else "")
                + f"; fixed in {fixed}"
            )
    audited = len(dependencies) - len(unaudited)
    lines.append(
        f"dependency audit: {audited} of {len(dependencies)} locked packages audited, "
        f"{found} known vulnerabilities"
    )
    if unaudited:
        lines.append(
            f"NOT AUDITED ({len(unaudited)}; the service had no record of these versions): "
            + ", ".join(unaudited)
        )
    if found:
        return 1, lines
    if unaudited and strict:
        lines.append("FRONTLINE_AUDIT_STRICT=1: packages that could not be audited fail the run")
        return 1, lines
    return 0, lines


def main() -> int:
    code, report, errors = run_pip_audit(locked_requirements())
    if report is None or code not in (0, 1):
        print(errors.strip() or f"pip-audit exited {code} without a report", file=sys.stderr)
        print("dependency audit could not run: not a pass", file=sys.stderr)
        return 2
    result, lines = judge(report, strict=os.environ.get("FRONTLINE_AUDIT_STRICT") == "1")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    sys.exit(main())
