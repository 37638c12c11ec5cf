"""What a phone downloads (issue 16, item 2): the NHS.UK styles built with only the components our
pages use, and htmx only on the pages that use it."""

from __future__ import annotations

import hashlib
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


def test_rules_for_classes_no_page_can_carry_are_left_out_and_the_others_kept() -> None:
    """Issue 16: the stylesheet blocks a phone's first paint. Left out: utilities nothing writes
    (scripts/build_nhsuk_css.mjs unusedLeftOut). Kept: a class our templates write, one an NHS.UK
    template makes from parts (`classPrefix ~ size`), one of our prefixes completed at run time
    (`nhsuk-tag--` ~ colour) and one the header's script adds."""
    full = _selector_classes(FULL_CSS.read_text())
    subset = _selector_classes(SUBSET_CSS.read_text())
    unused = {"nhsuk-u-padding-top-9", "nhsuk-u-static-margin-left-3", "nhsuk-u-display-none"}
    assert unused <= full
    assert not unused & subset
    kept = {
        "nhsuk-u-margin-bottom-0",  # mine.html
        "nhsuk-caption-xl",  # caption/template: classPrefix ~ params.size
        "nhsuk-tag--red",  # "nhsuk-tag--" ~ params.colour
        "nhsuk-header__menu-toggle",  # the header's script
    }
    assert kept <= full
    assert kept <= subset


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


def _hashed(client: Client, url: str) -> str:
    """The content-hashed URL pages use for `url` (api/static_assets.py)."""
    return str(client.http.app.state.static_assets.url(url))  # type: ignore[attr-defined]


def test_the_capture_forms_and_home_load_no_htmx(crew: Client) -> None:
    for path in ("/", "/handovers/new", "/ideas/new", "/mine", "/outbox"):
        page = crew.get(path).text
        assert "/static/vendor/htmx/" not in page, path
        assert "htmx-config" not in page, path
        # The rest of the page is still all there: its own scripts and the subset styles.
        css = _hashed(crew, "/static/css/nhsuk.min.css")
        assert f'<link rel="stylesheet" href="{css}">' in page, path
        assert _hashed(crew, "/static/js/page.bundle.js") in page, path


