// Minified copies of our own scripts, served in place of the files as written (issue 16: they
// halve what a phone downloads; comments stay in the sources). Reproducible from the lock files:
// the pinned esbuild, no bundling, top-level names kept (the scripts share globals).
//
// ES modules listed in MODULES are served with what they import, as one module (issue 16: one
// request, not a module and then its import, before a capture form's first paint).
//
// Then the bundles of service_worker/caches.js BUNDLES (issue 16: fewer script requests before a
// capture form's first paint): each is its parts' minified copies one after another, in the
// listed order, each after a line naming it (caches.js PART_MARK, so the worker can cut a part
// out for a page copy from an older release). Parts of a page bundle run as they did as separate
// scripts: an error in one is reported and the next still runs. The worker's bundle (under /sw/)
// is not wrapped: a part that fails must fail the worker's install, as a failing import did.
//
//   node scripts/build_min_js.mjs            writes web/static/min/{js,sw}/
//   node scripts/build_min_js.mjs --out DIR  writes DIR/{js,sw}/ (tests compare with the committed)
import { readdirSync, readFileSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { buildSync, transformSync } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES = {
  js: join(ROOT, "web", "static", "js"),
  sw: join(ROOT, "service_worker"),
};

const outAt = process.argv.indexOf("--out");
const out = outAt > 0 ? process.argv[outAt + 1] : join(ROOT, "web", "static", "min");

/** Our ES modules, each served with its imports: nhsuk-init.js and the NHS.UK components it starts. */
const MODULES = new Set(["nhsuk-init.js"]);

const Caches = createRequire(import.meta.url)(join(ROOT, "service_worker", "caches.js"));

/** Where the minified copy of a script at `url` (a plain URL) was written, or its vendor file. */
function builtFile(url) {
  if (url.startsWith("/sw/")) return join(out, "sw", url.slice("/sw/".length));
  if (url.startsWith("/static/js/")) return join(out, "js", url.slice("/static/js/".length));
  if (url.startsWith("/static/vendor/") && url.endsWith(".js")) return join(ROOT, "web", url); // minified upstream
  throw new Error(`a bundle part must be one of our scripts or a vendor script: ${url}`);
}

// esbuild names a file's identifiers by how often each character occurs in it, so the value of
// version.js's SHELL_DIGEST used to change the rest of its minified copy. That copy is in the
// outbox-core bundle, which the digest covers (all but the literal itself): setting the digest
// could change the digest, and two values could take turns for ever. The digest is minified as a
// fixed placeholder of the same shape and put back after, so the rest does not depend on it.
const DIGEST_SOURCE = /(var SHELL_DIGEST = ')([0-9a-f]{16})(';)/;
const DIGEST_PLACEHOLDER = "0000000000000000";

function withoutDigest(source) {
  const match = source.match(DIGEST_SOURCE);
  if (!match) return { source, digest: null };
  return { source: source.replace(DIGEST_SOURCE, `$1${DIGEST_PLACEHOLDER}$3`), digest: match[2] };
}

function withDigest(code, digest) {
  if (digest === null) return code;
  const parts = code.split(`"${DIGEST_PLACEHOLDER}"`);
  if (parts.length !== 2) throw new Error("the minified SHELL_DIGEST placeholder is not there once");
  return parts.join(`"${digest}"`);
}

for (const [name, folder] of Object.entries(SOURCES)) {
  const target = join(out, name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(folder).sort()) {
    if (!file.endsWith(".js") || file.endsWith(".min.js")) continue;
    if (name === "js" && MODULES.has(file)) {
      buildSync({
        entryPoints: [join(folder, file)],
        bundle: true,
        format: "esm",
        target: "es2020",
        minify: true,
        legalComments: "none",
        charset: "utf8",
        outfile: join(target, file),
        logLevel: "error",
      });
      continue;
    }
    const { source, digest } = withoutDigest(readFileSync(join(folder, file), "utf8"));
    const { code } = transformSync(source, {
      loader: "js",
      minify: true,
      legalComments: "none",
      charset: "utf8",
    });
    writeFileSync(join(target, file), withDigest(code, digest));
  }
}

for (const [url, parts] of Object.entries(Caches.BUNDLES)) {
  const isolated = !url.startsWith("/sw/");
  const chunks = parts.map((part) => {
    const code = readFileSync(builtFile(part), "utf8").trim();
    if (code.includes(Caches.PART_MARK)) throw new Error(`${part} holds the part mark`);
    // Each part must be one statement of its own (an IIFE or UMD call), so that wrapping it
    // changes nothing: a top-level let, const, class or directive would change meaning in a block.
    if (!/^(\(function|!function|\(\(\)=>)/.test(code)) throw new Error(`${part} is not one IIFE`);
    const body = code.endsWith(";") ? code : `${code};`;
    const wrapped = isolated ? `try{${body}}catch(e){setTimeout(function(){throw e})}` : body;
    return `${Caches.PART_MARK}${part}${Caches.PART_END}${wrapped}\n`;
  });
  const target = url.startsWith("/sw/") ? join(out, "sw", url.slice(4)) : join(out, "js", url.slice("/static/js/".length));
  if (!url.endsWith(".bundle.js") || !(url.startsWith("/sw/") || url.startsWith("/static/js/"))) {
    throw new Error(`a bundle is /sw/<name>.bundle.js or /static/js/<name>.bundle.js: ${url}`);
  }
  writeFileSync(target, `/* Built by scripts/build_min_js.mjs from service_worker/caches.js BUNDLES: do not edit. */\n${chunks.join("")}`);
}
