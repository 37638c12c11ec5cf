#!/usr/bin/env bash
# Refresh the vendored third-party front-end files in web/static/vendor/.
#
# Usage:  scripts/refresh_vendor.sh
#
# Needs: bash, node + npm (v20 is fine), tar, and access to the npm registry.
# Nothing is installed into the repository: every package is fetched with
# `npm pack` into a temporary directory, and the Sass compiler is installed
# into that same temporary directory and thrown away afterwards.
#
# What it writes (and nothing else):
#   web/static/vendor/nhsuk-frontend/   CSS (compiled here, see below), JS bundle, assets
#   web/static/vendor/htmx/             htmx.min.js
#   web/static/vendor/idb/              idb.umd.js (classic script / importScripts) + idb.mjs
#   web/static/vendor/swagger-ui/       swagger-ui-bundle.js + swagger-ui.css for the /docs page
#   web/static/vendor/manifest.json     machine-readable record (versions, integrity, sha256)
#   web/static/vendor/VERSIONS.md       human-readable record + how pages load these files
#
# Why the NHS.UK CSS is compiled instead of copied: the CSS shipped in
# nhsuk-frontend's dist/ has @font-face rules that load the Frutiger web font
# from https://assets.nhs.uk/ and image url()s rooted at /assets/. Frontline
# must not make requests to third-party hosts and its CSP is `default-src
# 'self'`, so we compile the package's own SCSS with the default font-face
# turned off (fonts fall back to Arial) and the image path pointed at the
# vendored assets.
#
# To bump a version: edit the pins below, run this script, review `git diff`,
# check VERSIONS.md, and commit. NHSUK_FRONTEND_VERSION must stay in step with
# the nhsuk-frontend version the Python package nhsuk-frontend-jinja targets
# (nhsuk-frontend-jinja 0.10.2 renders nhsuk-frontend 10.6.1 markup).
set -euo pipefail

# ---------------------------------------------------------------------------
# Pins
# ---------------------------------------------------------------------------
NHSUK_FRONTEND_VERSION="10.6.1"
HTMX_VERSION="2.0.11"      # latest 2.0.x at the time of pinning; we use htmx 2, not 4
IDB_VERSION="8.0.4"
SWAGGER_UI_VERSION="5.35.0"  # swagger-ui-dist; latest 5.x at the time of pinning
SASS_VERSION="1.108.2"     # build tool only (dart-sass, pure JS); not vendored

# URL path the NHS.UK CSS uses for its images. The vendor directory is served
# at /static/vendor/, so this must match where assets/ is copied below.
NHSUK_ASSETS_URL="/static/vendor/nhsuk-frontend/assets/"

# ---------------------------------------------------------------------------
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
vendor_dir="$repo_root/web/static/vendor"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/refresh_vendor.XXXXXX")"
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

stage="$tmp/stage"           # mirrors web/static/vendor/ until everything checks out
packs="$tmp/packs"           # npm pack output (tarballs + --json metadata)
mkdir -p "$stage" "$packs"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'refresh_vendor: error: %s\n' "$*" >&2; exit 1; }

command -v npm >/dev/null || die "npm is not on PATH"
command -v node >/dev/null || die "node is not on PATH"
command -v tar >/dev/null || die "tar is not on PATH"

# Keep npm quiet and self-contained: no audit/fund chatter, no update nag,
# no cache writes outside the temp dir.
export npm_config_audit=false
export npm_config_fund=false
export npm_config_update_notifier=false
export npm_config_cache="$tmp/npm-cache"

# pack NAME VERSION -> extracts to $tmp/src/NAME/ and records $packs/NAME.json
pack() {
  local name="$1" version="$2" meta tarball
  log "npm pack $name@$version"
  meta="$packs/$name.json"
  npm pack "$name@$version" --json --pack-destination "$packs" >"$meta" 2>"$packs/$name.log" \
    || { cat "$packs/$name.log" >&2; die "npm pack $name@$version failed"; }
  tarball="$(node -e '
    const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))[0];
    if (m.name !== process.argv[2] || m.version !== process.argv[3]) {
      console.error(`got ${m.name}@${m.version}, wanted ${process.argv[2]}@${process.argv[3]}`);
      process.exit(1);
    }
    process.stdout.write(m.filename);
  ' "$meta" "$name" "$version")" || die "unexpected npm pack result for $name@$version"
  mkdir -p "$tmp/src/$name"
  tar -xzf "$packs/$tarball" -C "$tmp/src/$name" --strip-components=1
}

