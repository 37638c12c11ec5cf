#!/usr/bin/env node
/**
 * Builds web/static/css/nhsuk.min.css: the NHS.UK frontend styles compiled from the package's own
 * Sass sources with only the components Frontline's pages use (issue 16, item 2: a phone should
 * not download the CSS of forty components to show ten).
 *
 * Reproducible from the lock file: the sources are node_modules/nhsuk-frontend and the compiler is
 * node_modules/sass, both pinned devDependencies in package.json / package-lock.json (nhsuk-frontend
 * must match the version the Python package nhsuk-frontend-jinja renders, see
 * web/static/vendor/VERSIONS.md). Same settings as scripts/refresh_vendor.sh's full build: no
 * @font-face (nothing from assets.nhs.uk), Arial, icons from the vendored assets.
 *
 * Which components: every `nhsuk-…` class named in our templates (web/templates), scripts
 * (web/static/js) and Python (api/), plus the classes of the NHS.UK macros those templates import
 * (the package's own template.njk of each, and of the macros those import in turn). A component is
 * built when one of those classes is its own (see componentRoot). Core
 * (settings, typography, grid, utilities) is always built. Components keep the package's order
 * (components/_index.scss), so the cascade is the full build's.
 *
 * Then every selector that names an `nhsuk-…` class no page can carry is left out (unusedLeftOut;
 * issue 16: this stylesheet blocks a phone's first paint, and 2.5 KB of its 26 KB gzipped were
 * such rules, mostly spacing, display and width utilities no page uses). A class can be carried when
 * it is written in our templates, scripts or Python or in the package's scripts, or starts with
 * a prefix our sources complete at run time (`"nhsuk-tag--" ~ colour`, `${…}`) or with any name
 * an NHS.UK template writes (all of them, not only the ones we import: they build names from
 * names, `classPrefix ~ size`); every class of a component whose script we ship
 * (web/static/js/nhsuk-components.min.js) is kept, as those scripts make names from parts. Classes inside :not(), :is(), :where() or :has() are
 * not looked at: a selector is only left out when it cannot match.
 *
 *   node scripts/build_nhsuk_css.mjs            writes the file, prints the components
 *   node scripts/build_nhsuk_css.mjs --stdout   prints the CSS instead (tests compare it)
 *
 * tests/test_page_assets.py fails when the committed file is not what this script produces.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as sass from 'sass';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'node_modules', 'nhsuk-frontend', 'dist');
const COMPONENTS = join(DIST, 'nhsuk', 'components');
const OUTPUT = join(ROOT, 'web', 'static', 'css', 'nhsuk.min.css');
const ASSETS_URL = '/static/vendor/nhsuk-frontend/assets/';

/** Every file under `dir` whose name ends in one of `endings`. */
function filesUnder(dir, endings) {
  const found = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...filesUnder(path, endings));
    else if (endings.some((ending) => name.endsWith(ending))) found.push(path);
  }
  return found;
}

/** The `nhsuk-…` class names in `text`, without their __element / --modifier tails. */
function classRoots(text) {
  const roots = new Set();
  for (const match of text.matchAll(/nhsuk-[a-z0-9]+(?:-[a-z0-9]+)*/g)) {
    roots.add(match[0].split('__')[0].split('--')[0]);
  }
  return roots;
}

/** The package's component names, in its own order. */
function componentOrder() {
  const index = readFileSync(join(COMPONENTS, '_index.scss'), 'utf8');
  return [...index.matchAll(/^@forward "([a-z-]+)";/gm)].map((m) => m[1]);
}

/**
 * The class a component's Sass is named after: `nhsuk-<name>`, singular for the two plural
 * folders. Its elements and modifiers (`__`, `--`) and its compounds (`nhsuk-card-group`,
 * `nhsuk-pagination-item`) count as using it; a class that only appears inside another
 * component's Sass (the header's `nhsuk-icon`, say) does not.
 */
function componentRoot(name) {
  return 'nhsuk-' + ({ tables: 'table', images: 'image' }[name] || name);
}

/** The NHS.UK macros a template imports: `nhsuk/components/<name>/macro.jinja` or `../<name>/macro.njk`. */
function importedMacros(text) {
  return [...text.matchAll(/(?:nhsuk\/components\/|\.\.\/)([a-z-]+)\/macro\.(?:jinja|njk)/g)].map((m) => m[1]);
}

/** Our own sources: templates, scripts and Python that may name an NHS.UK class. */
function ourSources() {
  return [
    ...filesUnder(join(ROOT, 'web', 'templates'), ['.html']),
    ...filesUnder(join(ROOT, 'web', 'static', 'js'), ['.js']),
    ...filesUnder(join(ROOT, 'api'), ['.py']),
  ];
}

export function usedComponents() {
  const used = new Set();
  const macros = [];
  for (const file of ourSources()) {
    const text = readFileSync(file, 'utf8');
    for (const root of classRoots(text)) used.add(root);
    macros.push(...importedMacros(text));
  }
  // The macros' own markup, and the macros they import (a checkbox item's label, hint, …).
  const seen = new Set();
  while (macros.length) {
    const name = macros.pop();
    if (seen.has(name)) continue;
    seen.add(name);
    const template = readFileSync(join(COMPONENTS, name, 'template.njk'), 'utf8');
    for (const root of classRoots(template)) used.add(root);
    macros.push(...importedMacros(template));
  }
  return componentOrder().filter((name) => {
    const key = componentRoot(name);
    return [...used].some((root) => root === key || root.startsWith(key + '-'));
  });
}