def test_the_managers_htmx_pages_still_load_it(manager: Client) -> None:
    for path in ("/triage", "/handovers", "/huddle"):
        page = manager.get(path).text
        assert f'<script src="{_hashed(manager, HTMX)}" defer></script>' in page, path
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
        # One minified copy for every script as written (its .min.js builds aside), and the
        # bundles (service_worker/caches.js BUNDLES), which have no source file of their own.
        bundles = {f.name for f in (tmp_path / part).glob("*.bundle.js")}
        assert bundles, part
        assert set(built) == bundles | {
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


def test_the_minified_scripts_do_not_depend_on_the_shell_digest(tmp_path: Path) -> None:
    """Setting SHELL_DIGEST (service_worker/version.js) changes its literal in the built scripts
    and nothing else: the digest covers the outbox-core bundle, which holds version.js, so a
    digest that changed the rest of the bundle (esbuild names identifiers by the file's character
    counts) could change itself, two values taking turns."""
    node = shutil.which("node")
    assert node, "node is needed (make setup; see README)"
    copy = tmp_path / "repo"
    (copy / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "build_min_js.mjs", copy / "scripts")
    shutil.copytree(ROOT / "service_worker", copy / "service_worker")
    shutil.copytree(ROOT / "web" / "static" / "js", copy / "web" / "static" / "js")
    shutil.copytree(ROOT / "web" / "static" / "vendor", copy / "web" / "static" / "vendor")
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    version = copy / "service_worker" / "version.js"
    current = re.search(r"var SHELL_DIGEST = '([0-9a-f]{16})';", version.read_text())
    assert current, "version.js names its SHELL_DIGEST as before"
    other = "bbbbbbbbbbbbbbbb" if current[1] != "bbbbbbbbbbbbbbbb" else "dddddddddddddddd"
    version.write_text(version.read_text().replace(current[1], other))
    subprocess.run(
        [node, "scripts/build_min_js.mjs"], cwd=copy, check=True, capture_output=True, timeout=120
    )
    committed = ROOT / "web" / "static" / "min"
    holding = []
    for built in sorted((copy / "web" / "static" / "min").glob("*/*.js")):
        text = built.read_text()
        if other in text:
            holding.append(built.name)
        expected = (committed / built.parent.name / built.name).read_text()
        assert text.replace(f'"{other}"', f'"{current[1]}"') == expected, built.name
    assert holding == ["outbox-core.bundle.js", "version.js"]


def test_pages_and_the_worker_get_the_minified_scripts(client: Client) -> None:
    minified = ROOT / "web" / "static" / "min"
    for url, copy in (
        ("/static/js/outbox-client.js", minified / "js" / "outbox-client.js"),
        ("/sw/outbox.js", minified / "sw" / "outbox.js"),
        ("/static/js/page.bundle.js", minified / "js" / "page.bundle.js"),
        ("/sw/outbox-core.bundle.js", minified / "sw" / "outbox-core.bundle.js"),
        ("/sw.js", minified / "sw" / "sw.js"),
    ):
        for sent in {url, url if url == "/sw.js" else _hashed(client, url)}:
            response = client.http.get(sent)
            assert response.status_code == 200
            # The copy, with the URLs it names (the worker's importScripts) at their hashed names.
            assert _plain(response.text) == copy.read_text()
            assert "\n *" not in response.text  # no comment blocks left


# Content-hashed URLs (api/static_assets.py, docs/decisions/0010-content-hashed-static-urls.md)

IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_URL = re.compile(r"/(?:static|sw)/[A-Za-z0-9_./-]+")
HASHED = re.compile(r"\.([0-9a-f]{10})(\.[A-Za-z0-9]+)$")


def _plain(text: str) -> str:
    return re.sub(
        r"(/(?:static|sw)/[A-Za-z0-9_./-]+?)\.[0-9a-f]{10}(\.[A-Za-z0-9]+)", r"\1\2", text
    )


def _page_assets(html: str) -> list[str]:
    return [u for u in re.findall(r'(?:src|href)="([^"]+)"', html) if STATIC_URL.fullmatch(u)]


@pytest.mark.parametrize("role", sorted(PAGES))
def test_pages_name_every_static_file_by_its_content_hash_and_it_is_sent_immutable(
    role: str, request: pytest.FixtureRequest
) -> None:
    client: Client = request.getfixturevalue("client" if role == "anonymous" else role)
    for path in PAGES[role]:
        assets = _page_assets(client.get(path).text)
        assert assets, path
        for url in assets:
            match = HASHED.search(url)
            assert match, f"{path} names {url} without its hash"
            response = client.http.get(url)
            assert response.status_code == 200, (path, url)
            assert response.headers["cache-control"] == IMMUTABLE, url
            assert hashlib.sha256(response.content).hexdigest()[:10] == match[1], url


def test_a_hashed_url_names_the_bytes_served_and_the_files_they_name(client: Client) -> None:
    css_url = _hashed(client, "/static/css/nhsuk.min.css")
    css = client.http.get(css_url)
    icons = re.findall(r'url\("([^"]+)"\)', css.text)
    assert icons and all(HASHED.search(icon) for icon in icons)
    for icon in set(icons):
        assert client.http.get(icon).headers["cache-control"] == IMMUTABLE
    # The worker's importScripts and precache list are hashed too.
    worker = client.http.get("/sw.js").text
    assert _hashed(client, "/sw/caches.js") in worker and '"/sw/caches.js"' not in worker


def test_the_plain_url_still_works_and_is_always_revalidated(client: Client) -> None:
    """What an older page copy or an older worker asks for: the current file, never stale."""
    for url in ("/static/js/app.js", "/static/css/nhsuk.min.css", "/sw/outbox.js", "/sw.js"):
        response = client.http.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "no-cache", url
        again = client.http.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304, url
    # Never immutable, and never at a hashed URL: the worker's script must be seen to change.
    assert client.http.get("/sw.js").headers["cache-control"] == "no-cache"
    assert client.http.get("/sw/sw.js").headers["cache-control"] == "no-cache"


def test_another_hash_for_a_file_is_404_not_the_current_file(client: Client) -> None:
    hashed = _hashed(client, "/static/js/app.js")
    digest = HASHED.search(hashed)[1]  # type: ignore[index]
    for wrong in ("0000000000", "ffffffffff", digest[::-1]):
        if wrong != digest:
            assert client.http.get(hashed.replace(digest, wrong)).status_code == 404
    assert client.http.get("/static/js/no-such-file.0123456789.js").status_code == 404
    assert client.http.get("/sw/sw.0123456789.js").status_code == 404
    assert client.http.get("/static/js/app.0123456789.js.map").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/static/js/%00.js", "/sw/%00.js", "/static/%00", "/static/js/app.0123456789%00.js"],
)
def test_a_path_with_a_nul_byte_is_404_not_a_server_error(client: Client, url: str) -> None:
    assert client.http.get(url).status_code == 404


