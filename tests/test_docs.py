"""The README tells the truth about configuration: every setting is documented, nothing extra."""

from __future__ import annotations

import re
import subprocess

import pytest

from api.config import Settings
from tests.conftest import ROOT

pytestmark = pytest.mark.no_database  # pure code (tests/conftest.py)


def documented_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE))


def setting_variables() -> set[str]:
    return {
        "DATABASE_URL" if name == "database_url" else f"FRONTLINE_{name.upper()}"
        for name in Settings.model_fields
    }


def test_every_setting_is_documented_in_the_readme_and_nothing_else_is() -> None:
    assert documented_variables() == setting_variables()


def test_no_file_in_the_repository_keeps_a_merge_conflict() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    markers = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
    conflicted = [
        name
        for name in tracked
        if name.endswith((".py", ".md", ".js", ".html", ".css", ".json", ".toml", ".yml", ".sh"))
        and markers.search((ROOT / name).read_text(errors="replace"))
    ]
    assert conflicted == []
