// oidc.mjs: the console's OpenID Connect sign-in (authorization code with
// PKCE) in headless Chromium, against the provider stub and authorizer
// that pkg/console/browser's TestConsoleOIDCInBrowser serves on 127.0.0.1
// (the Go test checks the PKCE verifier, the tokens and the sign-out on
// its side). Exits non-zero on the first failure.
//
// Environment: CONSOLE_URL, ISSUER, CHROME_PATH, SCREENSHOTS (optional).
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`oidc.mjs: ${k} is not set`);
  return v;
};
const BASE = env('CONSOLE_URL');
const ISSUER = env('ISSUER');
const SHOTS = process.env.SCREENSHOTS || '';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const log = (...a) => console.log(`[oidc ${(performance.now() / 1000).toFixed(1)}s]`, ...a);

const profile = mkdtempSync(join(tmpdir(), 'argo-notify-chromium-oidc-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('CHROME_PATH'),
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-dev-shm-usage'],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(15000);
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error') problems.push(`console error: ${m.text()}`); // a CSP violation shows here too
});
const requests = [];
page.on('request', (r) => requests.push(r.url()));
const fail = (msg) => { throw new Error(msg); };
const role = (r, name) => page.getByRole(r, { name, exact: true });
const storage = () => page.evaluate(() => ({
  path: location.pathname + location.search + location.hash,
  session: Object.keys(sessionStorage),
  local: localStorage.length,
}));

async function check(screen) {
  if (problems.length) fail(problems.join('\n'));
  await page.evaluate(axeSource);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (bad.length) fail(`axe-core on ${screen}: ${bad.map((v) => `${v.impact} ${v.id}: ${v.help}`).join('; ')}`);
  if (SHOTS) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${screen}.png`), fullPage: true });
  }
  log(`screen ${screen}: axe clean of serious and critical`);
}

try {
  // 1. The console asks to sign in at the issuer.
  const resp = await page.goto(`${BASE}/deliveries`);
  const csp = resp.headers()['content-security-policy'] || '';
  if (!csp.includes(`connect-src 'self' ${ISSUER};`) || /unsafe-inline/.test(csp)) fail(`CSP: ${csp}`);
  await role('button', 'SIGN IN').waitFor();
  await page.getByText(`at ${new URL(ISSUER).host}`).waitFor();
  if (await page.getByLabel('Admin token').count()) fail('OIDC sign-in still shows the admin token form');
  await check('16-sign-in-oidc');

  // 2. Authorization code + PKCE: to the issuer and back, signed in, where the admin was going.
  await role('button', 'SIGN IN').click();
  await page.getByRole('heading', { name: 'Deliveries', exact: true }).waitFor();
  const authorize = requests.find((u) => u.startsWith(`${ISSUER}/authorize?`));
  if (!authorize) fail(`the browser never went to ${ISSUER}/authorize: ${requests.join(' ')}`);
  const q = new URL(authorize).searchParams;
  if (q.get('code_challenge_method') !== 'S256' || !q.get('code_challenge') || q.get('response_type') !== 'code') fail(`authorize request: ${authorize}`);
  let s = await storage();
  if (s.path !== '/deliveries') fail(`after sign-in the address is ${s.path}: the code and state must be gone`);
  if (s.local !== 0) fail('something was written to localStorage');
  if (!s.session.some((k) => k.startsWith('argo-notify.oidc.user:'))) fail(`no user in sessionStorage: ${s.session}`);
  log('signed in with code + PKCE');

  // 3. Data calls carry the access token through the authorizer.
  await role('link', 'Notification Rules').click();
  await role('button', 'Nightly ETL').waitFor(); // the seeded policy rule: GET /v1/rules answered 200
  await check('17-rules-oidc');

  // 4. A reload keeps the session (sessionStorage), without a new sign-in.
  await page.reload();
  await role('button', 'Nightly ETL').waitFor();
  log('reload: still signed in');

  // 5. SIGN OUT: storage cleared, the issuer's end-session endpoint, back to the sign-in screen.
  await role('button', 'SIGN OUT').click();
  await role('button', 'SIGN IN').waitFor();
  if (!requests.some((u) => u.startsWith(`${ISSUER}/logout?`))) fail('sign-out did not call the end-session endpoint');
  s = await storage();
  if (s.session.some((k) => k.includes('user:')) || s.local !== 0) fail(`after sign-out: ${JSON.stringify(s)}`);
  if (problems.length) fail(problems.join('\n'));
  log('signed out at the issuer');
} catch (e) {
  console.error(`oidc walk failed: ${e.stack || e}`);
  if (problems.length) console.error(problems.join('\n'));
  try {
    console.error((await page.locator('body').innerText()).slice(0, 2000));
    console.error(`requests: ${requests.join('\n')}`);
  } catch {}
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
