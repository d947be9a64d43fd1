// Browser tests: Debian's Chromium driven by playwright-core against the console and a
// management API at ALOFT_CONSOLE_URL (aloftd serving web/dist; tests/real-stack.mjs starts one
// with real devices and sets the variables: `npm run test:browser`). Without that variable the
// runner starts tests/fake-server.mjs on a free loopback port (`npm run test:browser:fake`).
// Prints "N passed, N failed" and exits non-zero on any failure. Screenshots go to
// test-results/screenshots/.
//
// Environment (defaults match the fake server's seeded data):
//   ALOFT_CONSOLE_URL        base URL, e.g. https://127.0.0.1:8443 (unset: start the fake server)
//   ALOFT_CHROMIUM           browser binary (default /usr/bin/chromium)
//   ALOFT_{ADMIN,OPERATOR,VIEWER,AUDITOR}_USER / _PASSWORD   accounts with those roles
//   ALOFT_TOTP_USER, ALOFT_TOTP_PASSWORD, ALOFT_TOTP_SECRET   an account with TOTP enrolled
//   ALOFT_TEST_RELEASE       release (target path) the deployment test rolls out
//   ALOFT_TEST_FILTER        run only tests whose name contains this text
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { kAccounts, startFakeServer } from '../fake-server.mjs';
import { totp } from '../totp.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, '..', '..', 'test-results', 'screenshots');
const env = process.env;
const useFake = !env.ALOFT_CONSOLE_URL;

const account = (role, fallback) => ({
  user: env[`ALOFT_${role}_USER`] ?? fallback,
  password: env[`ALOFT_${role}_PASSWORD`] ?? kAccounts[fallback]?.password ?? '',
});
const admin = account('ADMIN', 'admin');
const operator = account('OPERATOR', 'operator');
const viewer = account('VIEWER', 'viewer');
const auditor = account('AUDITOR', 'auditor');
const totpUser = {
  user: env.ALOFT_TOTP_USER ?? (useFake ? 'secure' : ''),
  password: env.ALOFT_TOTP_PASSWORD ?? (useFake ? kAccounts.secure.password : ''),
  secret: env.ALOFT_TOTP_SECRET ?? (useFake ? kAccounts.secure.totp : ''),
};
const testRelease = env.ALOFT_TEST_RELEASE ?? 'rpi4-64/aloft-os-2.4.0.img.zst';

