#!/usr/bin/env node
/**
 * Builds web/static/js/nhsuk-components.min.js (ours: scripts/refresh_vendor.sh replaces vendor/): the NHS.UK frontend's
 * JavaScript with only the components Frontline's pages use (issue 16, item 2), an ES module
 * exporting `initAll({scope, onError})` with the package's own semantics (the support check, then
 * createAll for each component) — so web/static/js/nhsuk-init.js is unchanged but for its import.
 *
 * Reproducible from the lock file: node_modules/nhsuk-frontend (its ES modules, "sideEffects":
 * false, so the bundler keeps only what these components reach) and node_modules/esbuild, both
 * pinned devDependencies.
 *
 * The components: those whose data-module="nhsuk-…" our pages render (button, checkboxes, error
 * summary, header, notification banner, radios, skip link). Not character count, code, file
 * upload, password input, scroll, tables or tabs. tests/test_page_assets.py fails when a page
 * renders a data-module missing here, and when the committed file is not what this script makes.
 *
 *   node scripts/build_nhsuk_js.mjs            writes the file
 *   node scripts/build_nhsuk_js.mjs --stdout   prints it instead (tests compare it)
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT = join(ROOT, 'web', 'static', 'js', 'nhsuk-components.min.js');

export const COMPONENTS = ['Button', 'Checkboxes', 'ErrorSummary', 'Header', 'NotificationBanner', 'Radios', 'SkipLink'];

const ENTRY = `
import { ${COMPONENTS.join(', ')}, createAll, isSupported, normaliseOptions, ElementError, SupportError } from 'nhsuk-frontend';

/** The package's initAll (dist/nhsuk/index.mjs) over our components only. */
export function initAll(options = {}) {
  const scope = normaliseOptions(options);
  try {
    if (!isSupported()) throw new SupportError();
    if (scope.scope === null) {
      throw new ElementError({ element: scope.scope, identifier: 'NHS.UK frontend scope element (\`$scope\`)' });
    }
  } catch (error) {
    if (scope.onError) scope.onError(error, { config: {} });
    else console.log(error);
    return;
  }
  for (const Component of [${COMPONENTS.join(', ')}]) createAll(Component, undefined, scope);
}
`;

const result = await build({
  stdin: { contents: ENTRY, resolveDir: ROOT, sourcefile: 'nhsuk-components.entry.mjs', loader: 'js' },
  bundle: true,
  format: 'esm',
  minify: true,
  target: 'es2020',
  legalComments: 'none',
  write: false,
  logLevel: 'error',
});
const code = `/* nhsuk-frontend ${(await import('nhsuk-frontend/package.json', { with: { type: 'json' } })).default.version}: ${COMPONENTS.join(', ')} (scripts/build_nhsuk_js.mjs) */\n${result.outputFiles[0].text}`;
if (process.argv.includes('--stdout')) process.stdout.write(code);
else {
  writeFileSync(OUTPUT, code);
  console.log(`${OUTPUT}: ${code.length} bytes, ${COMPONENTS.join(', ')}`);
}
