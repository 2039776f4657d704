// walk.mjs: the admin console in headless Chromium, as an administrator
// uses it, against a running argo-notify (started by
// pkg/console/browser's TestConsoleInBrowser, which passes the
// environment below). Every step asserts what the administrator sees, by
// role and accessible name; axe-core checks every screen. Exits non-zero
// on the first failure.
//
// Environment: CONSOLE_URL, CONSOLE_TOKEN, CONSOLE_INGEST_SECRET,
// CHROME_PATH, SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASS, SLACK_TOKEN,
// SEED_RULES (rules to seed for the first-render measurement), and
// SCREENSHOTS (a folder for a PNG of every screen; none when empty).
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`walk.mjs: ${k} is not set`);
  return v;
};
const BASE = env('CONSOLE_URL');
const TOKEN = env('CONSOLE_TOKEN');
const SHOTS = process.env.SCREENSHOTS || '';
const SEED = Number(process.env.SEED_RULES || '10000');
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const log = (...a) => console.log(`[${((performance.now()) / 1000).toFixed(1)}s]`, ...a);
const results = { axe: {}, screens: [] };

// ---- the API, for what the walk does outside the console ----
async function call(method, path, body, headers = {}) {
  const r = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return { data: text ? JSON.parse(text) : null, etag: r.headers.get('etag') };
}

async function postEvent(ev) {
  const body = JSON.stringify([ev]);
  const t = Math.floor(Date.now() / 1000).toString();
  const sig = createHmac('sha256', env('CONSOLE_INGEST_SECRET')).update(`${t}.${body}`).digest('hex');
  const r = await fetch(`${BASE}/v1/events`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Argo-Signature': `t=${t},v1=${sig}` }, body });
  const text = await r.text();
  if (r.status !== 202) throw new Error(`POST /v1/events: ${r.status} ${text}`);
  return JSON.parse(text).ids[0];
}

// ---- the browser ----
const profile = mkdtempSync(join(tmpdir(), 'argo-notify-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('CHROME_PATH'),
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(15000);
const problems = [];
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) problems.push(`console error: ${m.text()}`);
});

function fail(msg) {
  throw new Error(msg);
}

async function until(what, f, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await f()) return;
    if (Date.now() > end) fail(`timed out waiting for ${what}`);
    await page.waitForTimeout(100);
  }
}

const role = (r, name, opts = {}) => page.getByRole(r, { name, exact: true, ...opts });
async function see(r, name, opts) {
  await role(r, name, opts).first().waitFor({ state: 'visible' });
}