pack nhsuk-frontend "$NHSUK_FRONTEND_VERSION"
pack htmx.org "$HTMX_VERSION"
pack idb "$IDB_VERSION"
pack swagger-ui-dist "$SWAGGER_UI_VERSION"

# ---------------------------------------------------------------------------
# nhsuk-frontend
# ---------------------------------------------------------------------------
nhsuk_src="$tmp/src/nhsuk-frontend/dist/nhsuk"
nhsuk_out="$stage/nhsuk-frontend"
mkdir -p "$nhsuk_out"

[[ -f "$nhsuk_src/nhsuk-frontend.min.js" ]] || die "nhsuk-frontend: dist/nhsuk/nhsuk-frontend.min.js missing"
[[ -d "$nhsuk_src/assets/images" ]] || die "nhsuk-frontend: dist/nhsuk/assets/images missing"

log "installing sass@$SASS_VERSION into the temp dir"
npm install --prefix "$tmp/sass" --no-save --ignore-scripts --no-package-lock \
  "sass@$SASS_VERSION" >"$tmp/sass-install.log" 2>&1 \
  || { cat "$tmp/sass-install.log" >&2; die "npm install sass@$SASS_VERSION failed"; }
sass_bin="$tmp/sass/node_modules/.bin/sass"
[[ -x "$sass_bin" ]] || die "sass binary not found after install"

# Entry point: the whole of NHS.UK frontend (same as dist/nhsuk/index.scss),
# configured so that:
#  - no @font-face is emitted (nothing is fetched from assets.nhs.uk); with
#    $nhsuk-font-family not naming "Frutiger W01" the package also turns
#    $nhsuk-include-default-font-face off by itself, set explicitly as well;
#  - image url()s point at the vendored assets.
# 10.x only sets `html { font-family }` inside its font-face branch, so we set
# it ourselves, otherwise pages would render in the browser's default serif.
cat >"$tmp/frontline-nhsuk.scss" <<SCSS
@use "nhsuk" as nhsuk with (
  \$nhsuk-assets-path: "$NHSUK_ASSETS_URL",
  \$nhsuk-font-family: (arial, sans-serif),
  \$nhsuk-include-default-font-face: false
);

html {
  font-family: nhsuk.\$nhsuk-font-family;
}
SCSS

log "compiling nhsuk-frontend SCSS (no external font-face)"
"$sass_bin" --no-source-map --style=compressed --no-error-css \
  --load-path="$tmp/src/nhsuk-frontend/dist" \
  "$tmp/frontline-nhsuk.scss" "$nhsuk_out/nhsuk-frontend.min.css"

# JS bundle: an ES module (ends in `export { ..., initAll, ... }`), loaded with
# <script type="module">. The source map is copied so devtools can use it; it
# is only fetched when devtools are open.
cp "$nhsuk_src/nhsuk-frontend.min.js" "$nhsuk_out/nhsuk-frontend.min.js"
cp "$nhsuk_src/nhsuk-frontend.min.js.map" "$nhsuk_out/nhsuk-frontend.min.js.map"

# Assets: favicons, app icons, mask icon, Open Graph image, the icons the CSS
# uses, and the package's web app manifest (relative icon paths).
cp -R "$nhsuk_src/assets" "$nhsuk_out/assets"

# ---------------------------------------------------------------------------
# htmx
# ---------------------------------------------------------------------------
mkdir -p "$stage/htmx"
cp "$tmp/src/htmx.org/dist/htmx.min.js" "$stage/htmx/htmx.min.js"
cp "$tmp/src/htmx.org/LICENSE" "$stage/htmx/LICENSE"

# ---------------------------------------------------------------------------
# idb
# ---------------------------------------------------------------------------
mkdir -p "$stage/idb"
# build/umd.js: UMD; as a classic script (page <script> or a service worker's
# importScripts) it sets globalThis.idb = { openDB, deleteDB, wrap, unwrap }.
cp "$tmp/src/idb/build/umd.js" "$stage/idb/idb.umd.js"
# build/index.js: self-contained ES module, for `import { openDB } from ...`.
cp "$tmp/src/idb/build/index.js" "$stage/idb/idb.mjs"
cp "$tmp/src/idb/LICENSE" "$stage/idb/LICENSE"