/** The `nhsuk-…` classes a page can carry: names written out, and prefixes completed at run time. */
function possibleClasses() {
  const written = new Set();
  const prefixes = new Set();
  for (const file of [...ourSources(), ...filesUnder(join(DIST, 'nhsuk'), ['.mjs'])]) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/nhsuk-[a-z0-9_-]*[a-z0-9]/g)) written.add(match[0]);
    // A name ending in - or _ before a Jinja `~`, a `+`, `{{`, `{` or `${`.
    for (const match of text.matchAll(/(nhsuk-[a-z0-9_-]*[-_])(?=["']? ?(?:~|\+|\{|\$\{))/g)) prefixes.add(match[1]);
  }
  // The NHS.UK templates make names from names (`classPrefix ~ size`, `className ~ "--bottom"`):
  // every name one of them writes is taken as a prefix.
  for (const file of filesUnder(join(DIST, 'nhsuk'), ['.njk'])) {
    for (const match of readFileSync(file, 'utf8').matchAll(/nhsuk-[a-z0-9_-]+/g)) prefixes.add(match[0]);
  }
  // The components whose scripts we ship make class names from parts: all of theirs are kept.
  const shipped = readFileSync(join(ROOT, 'web', 'static', 'js', 'nhsuk-components.min.js'), 'utf8');
  const scripted = new Set([...shipped.matchAll(/moduleName="(nhsuk-[a-z-]+)"/g)].map((m) => m[1]));
  return { written, prefixes: [...prefixes], scripted };
}

/** The block of an `nhsuk-…` class: nhsuk-header for nhsuk-header__menu--open. */
function block(name) {
  return name.split('__')[0].split('--')[0];
}

/** Where a quoted string that starts at `i` ends (the index of its closing quote). */
function stringEnd(text, i) {
  const quote = text[i];
  let j = i + 1;
  while (j < text.length && text[j] !== quote) j += text[j] === '\\' ? 2 : 1;
  return j;
}

/** `selectors` split at its top-level commas (not inside brackets, parentheses or strings). */
function selectorList(selectors) {
  const parts = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selectors.length; i += 1) {
    const ch = selectors[i];
    if (ch === '"' || ch === "'") i = stringEnd(selectors, i);
    else if (ch === '\\') i += 1;
    else if (ch === '(' || ch === '[') depth += 1;
    else if (ch === ')' || ch === ']') depth -= 1;
    else if (ch === ',' && depth === 0) {
      parts.push(selectors.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(selectors.slice(start));
  return parts;
}

/** The classes an element must carry to match `selector`: not those inside :not(), :is(), :where(), :has(). */
function requiredClasses(selector) {
  let plain = '';
  for (let i = 0; i < selector.length; i += 1) {
    const fn = /^:(?:not|is|where|has)\(/.exec(selector.slice(i));
    if (!fn) {
      plain += selector[i];
      continue;
    }
    let depth = 0;
    let j = i + fn[0].length - 1;
    for (; j < selector.length; j += 1) {
      if (selector[j] === '(') depth += 1;
      else if (selector[j] === ')' && --depth === 0) break;
    }
    i = j;
  }
  return [...plain.matchAll(/\.((?:[A-Za-z0-9_-]|\\.)+)/g)].map((m) => m[1]);
}

/** The index of the `}` that closes the `{` at `open` (strings skipped). */
function closing(css, open) {
  let depth = 0;
  for (let i = open; i < css.length; i += 1) {
    const ch = css[i];
    if (ch === '"' || ch === "'") i = stringEnd(css, i);
    else if (ch === '\\') i += 1;
    else if (ch === '{') depth += 1;
    else if (ch === '}' && --depth === 0) return i;
  }
  throw new Error('unbalanced braces in the compiled CSS');
}

/** Compressed CSS without the selectors that name a class no page can carry (see the header). */
export function unusedLeftOut(css) {
  const { written, prefixes, scripted } = possibleClasses();
  const possible = (name) =>
    !name.startsWith('nhsuk-') || written.has(name) || prefixes.some((p) => name.startsWith(p)) || scripted.has(block(name));
  const rules = (text) => {
    let out = '';
    let at = 0;
    while (at < text.length) {
      const open = text.indexOf('{', at);
      if (open < 0) return out + text.slice(at);
      const close = closing(text, open);
      const prelude = text.slice(at, open);
      const body = text.slice(open + 1, close);
      if (/^@(?:media|supports|container)\b/.test(prelude)) {
        const inner = rules(body);
        if (inner) out += `${prelude}{${inner}}`;
      } else if (prelude.startsWith('@')) {
        out += `${prelude}{${body}}`;
      } else {
        const kept = selectorList(prelude).filter((selector) => requiredClasses(selector).every(possible));
        if (kept.length) out += `${kept.join(',')}{${body}}`;
      }
      at = close + 1;
    }
    return out;
  };
  return rules(css);
}

export function build() {
  const components = usedComponents();
  const entry = [
    '@use "nhsuk/core" as nhsuk with (',
    `  $nhsuk-assets-path: "${ASSETS_URL}",`,
    '  $nhsuk-font-family: (arial, sans-serif),',
    '  $nhsuk-include-default-font-face: false',
    ');',
    ...components.map((name) => `@use "nhsuk/components/${name}";`),
    // 10.x only sets the page font inside its font-face branch (as in refresh_vendor.sh).
    'html { font-family: nhsuk.$nhsuk-font-family; }',
    '',
  ].join('\n');
  const result = sass.compileString(entry, {
    loadPaths: [DIST],
    style: 'compressed',
    sourceMap: false,
    logger: sass.Logger.silent,
  });
  return { components, css: unusedLeftOut(result.css) + '\n' };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { components, css } = build();
  if (process.argv.includes('--stdout')) {
    process.stdout.write(css);
  } else {
    writeFileSync(OUTPUT, css);
    console.log(`${relative(ROOT, OUTPUT)}: ${css.length} bytes, components: ${components.join(', ')}`);
  }
}