class Skip extends Error {}
function expect(cond, message) {
  if (!cond) throw new Error(message);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function shot(page, name, fullPage = true) {
  // From the top, so the sticky header sits where it belongs in a full-page picture.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
}

async function signIn(page, who, base) {
  await page.goto(`${base}/`);
  await page.getByLabel('Username').fill(who.user);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

// Calls the API from inside the signed-in page, as a script on the console's origin would.
async function apiFromPage(page, method, path, { csrf = true, body } = {}) {
  return page.evaluate(
    async ({ method, path, csrf, body }) => {
      const headers = { 'Content-Type': 'application/json' };
      if (csrf) {
        const s = await fetch('/api/v1/session', { credentials: 'same-origin' });
        headers['X-CSRF-Token'] = (await s.json()).csrf_token;
      }
      const r = await fetch(path, { method, credentials: 'same-origin', headers, body: body ? JSON.stringify(body) : undefined });
      const text = await r.text();
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: r.status, json };
    },
    { method, path, csrf, body },
  );
}

async function firstPendingDevice(page) {
  const r = await apiFromPage(page, 'GET', '/api/v1/devices?status=pending&limit=10', { csrf: false });
  expect(r.status === 200, `listing pending devices answered ${r.status}`);
  return r.json.devices.map((d) => d.id);
}

async function noMutatingControls(page, where) {
  await page.locator('main h1').first().waitFor();
  await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
  const marked = await page.locator('[data-mutates]').count();
  expect(marked === 0, `${where}: ${marked} mutating control(s) shown to a viewer`);
  const names = /^(Accept|Reject|Revoke|Pause|Pause all|Resume|Cancel deployment|New deployment|Deploy.*|Create user)$/;
  const buttons = await page.getByRole('button', { name: names }).count();
  expect(buttons === 0, `${where}: ${buttons} mutating button(s) shown to a viewer`);
}

// Basic accessibility checks run inside the page: every control has an accessible name, every
// image and table is named, ids are unique, and text meets WCAG AA contrast (4.5:1, 3:1 for
// large text) against the first opaque background behind it.
async function a11yProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none' && !el.closest('[hidden], details:not([open]) > :not(summary)');
    };
    const named = (el) =>
      (el.getAttribute('aria-label') ?? '').trim() ||
      (el.getAttribute('aria-labelledby') ?? '').split(/\s+/).map((id) => document.getElementById(id)?.textContent ?? '').join('').trim() ||
      (el.getAttribute('title') ?? '').trim();
    const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.className && typeof el.className === 'string' ? `.${el.className.split(' ')[0]}` : ''} "${(el.textContent ?? '').trim().slice(0, 40)}"`;
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
      if (!el.labels?.length && !named(el)) problems.push(`control without a label: ${describe(el)}`);
    }
    for (const el of document.querySelectorAll('button, a[href], summary')) {
      if (visible(el) && !(el.textContent ?? '').trim() && !named(el)) problems.push(`${el.tagName.toLowerCase()} without a name: ${el.outerHTML.slice(0, 80)}`);
    }
    for (const el of document.querySelectorAll('img, [role=img]')) {
      // alt="" marks a decorative image; role="img" needs a name.
      if (!named(el) && !el.hasAttribute('alt')) problems.push(`image without a name: ${describe(el)}`);
    }
    for (const el of document.querySelectorAll('table')) {
      if (!el.querySelector('caption')?.textContent?.trim() && !named(el)) problems.push(`table without a caption: ${describe(el)}`);
    }
    const ids = new Map();
    for (const el of document.querySelectorAll('[id]')) ids.set(el.id, (ids.get(el.id) ?? 0) + 1);
    for (const [id, n] of ids) if (n > 1) problems.push(`id "${id}" used ${n} times`);
    const rgb = (c) => {
      const m = c.match(/rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?/);
      return m ? [Number(m[1]), Number(m[2]), Number(m[3]), m[4] === undefined ? 1 : Number(m[4])] : null;
    };
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c && c[3] >= 0.99) return c;
        if (getComputedStyle(e).backgroundImage !== 'none') return null; // cannot tell
      }
      return [255, 255, 255, 1];
    };
    const seen = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || !n.textContent?.trim() || seen.has(el) || !visible(el) || el.closest('svg, .visually-hidden, option, [disabled], :disabled')) continue;
      seen.add(el);
      const cs = getComputedStyle(el);
      const fg = rgb(cs.color);
      const bg = background(el);
      if (!fg || !bg) continue;
      const a = fg[3];
      const mixed = [0, 1, 2].map((i) => fg[i] * a + bg[i] * (1 - a));
      const [l1, l2] = [lum(mixed), lum(bg)].sort((x, y) => y - x);
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) problems.push(`contrast ${ratio.toFixed(2)}:1 for ${describe(el)} (${cs.color} on rgb(${bg.slice(0, 3).join(',')}))`);
    }
    return problems;
  });
}

function parseCsp(header) {
  const policy = {};
  for (const part of header.split(';')) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) policy[name.toLowerCase()] = values;
  }
  return policy;
}

const tests = [];
// options.background: the runner starts the test and goes on with the next ones while it runs
// (it mostly waits for devices); options.afterBackground: wait for background tests first.
const test = (name, fn, options = {}) => tests.push({ name, fn, ...options });

test('serves the console with a strict CSP and no inline code', async ({ page, base }) => {
  const response = await page.goto(`${base}/devices`);
  expect(response.status() === 200, `SPA route answered ${response.status()}`);
  const csp = response.headers()['content-security-policy'] ?? '';
  const policy = parseCsp(csp);
  // Scripts, styles and connections may come from the console's own origin only: an explicit
  // directive or default-src 'self' standing in for it.
  for (const d of ['script-src', 'style-src', 'connect-src']) {
    const sources = policy[d] ?? policy['default-src'] ?? ['*'];
    expect(sources.length > 0 && sources.every((v) => v === "'self'" || v === "'none'"), `CSP ${d} allows ${sources.join(' ')}: ${csp}`);
  }
  expect((policy['default-src'] ?? []).join(' ') === "'self'", `CSP default-src is not 'self': ${csp}`);
  expect((policy['frame-ancestors'] ?? []).join(' ') === "'none'", `CSP lacks frame-ancestors 'none': ${csp}`);
  expect((policy['base-uri'] ?? []).join(' ') === "'none'", `CSP lacks base-uri 'none': ${csp}`);
  expect(response.headers()['x-content-type-options'] === 'nosniff', 'no X-Content-Type-Options: nosniff');
  const html = await response.text();
  expect(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'index.html has an inline script');
  expect(!/\sstyle=/i.test(html) && !/<style/i.test(html), 'index.html has inline style');
  const api = await page.request.get(`${base}/api/v1/devices`);
  expect(api.status() === 401, `anonymous API call answered ${api.status()}`);
  expect((await api.json()).error?.code === 'unauthenticated', 'anonymous 401 lacks code unauthenticated');
});

test('sign-in rejects a wrong password and is keyboard operable', async ({ page, base }) => {
  await page.goto(`${base}/`);
  // Username has focus once the form shows; the whole form works from the keyboard.
  await page.waitForFunction(() => document.activeElement?.id === 'username');
  await page.keyboard.type(admin.user);
  await page.keyboard.press('Tab');
  await page.keyboard.type('not-the-password');
  await page.keyboard.press('Enter');
  await page.getByRole('alert').filter({ hasText: 'Wrong username or password' }).waitFor();
  await shot(page, 'signin-error');
  await page.getByLabel('Password').fill(admin.password);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
});

test('admin sees the fleet overview and versions over time', async ({ page, base }) => {
  // The overview must not walk the device list: its figures come from the summary endpoint.
  const calls = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/api/')) calls.push(`${u.pathname}${u.search}`);
  });
  await signIn(page, admin, base);
  await page.getByRole('heading', { name: 'Fleet overview' }).waitFor();
  await page.getByRole('heading', { name: 'Devices that need attention' }).waitFor();
  await page.locator('.barlist').first().waitFor();
  const nav = await page.getByRole('navigation', { name: 'Main' }).innerText();
  for (const item of ['Overview', 'Devices', 'Groups', 'Enrollments', 'Releases', 'Deployments', 'Audit log', 'Security', 'Users']) {
    expect(nav.includes(item), `admin navigation lacks ${item}`);
  }
  // The figures agree with GET /api/v1/fleet/summary.
  const summary = await apiFromPage(page, 'GET', '/api/v1/fleet/summary', { csrf: false });
  expect(summary.status === 200, `fleet summary answered ${summary.status}`);
  const stats = (await page.locator('.stats').innerText()).replace(/\s+/g, ' ');
  expect(stats.includes(`${summary.json.total.toLocaleString('en-US')} Devices`), `overview stats "${stats}" do not show total ${summary.json.total}`);
  const accepted = summary.json.groups.filter((g) => g.status === 'accepted').reduce((n, g) => n + g.devices, 0);
  expect(stats.includes(`${accepted.toLocaleString('en-US')} Accepted`), `overview stats "${stats}" do not show ${accepted} accepted`);
  const versions = await page.getByRole('table', { name: 'Accepted devices per image version' }).innerText();
  for (const g of summary.json.groups.filter((x) => x.status === 'accepted' && x.imageVersion)) {
    expect(versions.includes(g.imageVersion), `version ${g.imageVersion} missing from the versions card`);
  }
  expect(!calls.some((c) => c.startsWith('/api/v1/devices')), `the overview listed devices: ${calls.filter((c) => c.startsWith('/api/v1/devices')).join(', ')}`);
  expect(calls.includes('/api/v1/fleet/history?hours=168'), `no 7-day history request: ${calls.join(', ')}`);

  // Versions over time: a chart with a text alternative, or the empty state on a fresh server.
  const card = page.getByRole('region', { name: 'Versions over time' });
  const history = await apiFromPage(page, 'GET', '/api/v1/fleet/history?hours=168', { csrf: false });
  expect(history.status === 200 && Array.isArray(history.json?.samples), `fleet history answered ${history.status}`);
  if (history.json.samples.length === 0) {
    await card.getByText('No samples yet').waitFor();
  } else {
    const chart = card.getByRole('img', { name: 'Accepted devices per image version over time' });
    await chart.waitFor();
    expect((await card.locator('path.area').count()) > 0, 'the chart has no areas');
    const latest = history.json.samples.at(-1).versions;
    const legend = await card.locator('.legend').innerText();
    for (const v of Object.keys(latest).filter((k) => latest[k] > 0).slice(0, 5)) expect(legend.includes(v), `legend lacks ${v}: ${legend}`);
    // The table alternative opens from the keyboard.
    await card.getByText('Show the numbers as a table').focus();
    await page.keyboard.press('Enter');
    const rows = card.locator('details table tbody tr');
    await rows.first().waitFor();
    expect((await rows.count()) >= 1 && (await rows.count()) <= 48, `table alternative has ${await rows.count()} rows`);
    await shot(page, 'overview-history-table');
    await card.getByText('Show the numbers as a table').click();
  }
  await card.getByLabel('Period', { exact: true }).selectOption('720');
  await page.waitForResponse((r) => r.url().endsWith('/api/v1/fleet/history?hours=720') && r.status() === 200);
  await card.locator('.history-chart, .empty').first().waitFor();
  await shot(page, 'overview');
});

test('a server without history samples yet shows an empty state', async ({ page, base }) => {
  // A fresh aloftd answers no samples until its first sampling interval ends; the answer is
  // replaced here so that this state is checked whatever the server under test holds.
  await page.route('**/api/v1/fleet/history?*', (route) =>
    route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ intervalSeconds: 3600, samples: [] }) }),
  );
  await signIn(page, viewer, base);
  const card = page.getByRole('region', { name: 'Versions over time' });
  await card.getByText('No samples yet: aloftd records the versions of accepted devices every 1 h').waitFor();
  expect((await card.getByRole('img').count()) === 0, 'a chart is drawn without samples');
});

test('second factor: password, then TOTP code', async ({ page, base }) => {
  if (!totpUser.user || !totpUser.secret) throw new Skip('set ALOFT_TOTP_USER, _PASSWORD and _SECRET');
  await page.goto(`${base}/`);
  await page.getByLabel('Username').fill(totpUser.user);
  await page.getByLabel('Password').fill(totpUser.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const code = page.getByLabel('Authentication code');
  await code.waitFor();
  await shot(page, 'signin-totp');
  await code.fill('000000' === totp(totpUser.secret) ? '111111' : '000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').filter({ hasText: 'code was not accepted' }).waitFor();
  await code.fill(totp(totpUser.secret));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
});

test('operator accepts a pending device', async ({ page, base }) => {
  await signIn(page, operator, base);
  await page.getByRole('link', { name: 'Enrollments' }).click();
  await page.getByRole('heading', { name: 'Pending enrollments' }).waitFor();
  const pending = await firstPendingDevice(page);
  expect(pending.length > 0, 'no pending device to accept');
  const id = pending[0];
  await page.getByRole('button', { name: `Accept ${id}` }).waitFor();
  await shot(page, 'enrollments');
  await page.getByRole('button', { name: `Accept ${id}` }).click();
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  await shot(page, 'enrollments-confirm');
  await dialog.getByRole('button', { name: 'Accept device' }).click();
  await page.getByText(`Device ${id} accepted.`).waitFor();
  await page.getByRole('button', { name: `Accept ${id}` }).waitFor({ state: 'detached' });
  await page.getByRole('link', { name: id }).count().then((n) => expect(n === 0, 'accepted device still listed as pending'));
  await page.goto(`${base}/devices/${encodeURIComponent(id)}`);
  await page.getByRole('heading', { name: id }).waitFor();
  await page.locator('.page-subtitle .badge', { hasText: 'accepted' }).waitFor();
  await shot(page, 'device-detail');
});

test('create a deployment, pause and resume it, and watch it reach success', async ({ page, base }) => {
  await signIn(page, operator, base);
  await page.getByRole('link', { name: 'Releases' }).click();
  await page.getByRole('button', { name: `Deploy ${testRelease}` }).click();
  await page.getByRole('heading', { name: 'New deployment' }).waitFor();
  expect(await page.getByRole('radio', { name: new RegExp(testRelease.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).isChecked(), 'release not preselected');
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('heading', { name: 'Which devices?' }).waitFor();
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('heading', { name: 'How fast?' }).waitFor();
  if (!useFake) {
    // Real devices take real time: two phases with no wait, so the run stays short.
    await page.getByLabel('Start from a plan').selectOption('two');
    await page.getByLabel('Phase 1 wait in minutes').fill('0');
    // aloftd keeps the last phase open for a phase deadline (60 s at least) so that devices
    // have time to ask; the deployment completes after that.
    await page.getByLabel('Phase deadline (minutes)').fill('1');
  }
  await shot(page, 'wizard-rollout');
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('heading', { name: 'Review' }).waitFor();
  await page.getByRole('button', { name: 'Start deployment' }).click();
  await page.waitForURL(/\/deployments\/(?!new\b)[^/?]+$/);
  const id = decodeURIComponent(page.url().split('/').pop());
  await page.locator('.page-subtitle .badge', { hasText: 'active' }).waitFor();

  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByLabel('Reason (optional, recorded in the audit log)').fill('checking the canary');
  await page.getByRole('dialog').getByRole('button', { name: 'Pause' }).click();
  await page.getByText('checking the canary').waitFor();
  await shot(page, 'deployment-paused');
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Resume' }).click();
  await page.locator('.page-subtitle .badge', { hasText: 'active' }).waitFor();

  // Polling from here on: GET /api/v1/deployments/{id} every 2 s, one request at a time.
  const polls = [];
  page.on('request', (r) => {
    if (r.method() === 'GET' && r.url().endsWith(`/api/v1/deployments/${encodeURIComponent(id)}`)) polls.push(Date.now());
  });

  // Mid-rollout picture: the canary phases done, the last phase under way.
  const deadlineMid = Date.now() + 60_000;
  while (Date.now() < deadlineMid) {
    const txt = await page.locator('.stats').innerText();
    const succeeded = Number(/([\d,]+)\s*Succeeded/.exec(txt)?.[1]?.replace(/,/g, '') ?? 0);
    if (succeeded > 30 || txt.includes('Completed')) break;
    await sleep(250);
  }
  await shot(page, 'deployment-progress', false);

  await page.getByText('Completed: every phase ran.').waitFor({ timeout: 120_000 });
  const stats = await page.locator('.stats').innerText();
  const targeted = /([\d,]+)\s*Targeted devices/.exec(stats)?.[1];
  const succeeded = /([\d,]+)\s*Succeeded/.exec(stats)?.[1];
  expect(targeted && targeted === succeeded, `not every device succeeded: ${stats.replace(/\s+/g, ' ')}`);
  expect(polls.length >= 3, `only ${polls.length} polls of the deployment`);
  const gaps = polls.slice(1).map((t, i) => t - polls[i]);
  expect(gaps.every((g) => g >= 1500), `polled faster than every 2 s: ${gaps.join(', ')} ms`);
  await shot(page, 'deployment-completed', false);
  await page.getByRole('link', { name: 'Deployments' }).click();
  await page.getByRole('link', { name: id }).waitFor();
}, { background: true });

test('viewer sees no mutating controls, and the server refuses the viewer anyway', async ({ page, base }) => {
  await signIn(page, viewer, base);
  const nav = await page.getByRole('navigation', { name: 'Main' }).innerText();
  expect(!nav.includes('Users') && !nav.includes('Audit log'), `viewer navigation shows admin items: ${nav}`);
  for (const path of ['/', '/devices', '/groups', '/enrollments', '/releases', '/deployments', '/security']) {
    await page.goto(`${base}${path}`);
    await noMutatingControls(page, path);
  }
  await page.goto(`${base}/devices?status=accepted`);
  await page.locator('main table tbody a').first().waitFor();
  await shot(page, 'devices', false);
  const firstDevice = page.locator('main table tbody a').first();
  await firstDevice.click();
  await noMutatingControls(page, 'device detail');
  // The rollout test runs alongside: wait until its deployment exists.
  for (let i = 0; i < 60; i++) {
    const list = await apiFromPage(page, 'GET', '/api/v1/deployments', { csrf: false });
    if (list.json?.deployments?.length) break;
    await sleep(500);
  }
  await page.goto(`${base}/deployments`);
  await page.locator('main table tbody a').first().click();
  await page.locator('.statebar').waitFor();
  await noMutatingControls(page, 'deployment detail');
  await shot(page, 'viewer-deployment');
  await page.goto(`${base}/users`);
  await page.getByRole('heading', { name: 'Not permitted' }).waitFor();
  await page.goto(`${base}/deployments/new`);
  await page.getByRole('heading', { name: 'Not permitted' }).waitFor();

  // The interface is a courtesy; the server decides. A viewer's well-formed request is refused.
  const pending = await firstPendingDevice(page);
  const target = pending[0] ?? 'any-device';
  const r = await apiFromPage(page, 'POST', `/api/v1/devices/${encodeURIComponent(target)}/accept`);
  expect(r.status === 403, `viewer accept answered ${r.status}`);
  expect(r.json?.error?.code === 'forbidden', `viewer accept code ${JSON.stringify(r.json)}`);
  const p = await apiFromPage(page, 'POST', '/api/v1/deployments/pause-all', { body: { reason: 'viewer try' } });
  expect(p.status === 403, `viewer pause-all answered ${p.status}`);
});

test('a forged request without the CSRF token is rejected', async ({ page, base }) => {
  await signIn(page, admin, base);
  const pending = await firstPendingDevice(page);
  expect(pending.length > 0, 'no pending device left for the CSRF test');
  const id = encodeURIComponent(pending[0]);
  // The session cookie rides along (same origin), but without X-CSRF-Token the server refuses.
  const forged = await apiFromPage(page, 'POST', `/api/v1/devices/${id}/reject`, { csrf: false });
  expect(forged.status === 403, `POST without CSRF token answered ${forged.status}`);
  const wrong = await page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/devices/${id}/reject`, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': 'forged' } });
    return r.status;
  }, id);
  expect(wrong === 403, `POST with a wrong CSRF token answered ${wrong}`);
  const still = await apiFromPage(page, 'GET', `/api/v1/devices/${id}`, { csrf: false });
  expect(still.json?.status === 'pending', `forged request changed the device: ${still.json?.status}`);
  // Control: the same request with the session's token succeeds, so the token was the difference.
  const real = await apiFromPage(page, 'POST', `/api/v1/devices/${id}/reject`);
  expect(real.status === 200, `POST with the CSRF token answered ${real.status}`);
});