// check runs axe-core on the screen as it is and writes its screenshot.
async function check(screen, shot = true) {
  if (problems.length) fail(problems.join('\n'));
  await page.evaluate(axeSource); // DevTools evaluation: not an inline script, so the CSP stays strict
  const { violations, passes } = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  results.axe[screen] = violations.map((v) => `${v.impact}:${v.id}`);
  if (!passes.length) fail(`axe-core ran no rule on ${screen}`);
  if (bad.length) fail(`axe-core on ${screen}: ${bad.map((v) => `${v.impact} ${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')}): ${v.help}`).join('; ')}`);
  if (SHOTS && shot) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${screen}.png`), fullPage: true });
  }
  results.screens.push(screen);
  log(`screen ${screen}: axe ${passes.length} rules passed, ${violations.length ? violations.map((v) => v.id).join(',') + ' (minor/moderate)' : 'clean'}`);
}

try {
  // 1. Sign in with the link make run prints.
  await page.goto(`${BASE}/#token=${encodeURIComponent(TOKEN)}`);
  await see('heading', 'Notification Rules');
  const storage = await page.evaluate(() => ({ url: location.href, session: Object.keys(sessionStorage).length, local: localStorage.length }));
  if (storage.url.includes(TOKEN)) fail(`the token is still in the address bar: ${storage.url}`);
  if (storage.session !== 1 || storage.local !== 0) fail(`token storage: ${JSON.stringify(storage)}`);
  await see('button', 'Nightly ETL');
  await check('rules-at-sign-in', false);
  log('signed in');

  // 2. SMTP: + opens the form; TEST shows each step; CONNECT.
  await role('link', 'SMTP').click();
  await see('heading', 'SMTP');
  await role('button', '+ Add SMTP server').click();
  await see('dialog', 'Connect an SMTP server');
  await role('textbox', 'NICKNAME').fill('Local relay');
  await role('textbox', 'HOST NAME').fill(env('SMTP_HOST'));
  await role('textbox', 'ADMIN ADDRESS').fill('notify@console.test');
  await role('textbox', 'PORT').fill(env('SMTP_PORT'));
  if ((await role('textbox', 'TIMEOUT (seconds)').inputValue()) !== '10') fail('TIMEOUT default');
  await role('combobox', 'TLS').selectOption('starttls');
  await role('checkbox', 'USE AUTH').check();
  await role('textbox', 'USERNAME').fill(env('SMTP_USER'));
  await page.getByLabel('PASSWORD', { exact: true }).fill(env('SMTP_PASS'));
  await role('textbox', 'Send a test message to (optional)').fill('admin@console.test');
  await role('button', 'TEST').click();
  await see('heading', 'Test passed');
  const steps = await role('list', 'Test steps').innerText();
  for (const s of ['Connect: OK', 'TLS: OK', 'Authentication: OK', 'Test message: OK']) if (!steps.includes(s)) fail(`SMTP test steps lack "${s}": ${steps}`);
  await check('02-smtp-form-test');
  await role('button', 'CONNECT').click();
  await see('button', 'Local relay');
  await check('03-smtp');
  log('SMTP connected');

  // 3. Slack: ENTER OAUTH TOKEN, TEST, CONNECT.
  await role('link', 'Slack').click();
  await see('heading', 'Slack');
  await check('04-slack');
  await role('button', 'ENTER OAUTH TOKEN').click();
  await page.getByLabel('Bot User OAuth Token').fill(env('SLACK_TOKEN'));
  await role('button', 'TEST').click();
  await page.getByText('Test passed: workspace Console Test').waitFor();
  await role('button', 'CONNECT').click();
  await see('heading', 'Connected');
  await page.getByRole('definition').filter({ hasText: /^Console Test/ }).waitFor();
  for (const s of ['channels:read', 'chat:write', 'users:read', 'users:read:email']) await role('list', 'Scopes').getByText(s, { exact: true }).waitFor();
  await check('05-slack-connected');
  log('Slack connected');

  // 4. A rule through both steps of the editor.
  await role('link', 'Notification Rules').click();
  await role('button', '+ New rule').click();
  await see('heading', 'New notification rule');
  if ((await role('radio', 'ENABLE RULE').getAttribute('aria-checked')) !== 'true') fail('a new rule is not enabled by default');
  await role('button', 'NEXT').click();
  await page.getByText('Give the rule a name.').waitFor(); // the error next to its field
  await role('textbox', 'RULE NAME').fill('Production failures');
  await page.getByRole('checkbox', { name: /^JOB/ }).check();
  await page.getByRole('checkbox', { name: /^DEPLOYMENT/ }).check();
  await page.getByRole('checkbox', { name: /^CRITICAL/ }).check();
  await check('06-rule-editor-step1');
  await role('button', 'NEXT').click();
  await role('button', '+ADD USERS').click();
  await see('dialog', 'Add users and groups');
  await role('searchbox', 'Search users and groups').fill('ali');
  if (await page.getByRole('checkbox', { name: /Bob Builder/ }).count()) fail('the search did not filter the users');
  await page.getByRole('checkbox', { name: /Alice Admin/ }).check();
  await role('searchbox', 'Search users and groups').fill('');
  await page.getByRole('checkbox', { name: /^SRE/ }).check();
  await check('07-add-users-dialog');
  await role('button', 'ADD').click();
  await role('list', 'Users').getByText('Alice Admin').waitFor();
  await role('list', 'Groups').getByText('SRE (group)').waitFor();
  await role('textbox', 'Email address').fill('oncall');
  await page.getByText('"oncall" is not a valid email address').waitFor();
  await role('textbox', 'Email address').fill('oncall@console.test');
  await role('button', 'ADD EMAIL').click();
  await role('list', 'Email addresses').getByText('oncall@console.test').waitFor();
  await role('button', 'ADD CHANNELS').click();
  await see('dialog', 'Add Slack channels');
  await page.getByRole('checkbox', { name: /#ops/ }).check();
  await role('button', 'ADD').click();
  await role('list', 'Slack channels').getByText('#ops').waitFor();
  if (!(await role('checkbox', 'Email').isChecked()) || (await role('checkbox', 'Slack DM').isChecked())) fail('users are not reached by email alone by default');
  await role('button', 'ADD WEBHOOKS').click();
  await see('dialog', 'Add webhooks');
  await page.getByRole('checkbox', { name: /Console hook 127\.0\.0\.1:\d+/ }).check(); // name and URL host
  await check('08b-add-webhooks-dialog');
  await role('button', 'ADD').click();
  await role('list', 'Webhooks').getByText('Console hook').waitFor();
  await role('textbox', 'DIGEST WINDOW (seconds)').fill('abc');
  await page.getByText('Enter whole seconds from 0 to 86400 (0: off).').waitFor(); // the error next to its field
  await role('textbox', 'DIGEST WINDOW (seconds)').fill('0');
  const preview = role('list', 'Reached by this rule');
  for (const r of ['alice@console.test', 'bob@console.test', 'oncall@console.test', 'Slack #ops']) await preview.getByText(r).waitFor();
  await page.getByText(/With the rules saved now, the same event reaches/).waitFor(); // POST /v1/match answered
  await check('08-rule-editor-step2');
  await role('button', 'SUBMIT').click();
  await see('heading', 'Notification Rules');
  await see('rowheader', 'Production failures');
  const row = page.getByRole('row').filter({ has: role('rowheader', 'Production failures') });
  const rowText = await row.innerText();
  for (const s of ['JOB, DEPLOYMENT', 'CRITICAL', '1 user, 1 group, 1 email, 1 channel, 1 webhook', 'User']) if (!rowText.includes(s)) fail(`the rule's row lacks "${s}": ${rowText}`);
  log('rule created');

  // 5. The pencil: a conflicting edit is shown, then an edit is saved.
  await role('button', 'Edit Production failures').click();
  await see('heading', 'Edit rule Production failures');
  const { data: current } = await call('GET', `/v1/rules?source=user`);
  const rule = current.items.find((r) => r.name === 'Production failures');
  await call('PUT', `/v1/rules/${rule.id}`, { ...rule, severities: ['CRITICAL', 'WARNING'] }, { 'If-Match': `"${rule.version}"` });
  await role('textbox', 'RULE NAME').fill('Production failures, mine');
  await role('button', 'NEXT').click();
  await role('button', 'SUBMIT').click();
  await see('heading', 'This rule was changed by someone else since you opened it');
  await page.getByText(/severities: CRITICAL → CRITICAL, WARNING/).waitFor();
  await check('09-rule-editor-conflict');
  await role('button', 'LOAD THEIR VERSION').click();
  await role('button', 'BACK').click();
  if ((await role('textbox', 'RULE NAME').inputValue()) !== 'Production failures') fail('their version was not loaded');
  await role('textbox', 'RULE NAME').fill('Production failures, edited');
  await role('button', 'NEXT').click();
  await role('button', 'SUBMIT').click();
  await see('rowheader', 'Production failures, edited');
  log('rule edited (after a shown 412 conflict)');

  // 5b. Delivery: a digest window, saved and seen again on reopening.
  await role('button', 'Edit Production failures, edited').click();
  await see('heading', 'Edit rule Production failures, edited');
  await role('button', 'NEXT').click();
  await role('list', 'Webhooks').getByText('Console hook').waitFor();
  await role('textbox', 'DIGEST WINDOW (seconds)').fill('90000');
  await role('checkbox', /^QUIET HOURS/).check();
  await role('combobox', 'TIME ZONE (IANA)').fill('Europe/Paris');
  await check('08c-rule-editor-delivery');
  await role('button', 'SUBMIT').click();
  await page.getByText('Enter whole seconds from 0 to 86400 (0: off).').waitFor();
  await role('textbox', 'DIGEST WINDOW (seconds)').fill('60');
  await role('combobox', 'TIME ZONE (IANA)').fill('Mars/Olympus');
  await role('button', 'SUBMIT').click();
  await page.locator('.field p.error').filter({ hasText: /./ }).first().waitFor(); // the API's error next to TIME ZONE
  if (!(await role('combobox', 'TIME ZONE (IANA)').getAttribute('aria-invalid'))) fail('the time zone error is not on its field');
  await check('08d-rule-editor-delivery-error');
  await role('checkbox', /^QUIET HOURS/).uncheck();
  await role('button', 'SUBMIT').click();
  await see('rowheader', 'Production failures, edited');
  const saved = (await call('GET', `/v1/rules/${rule.id}`)).data;
  if (saved.digest?.windowSeconds !== 60 || !saved.recipients.webhooks?.length || saved.quietHours) fail(`the saved rule: ${JSON.stringify(saved)}`);
  await role('button', 'Edit Production failures, edited').click();
  await role('button', 'NEXT').click();
  if ((await role('textbox', 'DIGEST WINDOW (seconds)').inputValue()) !== '60') fail('the digest window is not shown on reopening');
  await role('list', 'Webhooks').getByText('Console hook').waitFor();
  await role('textbox', 'DIGEST WINDOW (seconds)').fill('0'); // off again, so the walk's event below goes out at once
  await role('button', 'SUBMIT').click();
  await see('rowheader', 'Production failures, edited');
  log('digest window saved and shown again; webhook kept');

  // 6. Disable and enable it from the list.
  const sw = role('switch', 'Enabled: Production failures, edited');
  await sw.click();
  await until('the rule to be disabled', async () => (await sw.getAttribute('aria-checked')) === 'false');
  if ((await call('GET', `/v1/rules/${rule.id}`)).data.enabled !== false) fail('the API still has the rule enabled');
  await sw.click();
  await until('the rule to be enabled', async () => (await sw.getAttribute('aria-checked')) === 'true');
  log('rule disabled and enabled');
  await check('01-rules');

  // 7. A policy rule's details.
  await role('button', 'Nightly ETL').click();
  await see('dialog', 'Policy Nightly ETL');
  await see('heading', 'NOTIFICATION');
  const pol = await role('dialog', 'Policy Nightly ETL').innerText();
  for (const s of ['On success', 'On failure', 'Yes', 'dave', 'etl@console.test']) if (!pol.includes(s)) fail(`policy details lack "${s}": ${pol}`);
  if (await role('button', 'Edit Policy nightly-etl').count()) fail('a policy rule has a pencil');
  await check('10-policy-details');
  await role('button', 'CLOSE').click();
  await until('focus back on the policy\'s name', async () => (await page.evaluate(() => document.activeElement?.textContent)) === 'Nightly ETL');

  // 8. A signed event, and its deliveries.
  const eventId = await postEvent({ type: 'JOB', severity: 'CRITICAL', title: 'Console walk: nightly job failed', source: 'console-test' });
  log(`posted event ${eventId}`);
  await role('link', 'Deliveries').click();
  await see('heading', 'Deliveries');
  await role('textbox', 'Event id').fill(eventId);
  const table = role('table', 'Deliveries');
  let refreshed = Date.now();
  await until('the event\'s deliveries to be sent', async () => {
    const text = (await table.count()) ? await table.innerText() : '';
    if (['alice@console.test', 'bob@console.test', 'oncall@console.test', 'C0OPS00001'].every((r) => text.includes(r)) && !/queued|sending/.test(text)) return true;
    if (Date.now() - refreshed > 1000) {
      await role('button', 'REFRESH').click();
      refreshed = Date.now();
    }
    return false;
  }, 30000);
  if (!(await table.innerText()).includes('sent')) fail('no delivery is sent');
  await check('11-deliveries');
  log('deliveries seen');

  // 9. Dead letters and the directory.
  await role('link', 'Dead letters').click();
  await see('heading', 'Dead letters');
  await page.getByText('No dead letters.').waitFor();
  await check('12-dead-letters');
  await role('link', 'Directory').click();
  await see('heading', 'Directory');
  await see('rowheader', 'Alice Admin');
  await check('13-directory');

  // 10. Disconnect SMTP, confirmed.
  await role('link', 'SMTP').click();
  await role('button', 'Local relay').click();
  await see('dialog', 'Local relay');
  await role('button', 'TEST').click();
  await see('heading', 'Test passed'); // the saved server, tested again
  await role('button', 'DISCONNECT').click();
  await see('dialog', 'Disconnect Local relay?');
  await check('14-smtp-disconnect-confirm');
  await role('button', 'DISCONNECT').click();
  await page.getByText('No SMTP server is connected').waitFor();
  log('SMTP disconnected');
  await role('link', 'Slack').click();
  await role('button', 'DISCONNECT').click();
  await see('dialog', 'Disconnect Console Test?');
  await role('dialog', 'Disconnect Console Test?').getByRole('button', { name: 'DISCONNECT', exact: true }).click();
  await see('button', 'ENTER OAUTH TOKEN');
  log('Slack disconnected');

  // 11. The keyboard alone: Tab to + on the rule list, Enter opens the editor, Escape-free CANCEL.
  await role('link', 'Notification Rules').click();
  await see('rowheader', 'Production failures, edited');
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  let reached = false;
  for (let i = 0; i < 25 && !reached; i++) {
    await page.keyboard.press('Tab');
    reached = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') === '+ New rule');
  }
  if (!reached) fail('Tab never reached the + button');
  await page.keyboard.press('Enter');
  await see('heading', 'New notification rule');
  await page.keyboard.press('Tab');
  await page.keyboard.type('Typed by keyboard');
  if ((await role('textbox', 'RULE NAME').inputValue()) !== 'Typed by keyboard') fail('Tab did not reach RULE NAME first');
  await role('button', 'CANCEL').click();
  log('keyboard: + reached by Tab, editor usable');

  // 12. Sign out clears the token.
  await role('button', 'SIGN OUT').click();
  await see('button', 'SIGN IN');
  if (await page.evaluate(() => sessionStorage.length + localStorage.length)) fail('sign-out left a token in storage');
  await check('00-sign-in');
  log('signed out');
  await role('textbox', 'Admin token').fill('not-the-token');
  await role('button', 'SIGN IN').click();
  await page.getByRole('alert').filter({ hasText: 'The service refused that token (401)' }).waitFor();
  if (await page.evaluate(() => sessionStorage.length)) fail('a refused token stayed in sessionStorage');
  await role('textbox', 'Admin token').fill(TOKEN);
  await role('button', 'SIGN IN').click();
  await see('heading', 'Notification Rules');
  log('a wrong token is refused; the right one signs in');

  // 13. First render of the rule list with SEED rules.
  if (SEED > 0) {
    const t0 = performance.now();
    const { data } = await call('GET', '/v1/rules?limit=1');
    let made = 0;
    const have = data.items.length; // a few exist already
    const worker = async () => {
      while (made < SEED - have) {
        const n = made++;
        await call('POST', '/v1/rules', { name: `Seeded rule ${String(n).padStart(5, '0')}`, enabled: n % 3 !== 0, eventTypes: ['SYSTEM'], severities: ['INFO'], recipients: { emails: [`seed${n % 50}@console.test`] } });
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    log(`seeded ${made} rules through the API in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
    const runs = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`${BASE}/rules#token=${encodeURIComponent(TOKEN)}`);
      await page.waitForFunction(() => document.querySelectorAll('tbody tr').length >= 50);
      runs.push(await page.evaluate(() => performance.now()));
    }
    await check('15-rules-10000');
    const nextT0 = Date.now();
    await role('button', 'Next page').click();
    await see('button', 'Previous page', { disabled: false });
    const nextMs = Date.now() - nextT0;
    log(`first render of the rule list with ${SEED} rules: ${runs.map((r) => r.toFixed(0) + ' ms').join(', ')} (navigation start to 50 rows; next page ${nextMs} ms)`);
    const last = `Seeded rule ${String(made - 1).padStart(5, '0')}`;
    const searchT0 = Date.now();
    await role('searchbox', 'Search by name').fill(last);
    await role('rowheader', last).waitFor({ timeout: 60000 });
    log(`name search found ${last} in ${Date.now() - searchT0} ms`);
    await check('rules-search', false);
    results.firstRender = runs;
  }
  console.log('RESULT ' + JSON.stringify(results));
} catch (e) {
  console.error(`walk failed: ${e.stack || e}`);
  if (problems.length) console.error(problems.join('\n'));
  try {
    const shot = join(tmpdir(), 'argo-notify-console-failure.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.error(`screenshot of the failure: ${shot}`);
    console.error((await page.locator('body').innerText()).slice(0, 3000));
  } catch {}
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
