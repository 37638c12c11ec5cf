"""Every migration's upgrade() is additive (expand only), so during an upgrade the version before
can keep running beside the new one on the same PostgreSQL database for as long as the roll-out
takes (docs/operations.md, "Upgrades"): no table or column dropped or renamed, no type changed, no
column made NOT NULL without a server default. A migration that must contract says so with
CONTRACT = "<why, and which release stopped using it>" and ships a release after the expand."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

VERSIONS = ROOT / "migrations" / "versions"
BREAKING_CALLS = {"drop_table", "drop_column", "rename_table", "drop_constraint"}


def upgrade_body(tree: ast.Module) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "upgrade":
            return node
    raise AssertionError("no upgrade()")


def is_contract(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "CONTRACT" for t in node.targets)
        for node in tree.body
    )


def keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    if is_contract(tree):
        return []
    found = []
    for node in ast.walk(upgrade_body(tree)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        where = f"{path.name}:{node.lineno} {name}"
        if name in BREAKING_CALLS:
            found.append(f"{where}: the version still running uses what this removes")
        elif name == "alter_column":
            if keyword(node, "new_column_name") is not None:
                found.append(f"{where}: a rename breaks the version still running")
            if keyword(node, "type_") is not None:
                found.append(f"{where}: a type change can break the version still running")
            nullable = keyword(node, "nullable")
            if isinstance(nullable, ast.Constant) and nullable.value is False:
                found.append(f"{where}: NOT NULL breaks inserts of the version still running")
        elif name == "add_column":
            column = node.args[-1] if node.args else None
            if isinstance(column, ast.Call):
                nullable = keyword(column, "nullable")
                not_null = isinstance(nullable, ast.Constant) and nullable.value is False
                if not_null and keyword(column, "server_default") is None:
                    found.append(
                        f"{where}: a NOT NULL column needs a server_default, or the version "
                        "still running cannot insert rows"
                    )
    return found


def test_every_upgrade_is_additive_so_two_versions_can_run_side_by_side() -> None:
    found = [p for path in sorted(VERSIONS.glob("*.py")) for p in problems(path)]
    assert found == [], "\n".join(found)


def test_the_check_finds_a_breaking_migration(tmp_path: Path) -> None:
    planted = tmp_path / "9999_breaking.py"
    planted.write_text(
        "def upgrade():\n"
        "    op.drop_column('idea', 'title')\n"
        "    with op.batch_alter_table('idea') as batch_op:\n"
        "        batch_op.alter_column('owner_id', new_column_name='owner')\n"
        "        batch_op.add_column(sa.Column('x', sa.Integer(), nullable=False))\n"
        "    op.add_column('idea', sa.Column('y', sa.Integer(), nullable=False, server_default='0'))\n"
    )
    found = problems(planted)
    assert len(found) == 3, found
    marked = tmp_path / "9998_contract.py"
    marked.write_text(
        "CONTRACT = 'idea.title unused since 0.3'\ndef upgrade():\n    op.drop_column('idea', 'title')\n"
    )
    assert problems(marked) == []