test('auditor reads the audit log and verifies the chain', async ({ page, base }) => {
  await signIn(page, auditor, base);
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  const nav = await page.getByRole('navigation', { name: 'Main' }).innerText();
  expect(!nav.includes('Devices') && !nav.includes('Deployments'), `auditor navigation: ${nav}`);
  await page.getByRole('button', { name: 'Verify chain' }).click();
  await page.getByText('Chain intact.').waitFor();
  await page.getByLabel('Actor').fill(operator.user);
  await page.getByText(/of \d+ loaded records match/).waitFor();
  const actors = await page.locator('main table tbody tr td:nth-child(3)').allInnerTexts();
  expect(actors.length > 0 && actors.every((a) => a.includes(operator.user)), `filter by actor shows ${actors.join(', ')}`);
  await page.getByRole('button', { name: 'Clear' }).click();
  await shot(page, 'audit');
});

test('admin creates a user and reads the security status', async ({ page, base }) => {
  await signIn(page, admin, base);
  await page.getByRole('link', { name: 'Users' }).click();
  const name = `op${Date.now().toString(36)}`;
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Role', { exact: true }).selectOption('operator');
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByText('One-time password, shown only now').waitFor();
  await page.getByRole('cell', { name }).waitFor();
  await shot(page, 'users');
  await page.getByRole('link', { name: 'Security' }).click();
  await page.getByRole('heading', { name: 'Online keys held by the server' }).waitFor();
  await page.getByText('Chain intact.').waitFor();
  const status = await apiFromPage(page, 'GET', '/api/v1/repo/status', { csrf: false });
  expect(status.status === 200, `repo status answered ${status.status}`);

  // Every role's metadata, with version and expiry as the server reports them.
  const expiry = page.getByRole('table', { name: "Expiry of every role's metadata" });
  await expiry.waitFor();
  const rows = await expiry.locator('tbody tr').allInnerTexts();
  const expected = [['Image', 'root'], ['Image', 'targets'], ['Image', 'snapshot'], ['Image', 'timestamp'], ['Director', 'root']];
  if ('targets' in status.json.director) expected.push(['Director', 'targets']);
  expect(rows.length === expected.length, `expiry table has ${rows.length} rows, not ${expected.length}`);
  expected.forEach(([repo, role], i) => {
    const facts = status.json[repo.toLowerCase()][role];
    const row = rows[i].replace(/\s+/g, ' ');
    expect(row.startsWith(`${repo} ${role}`), `expiry row ${i} is "${row}"`);
    if (facts) {
      expect(row.includes(` ${facts.version} `), `${repo} ${role}: version ${facts.version} not in "${row}"`);
      expect(row.includes(facts.expires.slice(0, 10)), `${repo} ${role}: expiry ${facts.expires} not in "${row}"`);
    } else {
      expect(row.includes('not published'), `${repo} ${role}: null but shown as "${row}"`);
    }
  });
  // Anything expiring within 7 days (offline-signed) or expired is a visible finding.
  const now = Date.parse(status.json.now);
  for (const [repo, role] of [['Image', 'root'], ['Image', 'targets'], ['Director', 'root']]) {
    const facts = status.json[repo.toLowerCase()][role];
    if (facts && Date.parse(facts.expires) - now < 7 * 86400e3) {
      await page.locator('.finding').filter({ hasText: `${repo} ${role} metadata` }).waitFor();
    }
  }
  // The online keys with their age, and the offline root's thresholds and key ids.
  const keys = await page.getByRole('table', { name: 'Online keys and their age' }).innerText();
  for (const k of status.json.onlineKeys) expect(keys.includes(k.name) && keys.includes(k.keyid), `online key ${k.name} missing`);
  const root = await page.getByRole('table', { name: 'Keys and thresholds the root names' }).innerText();
  for (const [role, r] of Object.entries(status.json.image.root.roles)) {
    expect(root.includes(`${r.threshold} of ${r.keyids.length}`) && r.keyids.every((id) => root.includes(id)), `root role ${role} facts missing`);
  }
  // The root names the server's online keys (or says so loudly when it does not).
  for (const role of ['snapshot', 'timestamp']) {
    const online = status.json.onlineKeys.find((k) => k.name === `image-${role}`);
    const named = status.json.image.root.roles[role]?.keyids ?? [];
    const flagged = await page.locator('.finding').filter({ hasText: `does not name the server's ${role} key` }).count();
    expect(flagged === (online && !named.includes(online.keyid) ? 1 : 0), `${role}: root/online key finding shown ${flagged} time(s)`);
  }
  if (status.json.image.root.roles.root.threshold < 2) {
    await page.locator('.finding').filter({ hasText: 'The Image root needs only 1 signature' }).waitFor();
  }
  await shot(page, 'security');
});

