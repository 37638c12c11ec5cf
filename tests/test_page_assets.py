"""What a phone downloads (issue 16, item 2): the NHS.UK styles built with only the components our
pages use, and htmx only on the pages that use it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import Client

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "web" / "templates"
SUBSET_CSS = ROOT / "web" / "static" / "css" / "nhsuk.min.css"
FULL_CSS = ROOT / "web" / "static" / "vendor" / "nhsuk-frontend" / "nhsuk-frontend.min.css"
HTMX = "/static/vendor/htmx/htmx.min.js"


def _built_by(node: str, script: str) -> str:
    """What scripts/<script> writes from the locked npm packages (to its standard output)."""
    return subprocess.run(
        [node, f"scripts/{script}", "--stdout"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


def test_the_committed_nhsuk_css_is_what_the_build_script_makes_from_the_locked_packages() -> None:
    node = shutil.which("node")
    assert node, "node is needed (make setup; see README)"
    assert (ROOT / "node_modules" / "sass").is_dir(), (
        "run npm ci: sass and nhsuk-frontend are dev deps"
    )
    built = _built_by(node, "build_nhsuk_css.mjs")
    assert built == SUBSET_CSS.read_text(), (
        "web/static/css/nhsuk.min.css is stale: run `node scripts/build_nhsuk_css.mjs` "
        "(then set SHELL_DIGEST and bump VERSION in service_worker/version.js)"
    )


def test_the_subset_is_smaller_and_has_no_font_face_or_foreign_url() -> None:
    css = SUBSET_CSS.read_text()
    assert len(css) < len(FULL_CSS.read_text())
    assert "@font-face" not in css and "@import" not in css
    for url in re.findall(r"url\(\"?([^\")]+)", css):
        assert url.startswith("/static/vendor/nhsuk-frontend/assets/images/"), url
        assert (ROOT / "web" / url.lstrip("/")).is_file(), url


def _selector_classes(css: str) -> set[str]:
    return set(re.findall(r"\.(nhsuk-[a-zA-Z0-9_-]+)", css))


PAGES = {
    "crew": ["/", "/handovers/new", "/ideas/new", "/mine", "/outbox", "/logout", "/account"],
    "manager": ["/triage", "/handovers", "/measures", "/huddle", "/learning", "/readiness"],
    "admin": ["/admin/users"],
    "partner": ["/partner", "/partner/pack"],
    "anonymous": ["/login", "/signup", "/offline"],
}


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_nhsuk_class_a_page_uses_that_the_full_build_styles_is_in_the_subset(
    role: str, request: pytest.FixtureRequest
) -> None:
    """Rendered pages, so the macros' own classes count: a class the full NHS.UK build has rules
    for must have them in ours. (Classes no build styles are JavaScript hooks.)"""
    client: Client = request.getfixturevalue("client" if role == "anonymous" else role)
    full = _selector_classes(FULL_CSS.read_text())
    subset = _selector_classes(SUBSET_CSS.read_text())
    for path in PAGES[role]:
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        used = {
            name
            for value in re.findall(r'class="([^"]*)"', page.text)
            for name in value.split()
            if name.startswith("nhsuk-")
        }
        assert used, path
        missing = sorted((used & full) - subset)
        assert not missing, f"{path}: {missing} are styled by NHS.UK but not in nhsuk.min.css"


def _templates_reached(name: str, seen: set[str] | None = None) -> set[str]:
    """`name` and every template of ours it includes, imports or extends."""
    seen = seen if seen is not None else set()
    file = TEMPLATES / name
    if name in seen or not file.is_file():
        return seen
    seen.add(name)
    for other in re.findall(
        r"\{%-?\s*(?:extends|include|from|import)\s+\"([^\"]+)\"", file.read_text()
    ):
        _templates_reached(other, seen)
    return seen


def test_a_page_loads_htmx_exactly_when_it_or_a_partial_it_includes_uses_hx_attributes() -> None:
    pages = [
        p.relative_to(TEMPLATES).as_posix()
        for p in TEMPLATES.rglob("*.html")
        if '{% extends "base.html" %}' in p.read_text()
    ]
    assert len(pages) > 20
    for name in pages:
        reached = _templates_reached(name) - {"base.html"}
        uses_hx = any(re.search(r"\shx-[a-z]", (TEMPLATES / t).read_text()) for t in reached)
        says_so = "{% set uses_htmx = true %}" in (TEMPLATES / name).read_text()
        assert uses_hx == says_so, (
            f"{name}: uses hx-* attributes but does not set uses_htmx"
            if uses_hx
            else f"{name}: sets uses_htmx but no hx-* attribute needs it"
        )


def test_the_capture_forms_and_home_load_no_htmx(crew: Client) -> None:
    for path in ("/", "/handovers/new", "/ideas/new", "/mine", "/outbox"):
        page = crew.get(path).text
        assert HTMX not in page, path
        assert "htmx-config" not in page, path
        # The rest of the page is still all there: its own scripts and the subset styles.
        assert '<link rel="stylesheet" href="/static/css/nhsuk.min.css">' in page, path
        assert "/static/js/outbox-client.js" in page, path


def test_the_managers_htmx_pages_still_load_it(manager: Client) -> None:
    for path in ("/triage", "/handovers", "/huddle"):
        page = manager.get(path).text
        assert f'<script src="{HTMX}" defer></script>' in page, path
        assert "htmx-config" in page, path


# The NHS.UK JavaScript: only the components our pages use (scripts/build_nhsuk_js.mjs)

COMPONENTS_JS = ROOT / "web" / "static" / "js" / "nhsuk-components.min.js"
FULL_JS = ROOT / "web" / "static" / "vendor" / "nhsuk-frontend" / "nhsuk-frontend.min.js"


def test_the_committed_nhsuk_js_is_what_the_build_script_makes_from_the_locked_packages() -> None:
    node = shutil.which("node")
    assert node, "node is needed (make setup; see README)"
    assert (ROOT / "node_modules" / "esbuild").is_dir(), "run npm ci: esbuild is a dev dep"
    built = _built_by(node, "build_nhsuk_js.mjs")
    assert built == COMPONENTS_JS.read_text(), (
        "nhsuk-components.min.js is stale: run `node scripts/build_nhsuk_js.mjs` "
        "(then set SHELL_DIGEST and bump VERSION in service_worker/version.js)"
    )
    assert len(built) < len(FULL_JS.read_text()) / 2
    assert re.search(r"export\s*\{[^}]*\binitAll\b", built)


@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_nhsuk_module_a_page_renders_is_in_the_built_javascript(
    role: str, request: pytest.FixtureRequest
) -> None:
    """A data-module="nhsuk-…" on a page whose component is not built would silently do nothing
    (a header menu that never opens)."""
    client: Client = request.getfixturevalue("client" if role == "anonymous" else role)
    built = COMPONENTS_JS.read_text()
    full = FULL_JS.read_text()
    for path in PAGES[role]:
        page = client.get(path)
        for module in set(re.findall(r'data-module="(nhsuk-[a-z-]+)"', page.text)):
            if f'moduleName="{module}"' in full:  # a component with JavaScript
                assert f'moduleName="{module}"' in built, f"{path}: {module} is not built"
    # And the client-made error summary (web/static/js/nhs-components.js).
    assert 'moduleName="nhsuk-error-summary"' in built
    for unused in ("nhsuk-tabs", "nhsuk-character-count", "nhsuk-file-upload"):
        assert f'moduleName="{unused}"' not in built


def test_the_committed_minified_scripts_are_what_the_build_script_makes(tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node, "node is needed (make setup; see README)"
    subprocess.run(
        [node, "scripts/build_min_js.mjs", "--out", str(tmp_path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    committed = ROOT / "web" / "static" / "min"
    for part, sources in (("js", ROOT / "web" / "static" / "js"), ("sw", ROOT / "service_worker")):
        built = {f.name: f.read_text() for f in (tmp_path / part).glob("*.js")}
        # One minified copy for every script as written (its .min.js builds aside).
        assert set(built) == {
            f.name for f in sources.glob("*.js") if not f.name.endswith(".min.js")
        }
        stale = sorted(
            name
            for name, code in built.items()
            if not (committed / part / name).is_file()
            or (committed / part / name).read_text() != code
        )
        assert not stale, (
            f"web/static/min/{part}/ is stale for {stale}: run `node scripts/build_min_js.mjs` "
            "after changing a script"
        )
        assert {f.name for f in (committed / part).glob("*.js")} == set(built)


def test_pages_and_the_worker_get_the_minified_scripts(client: Client) -> None:
    minified = ROOT / "web" / "static" / "min"
    for url, copy in (
        ("/static/js/outbox-client.js", minified / "js" / "outbox-client.js"),
        ("/sw/outbox.js", minified / "sw" / "outbox.js"),
        ("/sw.js", minified / "sw" / "sw.js"),
    ):
        response = client.http.get(url)
        assert response.status_code == 200
        assert response.text == copy.read_text()
        assert "\n *" not in response.text  # no comment blocks left
