// Minified copies of our own scripts, served in place of the files as written (issue 16: they
// halve what a phone downloads; comments stay in the sources). Reproducible from the lock files:
// the pinned esbuild, no bundling, top-level names kept (the scripts share globals).
//
//   node scripts/build_min_js.mjs            writes web/static/min/{js,sw}/
//   node scripts/build_min_js.mjs --out DIR  writes DIR/{js,sw}/ (tests compare with the committed)
import { readdirSync, readFileSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const SOURCES = {
  js: join(ROOT, "web", "static", "js"),
  sw: join(ROOT, "service_worker"),
};

const outAt = process.argv.indexOf("--out");
const out = outAt > 0 ? process.argv[outAt + 1] : join(ROOT, "web", "static", "min");

for (const [name, folder] of Object.entries(SOURCES)) {
  const target = join(out, name);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(folder).sort()) {
    if (!file.endsWith(".js") || file.endsWith(".min.js")) continue;
    const { code } = transformSync(readFileSync(join(folder, file), "utf8"), {
      loader: "js",
      minify: true,
      legalComments: "none",
      charset: "utf8",
    });
    writeFileSync(join(target, file), code);
  }
}
