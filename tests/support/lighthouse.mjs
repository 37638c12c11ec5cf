#!/usr/bin/env node
/**
 * Lighthouse (the pinned npm devDependency) over a list of pages, in one Chromium: the mobile
 * performance audit, simulated slow 4G, Lighthouse's defaults. Used by
 * tests/browser/test_lighthouse.py (CLS on every page) and bench/lighthouse.py (LCP, CLS and the
 * score of the capture forms in `python -m bench`).
 *
 * Input (stdin, JSON): {"pages": [{"url": "...", "cookie": "session=…" | null}, …], "quick": bool}
 *   quick: only the metric audits (no score worth quoting: the category is scored on them alone).
 * Output (stdout, JSON): [{"url", "ran", "score", "lcp_ms", "cls", "fcp_ms", "tbt_ms",
 *                          "bytes", "error"}, …] in the same order. "ran" is true when the
 *                          performance category came back with a score and the LCP and CLS audits
 *                          have numbers.
 *
 * Chromium: CHROME_PATH (default /usr/bin/chromium), run with --no-sandbox --disable-gpu
 * --headless=new. A signed-in page is audited with its session cookie sent as an extra header.
 *
 * FRONTLINE_LIGHTHOUSE_REPORTS=<folder>: also keep each full report there (JSON, named after the
 * page's path and the time), to read what Lighthouse put on a metric's path (docs/performance.md).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';

const CHROME_FLAGS = ['--no-sandbox', '--disable-gpu', '--headless=new', '--no-first-run', '--disable-background-networking'];

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function numeric(audit) {
  return audit && typeof audit.numericValue === 'number' ? audit.numericValue : null;
}

/** What the test needs (CLS, and that the audit ran); the bench takes the whole category. */
const QUICK_AUDITS = ['largest-contentful-paint', 'cumulative-layout-shift', 'first-contentful-paint', 'total-blocking-time', 'total-byte-weight'];

/** Lighthouse's runtime errors that mean the trace was lost, not that the page failed. */
const RUN_AGAIN = ['NO_NAVSTART', 'NO_TRACING_STARTED', 'NO_RESOURCE_REQUEST', 'NO_DCL'];

async function audit(port, page, quick) {
  const flags = {
    port,
    output: 'json',
    logLevel: 'error',
    onlyCategories: ['performance'],
    onlyAudits: quick ? QUICK_AUDITS : undefined,
    disableFullPageScreenshot: true,
    // A new phone each time: nothing from the last page, cookies included (a cookie the last page
    // set would stand in for the session cookie sent below).
    clearStorageTypes: ['cookies', 'file_systems', 'shader_cache', 'service_workers', 'cache_storage', 'indexeddb', 'local_storage'],
    extraHeaders: page.cookie ? { Cookie: page.cookie } : undefined,
  };
  const result = await lighthouse(page.url, flags);
  const lhr = result.lhr;
  const keep = process.env.FRONTLINE_LIGHTHOUSE_REPORTS;
  if (keep) {
    mkdirSync(keep, { recursive: true });
    const name = new URL(page.url).pathname.replace(/[^A-Za-z0-9]+/g, '_') + '-' + new Date().toISOString().replace(/[:.]/g, '') + '.json';
    writeFileSync(join(keep, name), result.report);
  }
  const audits = lhr.audits;
  const score = lhr.categories.performance ? lhr.categories.performance.score : null;
  const lcp = numeric(audits['largest-contentful-paint']);
  const cls = numeric(audits['cumulative-layout-shift']);
  return {
    url: page.url,
    final_url: lhr.finalDisplayedUrl || lhr.finalUrl || null,
    ran: typeof score === 'number' && lcp !== null && cls !== null,
    score: typeof score === 'number' ? Math.round(score * 100) : null,
    lcp_ms: lcp,
    cls,
    fcp_ms: numeric(audits['first-contentful-paint']),
    tbt_ms: numeric(audits['total-blocking-time']),
    bytes: numeric(audits['total-byte-weight']),
    error: lhr.runtimeError ? lhr.runtimeError.message : null,
    retry: Boolean(lhr.runtimeError && RUN_AGAIN.includes(lhr.runtimeError.code)),
  };
}

const input = await readStdin();
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  chromeFlags: CHROME_FLAGS,
  logLevel: 'silent',
});
const results = [];
try {
  for (const page of input.pages) {
    let result;
    // Lighthouse sometimes loses the trace on a loaded machine and says "Please run Lighthouse
    // again" (NO_NAVSTART and the like): it is, up to twice. Any other answer stands.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        result = await audit(chrome.port, page, Boolean(input.quick));
      } catch (error) {
        result = { url: page.url, ran: false, error: String(error && error.message ? error.message : error), retry: false };
      }
      if (!result.retry) break;
    }
    delete result.retry;
    results.push(result);
  }
} finally {
  await chrome.kill();
}
process.stdout.write(JSON.stringify(results) + '\n');
