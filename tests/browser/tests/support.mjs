// Shared support for the browser tests: start `preau demo` (the debug binary built by
// `cargo xtask test`) on a free port with a fresh data directory, launch Debian's Chromium
// through playwright-core, and check pages with axe-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const PASSWORD = 'Demo-Browser-2026!';
/** The repository's root. */
export const ROOT = root;

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** Starts the demo (with `extraArgs` for `preau demo`); returns { base, accounts, stop }. */
export async function startDemo(extraArgs = []) {
  const binary = join(root, 'target', 'debug', 'preau');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run cargo xtask test`);
  const dir = mkdtempSync(join(tmpdir(), 'preau-browser-'));
  const accountsFile = join(dir, 'accounts.json');
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PREAU_')));
  env.PREAU_TODAY = '2026-11-30';
  env.RUST_BACKTRACE = '0';
  const child = spawn(binary, ['demo', '--listen', `127.0.0.1:${port}`, '--password', PASSWORD,
    '--data', join(dir, 'data'), '--accounts-json', accountsFile, ...extraArgs],
    { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill(); throw new Error('preau demo did not start'); }
    await new Promise((r) => setTimeout(r, 100));
  }
  const accounts = JSON.parse(readFileSync(accountsFile, 'utf8'));
  return {
    base,
    accounts,
    stop: () => { child.kill(); rmSync(dir, { recursive: true, force: true }); },
  };
}

/** Launches headless Chromium as these machines allow. */
export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/** Runs axe-core (WCAG 2.1 A and AA rules) and returns the serious and critical violations. */
export async function seriousViolations(page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Signs in through the API and returns what /api/v1/me says. */
export async function me(base, login, password) {
  const r = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login, password }),
  });
  if (!r.ok) throw new Error(`API login of ${login}: ${r.status}`);
  const { token } = await r.json();
  const m = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  return m.json();
}