def test_a_changed_file_gets_a_new_url_and_so_does_the_file_that_names_it(tmp_path: Path) -> None:
    from api.static_assets import StaticAssets

    (tmp_path / "css").mkdir()
    (tmp_path / "img").mkdir()
    icon = tmp_path / "img" / "icon.svg"
    icon.write_text("<svg>one</svg>")
    (tmp_path / "css" / "site.css").write_text('a{background:url("/static/img/icon.svg")}')
    assets = StaticAssets({"/static/": [tmp_path]}, recheck_seconds=0)
    first_css, first_icon = assets.url("/static/css/site.css"), assets.url("/static/img/icon.svg")
    asset = assets.asset("/static/css/site.css")
    assert asset is not None and asset.body is not None and first_icon.encode() in asset.body

    icon.write_text("<svg>two, a new version</svg>")
    assert assets.url("/static/img/icon.svg") != first_icon
    assert assets.url("/static/css/site.css") != first_css  # it names the icon's new URL
    with pytest.raises(LookupError):
        assets.url("/static/css/missing.css")
    assert assets.find("/static/../secret") is None


def test_the_worker_precaches_the_hashed_urls_the_offline_pages_use(
    crew: Client, client: Client
) -> None:
    """The precache list the server sends (caches.js, rewritten) against what the pages that open
    offline actually reference: every one of them is precached, by the same hashed URL."""
    worker = client.http.get("/sw.js").text
    caches_url = re.search(r'"(/sw/caches\.[0-9a-f]{10}\.js)"', worker)
    assert caches_url
    caches_js = client.http.get(caches_url[1]).text
    listed = re.search(r"=Object\.freeze\(\[([^\]]*\/static\/[^\]]*)\]\)", caches_js)
    assert listed
    precached = set(re.findall(r'"([^"]+)"', listed[1]))
    assert all(HASHED.search(u) for u in precached if STATIC_URL.fullmatch(u))
    used: set[str] = set()
    for path in ("/", "/handovers/new", "/ideas/new", "/outbox", "/mine", "/logout"):
        used |= set(_page_assets(crew.get(path).text))
    for path in ("/offline", "/login"):
        used |= set(_page_assets(client.get(path).text))
    init = client.http.get(_hashed(client, "/static/js/nhsuk-init.js")).text
    used |= set(re.findall(r'from"([^"]+)"', init.replace(" ", "")))
    assert used and used <= precached, sorted(used - precached)
    # The worker's own imports are the pages' files too: one download serves both.
    imports = set(re.findall(r'"(/(?:sw|static)/[^"]+)"', worker.split(")", 1)[0]))
    core = _hashed(client, "/sw/outbox-core.bundle.js")
    assert core in imports and core in used


def test_a_file_replaced_while_it_is_served_is_not_sent_under_its_old_hash(tmp_path: Path) -> None:
    """A deploy that replaces files under a running process: the bytes read must be the bytes the
    URL names, or nothing is sent (a year in every cache under the wrong name otherwise)."""
    from starlette.datastructures import Headers

    from api.static_assets import StaticAssets, asset_response

    script = tmp_path / "app.js"
    script.write_text("one();")
    assets = StaticAssets({"/static/": [tmp_path]}, recheck_seconds=3600)
    asset = assets.asset("/static/app.js")
    assert asset is not None
    assert asset_response(asset, Headers(), hashed=True).status_code == 200
    script.write_text("two();")
    assert asset_response(asset, Headers(), hashed=True).status_code == 404
    # Asked again as a hashed URL is (fresh), the new file has its own URL.
    fresh = assets.asset("/static/app.js", fresh=True)
    assert fresh is not None and fresh.hashed_url != asset.hashed_url
    assert assets.url("/static/app.js") == fresh.hashed_url  # and pages name it from then on


def test_the_capture_forms_load_their_scripts_as_bundles(crew: Client) -> None:
    """Issue 16: each script file a capture form names is one more request before its first paint
    on one bar of signal. The page's scripts come as the bundles of service_worker/caches.js
    BUNDLES (the outbox core, every page's, the form's), order kept; never a bundled part on its
    own beside its bundle (it would run twice)."""
    for path in ("/handovers/new", "/ideas/new"):
        page = crew.get(path).text
        scripts = [_plain(u) for u in re.findall(r'<script[^>]* src="([^"]+)"', page)]
        assert scripts == [
            "/static/js/nhsuk-init.js",  # the NHS.UK components (an ES module)
            "/sw/outbox-core.bundle.js",
            "/static/js/page.bundle.js",
            "/static/js/js-enabled.js",  # in <body>, blocking: classes set before first paint
            "/static/js/form.bundle.js",
        ], path
        for url in re.findall(r'<script[^>]* src="([^"]+)"', page):
            assert HASHED.search(url), url
        # The NHS.UK components come inside nhsuk-init.js: nothing more to fetch or preload.
        assert "modulepreload" not in page, path
    init = crew.http.get(_hashed(crew, "/static/js/nhsuk-init.js")).text
    assert not re.search(r"\bimport\b", init)
    assert 'moduleName="nhsuk-header"' in init and "frontline:content" in init