# ---------------------------------------------------------------------------
# swagger-ui (the /docs page)
# ---------------------------------------------------------------------------
mkdir -p "$stage/swagger-ui"
# swagger-ui-bundle.js: UMD; as a classic script it sets the global SwaggerUIBundle
# (React and every dependency included). Only the bundle and its CSS are vendored:
# no standalone preset (its top bar loads specs from any URL), no ES bundles, no
# source maps. swagger-ui.css still ends in a sourceMappingURL comment; browsers
# only follow it with devtools open (a 404 there, nothing else).
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
  [[ -f "$tmp/src/swagger-ui-dist/$f" ]] || die "swagger-ui-dist: $f missing"
  cp "$tmp/src/swagger-ui-dist/$f" "$stage/swagger-ui/$f"
done

# ---------------------------------------------------------------------------
# Checks (fail before touching web/static/vendor/)
# ---------------------------------------------------------------------------
log "checking staged files"
node - "$stage" "$NHSUK_ASSETS_URL" <<'JS'
const fs = require("fs");
const path = require("path");
const [stage, assetsUrl] = process.argv.slice(2);
const fail = (msg) => { console.error(`refresh_vendor: check failed: ${msg}`); process.exit(1); };
const read = (p) => fs.readFileSync(path.join(stage, p), "utf8");