test('a new user manages own API tokens and turns on a second factor', async ({ page, context, base }) => {
  await signIn(page, admin, base);
  const name = `tok${Date.now().toString(36)}`;
  const created = await apiFromPage(page, 'POST', '/api/v1/users', { body: { username: name, role: 'viewer' } });
  expect(created.status === 201, `creating a user answered ${created.status}`);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  // First sign-in with the one-time password: the console asks for a new one before it opens,
  // and until then the server refuses everything else.
  const me = { user: name, password: `${name}-own-password` };
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(created.json.one_time_password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel(/^New password \(/).waitFor();
  const early = await apiFromPage(page, 'GET', '/api/v1/devices', { csrf: false });
  expect(early.status === 403 && early.json?.error?.code === 'password_change_required', `before the new password, GET devices answered ${early.status} ${JSON.stringify(early.json)}`);
  await page.getByLabel(/^New password \(/).fill('short');
  await page.getByLabel('New password again').fill('short');
  await page.getByRole('button', { name: 'Set password and continue' }).click();
  await page.getByRole('alert').filter({ hasText: 'at least 12 characters' }).waitFor();
  await shot(page, 'signin-new-password');
  await page.getByLabel(/^New password \(/).fill(me.password);
  await page.getByLabel('New password again').fill(me.password);
  await page.getByRole('button', { name: 'Set password and continue' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  await page.getByRole('link', { name }).click();
  await page.getByRole('heading', { name: 'Your account' }).waitFor();
  // Token: created, shown once, listed, revoked.
  await page.getByLabel('Name').fill('ci-script');
  await page.getByRole('button', { name: 'Create token' }).click();
  const shown = await page.locator('.notice-success .mono').innerText();
  expect(/^alo_/.test(shown), `token shown as ${shown}`);
  await page.getByRole('button', { name: 'Revoke token ci-script' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
  await page.getByText('Token revoked.').waitFor();
  // TOTP: the code computed from the secret the page shows enables it.
  await page.getByRole('button', { name: 'Set up authenticator' }).click();
  const secret = (await page.locator('dd .mono').first().innerText()).replace(/\s+/g, '');
  await page.getByLabel('Code from the app').fill(totp(secret));
  await shot(page, 'account');
  await page.getByRole('button', { name: 'Confirm and enable' }).click();
  await page.getByText('Your authenticator is now required at every sign-in.').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Username').fill(me.user);
  await page.getByLabel('Password').fill(me.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // The code that confirmed enrolment is spent (aloftd refuses a replayed code); the next
  // 30-second step's code is fresh and within the server's window.
  await page.getByLabel('Authentication code').fill(totp(secret, Date.now(), 1));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
});

test('a session ended on the server returns to sign-in and back to the same page', async ({ page, base }) => {
  await signIn(page, admin, base);
  await page.getByRole('link', { name: 'Releases' }).click();
  await page.getByRole('heading', { name: 'Releases' }).waitFor();
  // The session ends behind the console's back (as at expiry or revocation): the same cookie,
  // from outside the page, deletes it on the server.
  const current = await page.request.get(`${base}/api/v1/session`);
  const csrf = (await current.json()).csrf_token;
  const r = await page.request.delete(`${base}/api/v1/session`, { headers: { 'X-CSRF-Token': csrf } });
  expect(r.status() === 204, `could not end the session (${r.status()})`);
  await page.getByRole('link', { name: 'Devices' }).click();
  await page.getByText('Your session has ended. Sign in again to continue.').waitFor();
  expect(new URL(page.url()).pathname === '/devices', `URL changed to ${page.url()}`);
  await shot(page, 'session-expired');
  await page.getByLabel('Username').fill(admin.user);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
});

test('sign out ends the session', async ({ page, base }) => {
  await signIn(page, admin, base);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByText('You have signed out.').waitFor();
  const r = await page.evaluate(async () => (await fetch('/api/v1/session', { credentials: 'same-origin' })).status);
  expect(r === 401, `session still valid after sign-out (${r})`);
  await page.reload();
  await page.getByLabel('Username').waitFor();
});

test('narrow screens get a menu button', async ({ page, base }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, operator, base);
  const nav = page.locator('#sidenav');
  expect(!(await nav.isVisible()), 'navigation visible before opening the menu');
  await page.getByRole('button', { name: 'Menu' }).click();
  await nav.waitFor({ state: 'visible' });
  await shot(page, 'mobile-menu');
  await nav.getByRole('link', { name: 'Devices' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  // The menu closes in an effect after the route changed, which may come a frame after the
  // new page's heading: wait for it, within a bound, instead of sampling once.
  const closed = await nav.waitFor({ state: 'hidden', timeout: 5000 }).then(() => true, () => false);
  expect(closed, 'menu stays open after navigating');
  await shot(page, 'mobile-devices');
});

// After the rollout above: the same release again, cancelled while its first phase waits.
test('cancel a deployment', async ({ page, base }) => {
  await signIn(page, operator, base);
  await page.goto(`${base}/deployments/new?release=${encodeURIComponent(testRelease)}`);
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByLabel('Phase 1 wait in minutes').fill('600');
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('button', { name: 'Start deployment' }).click();
  await page.waitForURL(/\/deployments\/(?!new\b)[^/?]+$/);
  await page.getByRole('button', { name: 'Cancel deployment' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel deployment' }).click();
  await page.locator('.page-subtitle .badge', { hasText: 'cancelled' }).waitFor();
  expect((await page.getByRole('button', { name: /Pause|Resume|Cancel deployment/ }).count()) === 0, 'actions remain on a cancelled deployment');
}, { afterBackground: true });

// After the rollout (a deployment to an empty group admits nobody, but stays out of its way).
test('operator manages a device group, deploys to it, and deletes it', async ({ page, base }) => {
  await signIn(page, operator, base);
  const accepted = await apiFromPage(page, 'GET', '/api/v1/devices?status=accepted&limit=1', { csrf: false });
  const member = accepted.json?.devices?.[0]?.id;
  expect(member, 'no accepted device to put in a group');
  const name = `lab-${Date.now().toString(36)}`;
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('heading', { name: 'Device groups' }).waitFor();

  // The server's name rule, checked before sending.
  await page.getByLabel('Group name').fill('Lab..Rack');
  await page.getByRole('alert').filter({ hasText: '1-64 characters' }).waitFor();
  expect(await page.getByRole('button', { name: 'Create group' }).isDisabled(), 'Create group enabled for an invalid name');
  await page.getByLabel('Group name').fill(name);
  await page.getByRole('button', { name: 'Create group' }).click();
  await page.waitForURL((u) => u.pathname === `/groups/${name}`);
  await page.getByRole('heading', { name }).waitFor();
  await page.getByText('This group has no devices yet.').waitFor();

  // All or nothing: an unknown id is named in the refusal and nothing is added.
  await page.getByLabel('Device ids').fill(`${member}\nno-such-device-1`);
  await page.getByRole('button', { name: 'Add to group' }).click();
  await page.getByRole('alert').filter({ hasText: 'no-such-device-1' }).waitFor();
  const unchanged = await apiFromPage(page, 'GET', `/api/v1/groups/${name}`, { csrf: false });
  expect(unchanged.json?.members === 0, `members after a refused add: ${JSON.stringify(unchanged.json)}`);
  await page.getByLabel('Device ids').fill(member);
  await page.getByRole('button', { name: 'Add to group' }).click();
  await page.getByText(`Added 1 device to ${name}.`).waitFor();
  await page.getByRole('table', { name: `Devices in group ${name}` }).getByRole('link', { name: member }).waitFor();
  await page.locator('.page-subtitle', { hasText: '1 member ' }).waitFor();
  const problems = await a11yProblems(page);
  expect(problems.length === 0, `group page accessibility problems:\n${problems.join('\n')}`);
  await shot(page, 'group');

  // A viewer reads the group but is offered no change, and the server refuses one anyway.
  const viewerContext = await page.context().browser().newContext({ ignoreHTTPSErrors: true });
  const other = await viewerContext.newPage();
  await signIn(other, viewer, base);
  await other.goto(`${base}/groups/${name}`);
  await other.getByRole('table', { name: `Devices in group ${name}` }).getByRole('link', { name: member }).waitFor();
  await noMutatingControls(other, 'group detail');
  const refused = await apiFromPage(other, 'POST', `/api/v1/groups/${name}/members/remove`, { body: { devices: [member] } });
  expect(refused.status === 403, `viewer removing a member answered ${refused.status}`);
  await viewerContext.close();

  await page.getByLabel(`Select ${member}`).check();
  await page.getByRole('button', { name: 'Remove selected (1)' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove from group' }).click();
  await page.getByText(`Removed 1 device from ${name}.`).waitFor();
  await page.getByText('This group has no devices yet.').waitFor();

  // Deploy to the (now empty) group: the wizard picks it, the deployment shows it.
  await page.getByRole('button', { name: 'Deploy to this group' }).click();
  await page.getByRole('heading', { name: 'New deployment' }).waitFor();
  await page.getByRole('radio', { name: new RegExp(testRelease.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) }).check();
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('heading', { name: 'Which devices?' }).waitFor();
  await page.locator('#t-group option', { hasText: name }).first().waitFor({ state: 'attached' });
  expect((await page.getByLabel('Group').inputValue()) === name, 'the wizard did not preselect the group');
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByLabel('Phase 1 wait in minutes').fill('600');
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.getByRole('heading', { name: 'Review' }).waitFor();
  await page.getByText(`group: ${name}`).waitFor();
  await page.getByRole('button', { name: 'Start deployment' }).click();
  await page.waitForURL(/\/deployments\/(?!new\b)[^/?]+$/);
  const deploymentUrl = page.url();
  const depId = decodeURIComponent(deploymentUrl.split('/').pop());
  await page.getByRole('region', { name: 'Target' }).getByRole('link', { name }).waitFor();
  await shot(page, 'deployment-to-group');

  // A group in use cannot be deleted; the refusal names the deployment.
  await page.goto(`${base}/groups`);
  await page.getByRole('button', { name: `Delete group ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete group' }).click();
  await page.getByRole('alert').filter({ hasText: depId }).filter({ hasText: 'group_in_use' }).waitFor();
  await page.getByRole('link', { name }).waitFor();
  await shot(page, 'groups-in-use');

  await page.goto(deploymentUrl);
  await page.getByRole('button', { name: 'Cancel deployment' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel deployment' }).click();
  await page.locator('.page-subtitle .badge', { hasText: 'cancelled' }).waitFor();
  await page.goto(`${base}/groups/${name}`);
  await page.getByRole('button', { name: 'Delete group' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete group' }).click();
  await page.getByText(`Group ${name} deleted.`).waitFor();
  await page.getByRole('heading', { name: 'Device groups' }).waitFor();
  expect((await page.getByRole('link', { name }).count()) === 0, 'deleted group still listed');
}, { afterBackground: true });

test('every page passes basic accessibility checks', async ({ page, base }) => {
  await signIn(page, admin, base);
  const deployments = await apiFromPage(page, 'GET', '/api/v1/deployments', { csrf: false });
  const devices = await apiFromPage(page, 'GET', '/api/v1/devices?limit=1', { csrf: false });
  const paths = ['/', '/devices', '/groups', '/enrollments', '/releases', `/releases/${encodeURIComponent(testRelease)}`, '/deployments', '/deployments/new',
    '/audit', '/security', '/users', '/account'];
  if (devices.json?.devices?.[0]) paths.push(`/devices/${encodeURIComponent(devices.json.devices[0].id)}`);
  if (deployments.json?.deployments?.[0]) paths.push(`/deployments/${encodeURIComponent(deployments.json.deployments[0].id)}`);
  const all = [];
  for (const path of paths) {
    await page.goto(`${base}${path}`);
    await page.locator('main h1').first().waitFor();
    await page.locator('.loading').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {});
    // Open every collapsed table alternative, so it is checked too.
    for (const d of await page.locator('main details:not([open]) summary').all()) await d.click();
    for (const p of await a11yProblems(page)) all.push(`${path}: ${p}`);
  }
  expect(all.length === 0, `accessibility problems:\n${all.join('\n')}`);
});

// After the rollout: staging new online keys must not disturb a running deployment.
test('admin stages an online-key rotation and the security page shows it', async ({ page, base }) => {
  await signIn(page, admin, base);
  await page.goto(`${base}/security`);
  await page.getByRole('heading', { name: 'Online keys held by the server' }).waitFor();
  const before = await apiFromPage(page, 'GET', '/api/v1/online-keys', { csrf: false });
  expect(before.status === 200, `online keys answered ${before.status}`);
  if (!before.json.next) {
    await page.getByRole('button', { name: 'Stage new online keys' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stage new keys' }).click();
    await page.getByText('New online keys staged.').waitFor();
  }
  const after = await apiFromPage(page, 'GET', '/api/v1/online-keys', { csrf: false });
  expect(after.json?.next?.snapshot?.keyid && after.json?.next?.timestamp?.keyid, `no staged keys after rotate: ${JSON.stringify(after.json)}`);
  await page.getByRole('heading', { name: 'Staged rotation' }).waitFor();
  const staged = await page.locator('.staged').innerText();
  expect(staged.includes(after.json.next.snapshot.keyid) && staged.includes(after.json.next.timestamp.keyid), `staged keys not shown: ${staged}`);
  await page.locator('.finding').filter({ hasText: 'An online-key rotation is staged' }).waitFor();
  expect((await page.getByRole('button', { name: 'Stage new online keys' }).count()) === 0, 'rotation button still offered while one is staged');
  await shot(page, 'security-staged-rotation');
  // Only release managers and admins may stage one: an operator's request is refused.
  const ctx = await page.context().browser().newContext({ ignoreHTTPSErrors: true });
  const other = await ctx.newPage();
  await signIn(other, operator, base);
  await other.goto(`${base}/security`);
  await other.getByRole('heading', { name: 'Staged rotation' }).waitFor();
  expect((await other.getByRole('button', { name: 'Stage new online keys' }).count()) === 0, 'operator offered the rotation button');
  const refused = await apiFromPage(other, 'POST', '/api/v1/online-keys/rotate');
  expect(refused.status === 403, `operator rotate answered ${refused.status}`);
  await ctx.close();
}, { afterBackground: true });

test('a release shows its signature, expiry, the devices running it and the deltas built for it', async ({ page, base }) => {
  await signIn(page, viewer, base);
  // Server-built deltas only accumulate (a retried pair keeps its row): the page shows at least
  // the rows listed before it loaded and at most those listed after.
  const deltasNow = async () => {
    const r = await apiFromPage(page, 'GET', '/api/v1/deltas', { csrf: false });
    expect(r.status === 200, `GET /api/v1/deltas answered ${r.status}`);
    return r.json.deltas.filter((d) => d.release === testRelease);
  };
  const deltasBefore = await deltasNow();
  await page.goto(`${base}/releases`);
  await page.getByRole('columnheader', { name: 'Server deltas' }).waitFor();
  await page.getByRole('link', { name: testRelease }).click();
  await page.getByRole('heading', { name: testRelease }).waitFor();
  const signature = page.getByRole('region', { name: 'Signature' });
  await signature.getByText(/\d+ of \d+ keys?: met/).waitFor();
  await signature.getByText('version ').first().waitFor();
  const release = await apiFromPage(page, 'GET', `/api/v1/releases/${encodeURIComponent(testRelease)}`, { csrf: false });
  const summary = await apiFromPage(page, 'GET', '/api/v1/fleet/summary', { csrf: false });
  const running = summary.json.groups
    .filter((g) => g.status === 'accepted' && g.imageVersion === release.json.version && release.json.hardware_ids.includes(g.hardwareId))
    .reduce((n, g) => n + g.devices, 0);
  const heading = `Running on ${running.toLocaleString('en-US')} device${running === 1 ? '' : 's'}`;
  await page.getByRole('heading', { name: heading }).waitFor();
  if (running > 0) await page.getByRole('table', { name: 'Devices running this release' }).locator('tbody tr').first().waitFor();
  const deltas = page.getByRole('region', { name: 'Deltas built by the server' });
  await deltas.locator('.empty, table').first().waitFor();
  const shown = await deltas.locator('tbody tr').count();
  const deltasAfter = await deltasNow();
  expect(shown >= deltasBefore.length && shown <= deltasAfter.length, `${shown} delta rows shown; the server listed ${deltasBefore.length}, then ${deltasAfter.length}`);
  if (shown === 0) await deltas.getByText('No server-built deltas yet').waitFor();
  const failedBuild = deltasBefore.find((d) => d.state === 'failed');
  if (failedBuild) await deltas.getByText(failedBuild.error).waitFor();
  await noMutatingControls(page, 'release detail');
  await shot(page, 'release');
}, { afterBackground: true });

// After the rollout: the fleet history picks up the new version (real-stack.mjs samples every
// 5 s), and the overview's chart shows it.
test('the versions-over-time chart shows the rollout', async ({ page, base }) => {
  await signIn(page, viewer, base);
  const release = await apiFromPage(page, 'GET', `/api/v1/releases/${encodeURIComponent(testRelease)}`, { csrf: false });
  const version = release.json.version;
  let latest = null;
  for (let i = 0; i < 60; i++) {
    const h = await apiFromPage(page, 'GET', '/api/v1/fleet/history?hours=24', { csrf: false });
    latest = h.json?.samples?.at(-1) ?? null;
    if ((latest?.versions?.[version] ?? 0) > 0) break;
    await sleep(500);
  }
  expect((latest?.versions?.[version] ?? 0) > 0, `no history sample with ${version}: ${JSON.stringify(latest)}`);
  await page.goto(`${base}/`);
  const card = page.getByRole('region', { name: 'Versions over time' });
  await card.getByLabel('Period', { exact: true }).selectOption('24');
  const chart = card.getByRole('img', { name: 'Accepted devices per image version over time' });
  await chart.waitFor();
  await card.locator('.legend li').filter({ hasText: version }).waitFor();
  const caption = await card.locator('figcaption').innerText();
  expect(caption.includes(`${version} on `), `caption does not report ${version}: ${caption}`);
  await shot(page, 'overview-after-rollout');
}, { afterBackground: true });

async function main() {
  await rm(shots, { recursive: true, force: true });
  await mkdir(shots, { recursive: true });
  const server = useFake ? await startFakeServer() : null;
  const base = (env.ALOFT_CONSOLE_URL ?? server.url).replace(/\/$/, '');
  console.log(`console under test: ${base}${useFake ? ' (fake aloftd)' : ''}`);
  const browser = await chromium.launch({
    executablePath: env.ALOFT_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const only = env.ALOFT_TEST_FILTER;
  const runOne = async (t) => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, ignoreHTTPSErrors: true });
    context.setDefaultTimeout(15_000);
    // Reports every CSP violation whatever the browser's console wording.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) =>
        console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to (execute|load|apply|connect)/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    const started = Date.now();
    let timer;
    try {
      await Promise.race([
        t.fn({ page, context, base }),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('test timed out after 180 s')), 180_000);
        }),
      ]);
      expect(problems.length === 0, problems.join('\n'));
      passed++;
      console.log(`  ok    ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      if (e instanceof Skip) {
        skipped++;
        console.log(`  skip  ${t.name}: ${e.message}`);
      } else {
        failed++;
        console.log(`  FAIL  ${t.name}\n        ${String(e.message ?? e).split('\n').join('\n        ')}`);
        await page.screenshot({ path: join(shots, `FAILED-${t.name.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
      }
    } finally {
      clearTimeout(timer);
      await context.close();
    }
  };
  const background = [];
  for (const t of tests) {
    if (only && !t.name.includes(only)) continue;
    if (t.afterBackground) await Promise.all(background);
    if (t.background) {
      console.log(`  ...   ${t.name} (runs alongside the next tests)`);
      background.push(runOne(t));
    } else {
      await runOne(t);
    }
  }
  await Promise.all(background);
  await browser.close();
  await server?.close();
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