// CSS: no external or protocol-relative URLs, no @import, no @font-face,
// and every url() must resolve to a file we staged.
const css = read("nhsuk-frontend/nhsuk-frontend.min.css");
if (/@import/.test(css)) fail("CSS contains @import");
if (/@font-face/.test(css)) fail("CSS contains @font-face");
if (/Frutiger/i.test(css)) fail("CSS still mentions Frutiger");
const urls = [...css.matchAll(/url\(\s*(['"]?)(.*?)\1\s*\)/g)].map((m) => m[2]);
if (urls.length === 0) fail("CSS has no url() at all (asset path setting not applied?)");
for (const u of urls) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(u) && !u.startsWith("data:")) fail(`CSS url() with a scheme: ${u}`);
  if (u.startsWith("//")) fail(`CSS protocol-relative url(): ${u}`);
  if (u.startsWith("data:")) continue;
  if (!u.startsWith(assetsUrl)) fail(`CSS url() outside ${assetsUrl}: ${u}`);
  const rel = path.join("nhsuk-frontend/assets", u.slice(assetsUrl.length).split(/[?#]/)[0]);
  if (!fs.existsSync(path.join(stage, rel))) fail(`CSS url() ${u} -> missing ${rel}`);
}
if (!/html\{font-family:arial,sans-serif\}/.test(css)) fail("CSS is missing the html font-family rule");

// JS: sanity-check the shapes pages rely on.
const nhsukJs = read("nhsuk-frontend/nhsuk-frontend.min.js");
if (!/export\s*\{[^}]*\binitAll\b[^}]*\}/.test(nhsukJs)) fail("nhsuk-frontend.min.js does not export initAll");
if (!/\bvar htmx\s*=/.test(read("htmx/htmx.min.js"))) fail("htmx.min.js does not define a global htmx");
// Run the UMD build as a classic script with no module system, as
// importScripts would, and check it exposes the idb global.
const vm = require("vm");
const sandbox = {};
vm.createContext(sandbox);
vm.runInContext(read("idb/idb.umd.js"), sandbox);
if (typeof (sandbox.idb && sandbox.idb.openDB) !== "function") fail("idb.umd.js does not set globalThis.idb.openDB");
if (!/export\s*\{[^}]*\bopenDB\b/.test(read("idb/idb.mjs")) || /^\s*import\s/m.test(read("idb/idb.mjs")))
  fail("idb.mjs is not a self-contained ES module exporting openDB");

// swagger-ui: the CSS must fetch nothing (every url() a data: URI, no @import), and
// the bundle, run as a classic script, must define SwaggerUIBundle with the apis preset.
const swaggerCss = read("swagger-ui/swagger-ui.css");
if (/@import/.test(swaggerCss)) fail("swagger-ui.css contains @import");
const swaggerUrls = [...swaggerCss.matchAll(/url\(\s*['"]?\s*([^'")\s]*)/g)].map((m) => m[1]);
for (const u of swaggerUrls)
  if (!u.startsWith("data:")) fail(`swagger-ui.css url() that is not a data: URI: ${u.slice(0, 80)}`);
{
  const sandbox = { File: require("buffer").File, Blob, FormData, URL, URLSearchParams, TextEncoder, TextDecoder };
  vm.createContext(sandbox);
  vm.runInContext(read("swagger-ui/swagger-ui-bundle.js"), sandbox);
  const S = sandbox.SwaggerUIBundle;
  if (typeof S !== "function") fail("swagger-ui-bundle.js does not define a global SwaggerUIBundle");
  if (typeof (S.presets && S.presets.apis) !== "function") fail("SwaggerUIBundle.presets.apis missing");
}
for (const f of fs.readdirSync(path.join(stage, "swagger-ui")))
  if (f.endsWith(".map")) fail(`swagger-ui/${f}: source maps are not vendored`);

console.error(`    ${urls.length} CSS url()s, all under ${assetsUrl} and present`);
console.error(`    swagger-ui.css: ${swaggerUrls.length} url()s, all data: URIs; SwaggerUIBundle defined`);
JS

# ---------------------------------------------------------------------------
# Record: manifest.json + VERSIONS.md
# ---------------------------------------------------------------------------
log "writing manifest.json and VERSIONS.md"
node - "$stage" "$packs" "$NHSUK_FRONTEND_VERSION" "$HTMX_VERSION" "$IDB_VERSION" "$SASS_VERSION" "$NHSUK_ASSETS_URL" "$SWAGGER_UI_VERSION" <<'JS'
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");
const zlib = require("zlib");
const [stage, packs, nhsukV, htmxV, idbV, sassV, assetsUrl, swaggerV] = process.argv.slice(2);

const packMeta = (name) => JSON.parse(fs.readFileSync(path.join(packs, `${name}.json`), "utf8"))[0];
const walk = (dir) =>
  fs.readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
const fileInfo = (rel, source) => {
  const buf = fs.readFileSync(path.join(stage, rel));
  return {
    path: rel,
    bytes: buf.length,
    gzip_bytes: zlib.gzipSync(buf, { level: 9 }).length,
    sha256: crypto.createHash("sha256").update(buf).digest("hex"),
    source,
  };
};

const packages = [
  { name: "nhsuk-frontend", version: nhsukV, dir: "nhsuk-frontend", license: "MIT",
    source: (rel) => {
      const r = rel.slice("nhsuk-frontend/".length);
      if (r === "nhsuk-frontend.min.css")
        return `compiled by refresh_vendor.sh from dist/nhsuk/**/*.scss with sass@${sassV} (no @font-face, images at ${assetsUrl})`;
      return `dist/nhsuk/${r}`;
    } },
  { name: "htmx.org", version: htmxV, dir: "htmx", license: "0BSD",
    source: (rel) => ({ "htmx/htmx.min.js": "dist/htmx.min.js", "htmx/LICENSE": "LICENSE" })[rel] },
  { name: "idb", version: idbV, dir: "idb", license: "ISC",
    source: (rel) => ({ "idb/idb.umd.js": "build/umd.js", "idb/idb.mjs": "build/index.js", "idb/LICENSE": "LICENSE" })[rel] },
  { name: "swagger-ui-dist", version: swaggerV, dir: "swagger-ui", license: "Apache-2.0",
    source: (rel) => rel.slice("swagger-ui/".length) },
].map((p) => {
  const meta = packMeta(p.name);
  const files = walk(path.join(stage, p.dir)).map((abs) => {
    const rel = path.relative(stage, abs).split(path.sep).join("/");
    return fileInfo(rel, p.source(rel));
  });
  return {
    name: p.name, version: meta.version, license: p.license,
    tarball: meta.filename, integrity: meta.integrity, shasum: meta.shasum, files,
  };
});

const manifest = {
  generated_by: "scripts/refresh_vendor.sh",
  served_at: "/static/vendor/",
  build_tools: { sass: sassV },
  packages,
};
fs.writeFileSync(path.join(stage, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");

const kb = (n) => (n / 1024).toFixed(1) + " KiB";
const md = [];
md.push("# Vendored front-end files");
md.push("");
md.push("Generated by `scripts/refresh_vendor.sh`. Do not edit files in this directory by hand:");
md.push("change the pins at the top of the script and re-run it. `manifest.json` holds the");
md.push("same data in machine-readable form.");
md.push("");
md.push("## Packages");
md.push("");
md.push("| package | version | licence | npm tarball integrity |");
md.push("| --- | --- | --- | --- |");
for (const p of packages) md.push(`| \`${p.name}\` | ${p.version} | ${p.license} | \`${p.integrity}\` |`);
md.push("");
md.push(`Build tool (not vendored): \`sass@${sassV}\`, installed into a temp dir by the script.`);
md.push("");
md.push("Version constraints:");
md.push("");
md.push("- `nhsuk-frontend` must match what the Python package `nhsuk-frontend-jinja` renders");
md.push("  (nhsuk-frontend-jinja 0.10.2 ↔ nhsuk-frontend 10.6.1). Bump both together.");
md.push("- `htmx.org` is pinned to the latest 2.0.x (we use htmx 2, not 4). To see what is newer:");
md.push("  `npm view htmx.org versions --json`.");
md.push("- `idb` 8.x: `idb.umd.js` is the package's UMD build (`build/umd.js`).");
md.push("- `swagger-ui-dist` is pinned to the latest 5.x. To see what is newer:");
md.push("  `npm view swagger-ui-dist version`. Only `swagger-ui-bundle.js`, `swagger-ui.css` and the");
md.push("  licence files are vendored (`NOTICE` because Apache-2.0 asks for it to travel with the");
md.push("  code, `swagger-ui-bundle.js.LICENSE.txt` for the bundled dependencies' notices): no");
md.push("  standalone preset, no ES bundles, no source maps.");
md.push("");
md.push("## Files");
md.push("");
md.push("| file | bytes | gzip | sha256 | from |");
md.push("| --- | ---: | ---: | --- | --- |");
for (const p of packages)
  for (const f of p.files)
    md.push(`| \`${f.path}\` | ${f.bytes} | ${f.gzip_bytes} | \`${f.sha256}\` | ${p.name}: ${f.source} |`);
md.push("");
md.push("## Changes from upstream");
md.push("");
md.push("- `nhsuk-frontend/nhsuk-frontend.min.css` is **not** the CSS shipped in the npm package. The");
md.push("  shipped CSS loads the Frutiger web font from `https://assets.nhs.uk/fonts/` via `@font-face`");
md.push("  and points its images at `/assets/images/`. The script compiles the package's own SCSS");
md.push("  (`dist/nhsuk`, same entry as `index.scss`) with:");
md.push("  - `$nhsuk-font-family: (arial, sans-serif)` and `$nhsuk-include-default-font-face: false`:");
md.push("    no `@font-face`, no request to a third-party host; text renders in Arial;");
md.push(`  - \`$nhsuk-assets-path: "${assetsUrl}"\`: the icon url()s resolve to the vendored`);
md.push("    `nhsuk-frontend/assets/images/` files;");
md.push("  - an added `html { font-family: arial, sans-serif }`, because 10.x only sets the page");
md.push("    font inside its font-face branch.");
md.push("  The script fails if the CSS has any `@import`, `@font-face`, url() with a scheme or `//`,");
md.push("  or a url() that does not resolve to a vendored file.");
md.push("  Upstream also runs its CSS through PostCSS/cssnano, so this file is a little larger and");
md.push("  differs in selector order, quoting and rule merging; vendor prefixes are already in the");
md.push("  package's SCSS, so the declarations match.");
md.push("- Every other file is byte-for-byte the file from the npm tarball (see `from` above).");
md.push("  `swagger-ui/swagger-ui.css` still ends in `/*# sourceMappingURL=swagger-ui.css.map*/`;");
md.push("  the map is not vendored, so devtools show a 404 for it. The script fails if that CSS has");
md.push("  an `@import` or any url() that is not a `data:` URI, or if the bundle, run as a classic");
md.push("  script, does not define `SwaggerUIBundle` with `presets.apis`.");
md.push("");
md.push("## How pages load these");
md.push("");
md.push("CSP is `default-src 'self'` with no inline script or style, so the upstream page template's");
md.push("inline `<script>` (which adds `js-enabled` / `nhsuk-frontend-supported` to `<body>`) cannot");
md.push("be used; do it from an external file instead. In `base.html`:");
md.push("");
md.push("```html");
md.push("<head>");
md.push('  <link rel="stylesheet" href="/static/vendor/nhsuk-frontend/nhsuk-frontend.min.css">');
md.push('  <link rel="icon" href="/static/vendor/nhsuk-frontend/assets/images/favicon.ico" sizes="48x48">');
md.push('  <link rel="icon" href="/static/vendor/nhsuk-frontend/assets/images/favicon.svg" sizes="any" type="image/svg+xml">');
md.push('  <link rel="mask-icon" href="/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-mask.svg" color="#005eb8">');
md.push('  <link rel="apple-touch-icon" href="/static/vendor/nhsuk-frontend/assets/images/nhsuk-icon-180.png">');
md.push("  <meta name=\"htmx-config\" content='{\"includeIndicatorStyles\": false, \"allowEval\": false, \"allowScriptTags\": false}'>");
md.push('  <script src="/static/vendor/htmx/htmx.min.js" defer></script>');
md.push('  <script type="module" src="/static/js/nhsuk-init.js"></script>');
md.push("</head>");
md.push("<body>");
md.push("  <!-- first thing in <body>, classic and blocking, so the classes are set before first paint -->");
md.push('  <script src="/static/js/js-enabled.js"></script>');
md.push("  ...");
md.push("```");
md.push("");
md.push("`/static/js/js-enabled.js` (project file, replaces the upstream inline script):");
md.push("");
md.push("```js");
md.push("document.body.classList.add(\"js-enabled\");");
md.push("if (\"noModule\" in HTMLScriptElement.prototype) {");
md.push("  document.body.classList.add(\"nhsuk-frontend-supported\");");
md.push("}");
md.push("```");
md.push("");
md.push("`/static/js/nhsuk-init.js` (project file; must be loaded with `type=\"module\"`, because");
md.push("`nhsuk-frontend.min.js` is an ES module: it ends in `export { …, initAll, … }` and sets no");
md.push("global). `initAll()` does nothing unless `<body>` has `nhsuk-frontend-supported`:");
md.push("");
md.push("```js");
md.push("import { initAll } from \"/static/vendor/nhsuk-frontend/nhsuk-frontend.min.js\";");
md.push("");
md.push("// Already-initialised components throw InitError on a second initAll(); ignore those.");
md.push("const onError = (error) => {");
md.push("  if (error?.name !== \"InitError\") console.error(error);");
md.push("};");
md.push("");
md.push("initAll({ onError });");
md.push("");
md.push("// Initialise NHS.UK components in content swapped in by htmx. initAll() only looks at");
md.push("// descendants of the scope, so use the parent in case the swapped element is itself a");
md.push("// component root.");
md.push("document.addEventListener(\"htmx:load\", (event) => {");
md.push("  const el = event.target;");
md.push("  initAll({ scope: el.parentElement ?? el, onError });");
md.push("});");
md.push("```");
md.push("");
md.push("htmx: `htmx.min.js` is a classic script that defines the global `htmx`.");
md.push("`includeIndicatorStyles: false` stops htmx injecting a `<style>` element (which the CSP");
md.push("blocks); add its indicator rules to the app's own CSS:");
md.push("`.htmx-indicator{opacity:0} .htmx-request .htmx-indicator,.htmx-request.htmx-indicator{opacity:1;transition:opacity .2s ease-in}`.");
md.push("`allowEval: false` matches the CSP (so `hx-on:*`, `js:`/`javascript:` in `hx-vals` and");
md.push("event-filter expressions like `hx-trigger=\"click[ctrlKey]\"` are unavailable).");
md.push("");
md.push("idb:");
md.push("");
md.push("- service worker (classic): `importScripts(\"/static/vendor/idb/idb.umd.js\");` then");
md.push("  `const db = await idb.openDB(\"frontline\", 1, { upgrade(db) { … } });`");
md.push("- page, as a module: `import { openDB } from \"/static/vendor/idb/idb.mjs\";`");
md.push("- page, classic: `<script src=\"/static/vendor/idb/idb.umd.js\"></script>` then `idb.openDB(…)`.");
md.push("");
md.push("swagger-ui (the `/docs` page, `web/templates/api_docs.html`): a standalone page, not built on");
md.push("`base.html` (swagger-ui's CSS and NHS.UK's fight). It links");
md.push("`/static/vendor/swagger-ui/swagger-ui.css`, loads `/static/vendor/swagger-ui/swagger-ui-bundle.js`");
md.push("(classic script, defines the global `SwaggerUIBundle`) and then `/static/js/api-docs.js`, which");
md.push("calls `SwaggerUIBundle({ url: \"/openapi.json\", dom_id: \"#swagger-ui\", presets:");
md.push("[SwaggerUIBundle.presets.apis], layout: \"BaseLayout\", requestInterceptor })` on");
md.push("DOMContentLoaded; the interceptor adds `X-CSRF-Token` from `<meta name=\"csrf-token\">`.");
md.push("`BaseLayout` has no top bar and no online-validator badge, so nothing is fetched from");
md.push("another host. swagger-ui sets styles through element.style (allowed by the CSP) and");
md.push("injects no `<style>` element.");
md.push("");
md.push("Assets: favicons and app icons are in `nhsuk-frontend/assets/images/`");
md.push("(`favicon.ico`, `favicon.svg`, `nhsuk-icon-180.png`, `nhsuk-icon-192.png`,");
md.push("`nhsuk-icon-512.png`, `nhsuk-icon-mask.svg`, `nhsuk-opengraph-image.png`). The NHS logo in");
md.push("the header and footer is an inline `<svg>` in the component markup, not a file.");
md.push("`nhsuk-frontend/assets/manifest.json` is the package's sample web app manifest (icon paths");
md.push("relative to it). `nhsuk-frontend.min.js.map` is for devtools only; do not precache it.");
md.push("");
md.push("## Refreshing");
md.push("");
md.push("```sh");
md.push("scripts/refresh_vendor.sh");
md.push("git diff --stat web/static/vendor/");
md.push("```");
md.push("");
md.push("It needs node + npm and the npm registry; it writes nothing outside `web/static/vendor/`");
md.push("(and only replaces `nhsuk-frontend/`, `htmx/`, `idb/`, `swagger-ui/`, `manifest.json` and");
md.push("`VERSIONS.md` there). Running it twice with the same pins gives identical files.");
md.push("");
fs.writeFileSync(path.join(stage, "VERSIONS.md"), md.join("\n"));
JS

# ---------------------------------------------------------------------------
# Install: replace only what this script owns
# ---------------------------------------------------------------------------
mkdir -p "$vendor_dir"
for d in nhsuk-frontend htmx idb swagger-ui; do
  rm -rf "${vendor_dir:?}/$d"
  cp -R "$stage/$d" "$vendor_dir/$d"
done
cp "$stage/manifest.json" "$vendor_dir/manifest.json"
cp "$stage/VERSIONS.md" "$vendor_dir/VERSIONS.md"

# Note (never fails): a newer htmx 2.0.x?
latest_htmx="$(npm view htmx.org versions --json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    try {
      const v = JSON.parse(s).filter((x) => /^2\.0\.\d+$/.test(x))
        .sort((a, b) => a.split(".")[2] - b.split(".")[2]);
      process.stdout.write(v.length ? v[v.length - 1] : "");
    } catch { }
  });' || true)"
if [[ -n "$latest_htmx" && "$latest_htmx" != "$HTMX_VERSION" ]]; then
  log "note: htmx.org $latest_htmx is available (pinned $HTMX_VERSION)"
fi

# Note (never fails): a newer swagger-ui-dist 5.x?
latest_swagger="$(npm view "swagger-ui-dist@5" version --json 2>/dev/null | node -e '
  let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
    try {
      const v = [].concat(JSON.parse(s)).filter((x) => /^5\.\d+\.\d+$/.test(x))
        .sort((a, b) => { const [, am, ap] = a.split(".").map(Number), [, bm, bp] = b.split(".").map(Number); return am - bm || ap - bp; });
      process.stdout.write(v.length ? v[v.length - 1] : "");
    } catch { }
  });' || true)"
if [[ -n "$latest_swagger" && "$latest_swagger" != "$SWAGGER_UI_VERSION" ]]; then
  log "note: swagger-ui-dist $latest_swagger is available (pinned $SWAGGER_UI_VERSION)"
fi

log "done: $(cd "$repo_root" && find web/static/vendor -type f | wc -l | tr -d ' ') files under web/static/vendor/"
