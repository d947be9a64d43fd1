// The browser suite against the real programs: starts aloftd (serving web/dist), seeds it with
// aloftctl and runs simulated devices with aloft-agent, all in a temporary directory on
// 127.0.0.1, then runs tests/browser/run.mjs against it. Builds nothing: the binaries come from
// ALOFT_BIN_DIR (default <repo>/build/bin) and the console from web/dist (`npm run build`).
//
// TLS, not plain HTTP: aloftd marks the session cookie Secure only under TLS, and the console
// must be tested with the cookie it gets in production (Secure, HttpOnly, SameSite=Strict,
// HSTS on). aloftd generates the CA and certificate at `init --generate-tls`; the agents and
// aloftctl trust that CA, Chromium runs with ignoreHTTPSErrors (the CA is not in its store).
//
// Seeded state, as run.mjs expects it:
//   - admin, operator, viewer, auditor: one account per role, each signed in once with aloftctl
//     so its one-time password is replaced (the browser's own first sign-in is a test of its own)
//   - a release os-2.0.0.img.zst (v2) signed offline (1-of-1 root and targets keys) and uploaded;
//     v1 is what the devices run from the factory
//   - dev-1 accepted; dev-2 and dev-3 pending (enrolled with a fleet token, not accepted): the
//     tests accept one and reject the other
//   - every device runs the agent daemon on the simulated bootloader (exit 75 → simulate-reboot),
//     so a deployment created in the browser reaches success.
//
// Environment: ALOFT_BIN_DIR, ALOFT_KEEP_STACK=1 (keep the temp dir), ALOFT_STACK_ONLY=1 (start
// the stack, print the variables and wait for Ctrl-C), and run.mjs's own variables
// (ALOFT_TEST_FILTER, ALOFT_CHROMIUM).
import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { totp } from './totp.mjs';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const webDir = resolve(here, '..');
const repo = resolve(webDir, '..');
const bin = resolve(process.env.ALOFT_BIN_DIR ?? join(repo, 'build', 'bin'));
const dist = join(webDir, 'dist');
const started = Date.now();
const children = [];
let stopping = false;
let work = '';

const log = (msg) => console.log(`[stack ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

function die(msg) {
  console.error(`real-stack: ${msg}`);
  console.log('0 passed, 1 failed');
  return shutdown(1);
}

async function shutdown(code) {
  stopping = true;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  if (work) {
    // Kept after a failure, for its logs; removed after success or Ctrl-C.
    if (process.env.ALOFT_KEEP_STACK === '1' || (code !== 0 && code !== 130)) {
      console.log(`real-stack: kept ${work} (server.log, dev-*/agent.log)`);
    } else {
      await rm(work, { recursive: true, force: true });
    }
  }
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => void shutdown(130));

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// Runs a program to completion; its output goes into the error when it fails.
async function exec(file, args, env = {}) {
  try {
    const { stdout } = await run(file, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 });
    return stdout;
  } catch (e) {
    throw new Error(`${file.split('/').pop()} ${args.join(' ')}: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}

async function ready(url, ca) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((res) => {
      const req = request(`${url}/readyz`, { ca, timeout: 1000 }, (r) => {
        r.resume();
        res(r.statusCode === 200);
      });
      req.on('error', () => res(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('aloftd did not become ready within 10 s');
}

const password = () => randomBytes(18).toString('base64url');

// One management API call with an aloftctl API token (Bearer: no cookie, no CSRF token).
function apiCall(url, ca, token, method, path, body) {
  return new Promise((res, rej) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${url}${path}`, { method, ca, headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (r) => {
      let text = '';
      r.setEncoding('utf8');
      r.on('data', (c) => (text += c));
      r.on('end', () => res({ status: r.statusCode, json: text ? JSON.parse(text) : null }));
    });
    req.on('error', rej);
    req.end(data);
  });
}

// One simulated device: the agent daemon until it asks for a reboot (exit 75), then the
// simulated bootloader's power cycle, then the daemon again; as tests/e2e/fleet_demo.sh does.
function runDevice(dir) {
  const loop = async () => {
    while (!stopping) {
      const child = spawn(join(bin, 'aloft-agent'), ['-c', join(dir, 'agent.toml'), 'daemon'], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      child.stdout.on('data', (d) => void appendFile(join(dir, 'agent.log'), d));
      child.stderr.on('data', (d) => void appendFile(join(dir, 'agent.log'), d));
      const rc = await new Promise((r) => child.once('exit', (code) => r(code)));
      children.splice(children.indexOf(child), 1);
      if (stopping) return;
      if (rc === 75) {
        await appendFile(join(dir, 'agent.log'), '--- simulated reboot\n');
        await exec(join(bin, 'aloft-agent'), ['-c', join(dir, 'agent.toml'), 'simulate-reboot']).catch((e) => appendFile(join(dir, 'agent.log'), `${e.message}\n`));
      } else {
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  };
  loop().catch((e) => log(`device loop ${dir}: ${e.message}`));
}

async function main() {
  for (const b of ['aloftd', 'aloftctl', 'aloft-agent']) {
    if (!existsSync(join(bin, b))) return die(`${join(bin, b)} is missing: build it (cmake --build build --target ${b}) or set ALOFT_BIN_DIR`);
  }
  if (!existsSync(join(dist, 'index.html'))) return die('web/dist/index.html is missing: run `npm run build` in web/ first');

  work = await mkdtemp(join(process.env.TMPDIR ?? tmpdir(), 'aloft-web-'));
  await chmod(work, 0o700);
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const ca = join(work, 'tls', 'ca.pem');
  const op = join(work, 'operator');
  await mkdir(join(work, 'tls'), { recursive: true });
  await mkdir(op, { mode: 0o700 });

  // 1. aloftd: TLS with a generated CA, SQLite and local files, the console from web/dist.
  const toml = join(work, 'aloftd.toml');
  await writeFile(
    toml,
    [
      '[server]',
      `listen = "127.0.0.1:${port}"`,
      `public_url = "${url}"`,
      '[tls]',
      `cert_file = "${join(work, 'tls', 'server.crt')}"`,
      `key_file = "${join(work, 'tls', 'server.key')}"`,
      '[storage]',
      `data_dir = "${join(work, 'server')}"`,
      '[console]',
      `dir = "${dist}"`,
      // The overview's versions-over-time chart: a sample every 5 s, so the ~100 s run records
      // the rollout the tests make.
      '[fleet]',
      'sample_interval_seconds = 5',
      '',
    ].join('\n'),
  );
  await exec(join(bin, 'aloftd'), ['-c', toml, 'init', '--generate-tls', '--admin-password-file', join(op, 'admin-otp')]);
  const server = spawn(join(bin, 'aloftd'), ['-c', toml, 'serve'], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(server);
  server.stderr.on('data', (d) => void appendFile(join(work, 'server.log'), d));
  server.once('exit', (code) => {
    if (!stopping) void die(`aloftd exited (${code}); see ${join(work, 'server.log')}`);
  });
  await ready(url, await readFile(ca));
  log(`aloftd serves ${url} with the console from ${dist}`);

  const base = { ALOFT_SERVER: url, ALOFT_CA: ca };
  const adminEnv = { ...base, ALOFT_CREDENTIALS: join(op, 'admin-credentials.json') };
  const passphrase = join(op, 'passphrase');
  await writeFile(passphrase, `${password()}\n`, { mode: 0o600 });
  const ctl = (args, env = adminEnv) => exec(join(bin, 'aloftctl'), ['--repo', join(op, 'repo'), '--passphrase-file', passphrase, ...args], env);

  // 2. One account per role; each signs in once to replace its one-time password.
  const accounts = { admin: { user: 'admin', password: password() } };
  await ctl(['login', '--username', 'admin'], { ...adminEnv, ALOFT_PASSWORD: (await readFile(join(op, 'admin-otp'), 'utf8')).trim(), ALOFT_NEW_PASSWORD: accounts.admin.password });
  // An account with TOTP for the second-factor test. Enrolment is confirmed with the previous
  // 30-second step's code (inside the server's window), so the current step's code is still
  // unused when the browser signs in: aloftd refuses a code that was used once.
  const secure = { user: 'secure', password: password(), secret: '' };
  const seedSecure = async () => {
    const added = JSON.parse(await ctl(['--json', 'user', 'add', 'secure', '--role', 'viewer']));
    const creds = join(op, 'secure-credentials.json');
    await ctl(['login', '--username', 'secure'], { ...base, ALOFT_CREDENTIALS: creds, ALOFT_PASSWORD: added.one_time_password, ALOFT_NEW_PASSWORD: secure.password });
    const token = JSON.parse(await readFile(creds, 'utf8')).servers[url].token;
    const caPem = await readFile(ca);
    const begun = await apiCall(url, caPem, token, 'POST', '/api/v1/users/self/totp', {});
    if (begun.status !== 200 || !begun.json?.secret_base32) throw new Error(`TOTP enrolment answered ${begun.status} ${JSON.stringify(begun.json)}`);
    secure.secret = begun.json.secret_base32;
    let confirmed = null;
    for (let i = 0; i < 3 && confirmed?.status !== 204 && confirmed?.status !== 200; i++) {
      confirmed = await apiCall(url, caPem, token, 'POST', '/api/v1/users/self/totp/confirm', { code: totp(secure.secret, Date.now(), -1) });
    }
    if (confirmed.status !== 204 && confirmed.status !== 200) throw new Error(`TOTP confirm answered ${confirmed.status} ${JSON.stringify(confirmed.json)}`);
  };
  // Argon2id makes each sign-in cost a moment: the accounts are seeded side by side.
  await Promise.all([
    seedSecure(),
    ...['operator', 'viewer', 'auditor'].map(async (role) => {
      const added = JSON.parse(await ctl(['--json', 'user', 'add', role, '--role', role]));
      const oneTime = added.one_time_password;
      if (!oneTime) throw new Error(`user add ${role} printed no one_time_password: ${JSON.stringify(added)}`);
      accounts[role] = { user: role, password: password() };
      await ctl(['login', '--username', role], { ...base, ALOFT_CREDENTIALS: join(op, `${role}-credentials.json`), ALOFT_PASSWORD: oneTime, ALOFT_NEW_PASSWORD: accounts[role].password });
    }),
  ]);
  log('accounts: admin, operator, viewer, auditor, secure (TOTP); one-time passwords replaced');

  // 3. Offline keys (1-of-1 is enough for a test), the root uploaded, the devices' trust anchors.
  await ctl(['online-keys', '--output', join(op, 'online-keys.json')]);
  await ctl(['keys', 'init', '--root-keys', '1', '--root-threshold', '1', '--targets-keys', '1', '--targets-threshold', '1', '--online-keys', join(op, 'online-keys.json')]);
  await ctl(['repo', 'upload-root']);
  await ctl(['repo', 'director-root', '--output', join(op, 'director-root.json')]);

  // 4. Images v1 (factory) and v2 (the release the tests deploy), signed offline and uploaded.
  await mkdir(join(work, 'images'));
  const image = async (v) => {
    const file = join(work, 'images', `os-${v}.img`);
    await writeFile(file, Buffer.concat([Buffer.from(`aloft-test-image version=${v} health=ok\n`), randomBytes(256 * 1024)]));
    return file;
  };
  const v1 = await image('1.0.0');
  const v2 = await image('2.0.0');
  await ctl(['release', 'create', v2, '--name', 'os-2.0.0.img.zst', '--version', '2.0.0', '--hardware', 'test-board', '--security-counter', '1']);
  const targetsKey = (await run('sh', ['-c', `ls "${join(op, 'repo', 'keys')}"/targets-*.pem`])).stdout.trim().split('\n')[0];
  await ctl(['release', 'sign', '--key', targetsKey]);
  await ctl(['release', 'upload']);
  log('release os-2.0.0.img.zst signed and uploaded');

  // 5. Three devices with a fleet enrollment token: dev-1 accepted, dev-2 and dev-3 pending.
  const token = JSON.parse(await ctl(['--json', 'enroll-token', 'create', '--uses', '3', '--valid-hours', '1'])).token;
  const health = join(work, 'health-check');
  await writeFile(health, "#!/bin/sh\nhead -c 200 \"$ALOFT_SLOT_PATH\" | head -n 1 | grep -q 'health=ok'\n", { mode: 0o755 });
  const devices = ['dev-1', 'dev-2', 'dev-3'];
  for (const id of devices) {
    const d = join(work, id);
    await mkdir(d, { mode: 0o700 });
    await copyFile(v1, join(d, 'slot-a.img'));
    await writeFile(join(d, 'slot-b.img'), '');
    await writeFile(
      join(d, 'agent.toml'),
      [
        `server_url = "${url}"`,
        `ca_file = "${ca}"`,
        `device_id = "${id}"`,
        'hardware_id = "test-board"',
        `data_dir = "${join(d, 'data')}"`,
        `enrollment_token = "${token}"`,
        'poll_interval_seconds = 10',
        'poll_jitter_percent = 0',
        `director_root = "${join(op, 'director-root.json')}"`,
        `image_root = "${join(op, 'repo', 'metadata', '1.root.json')}"`,
        'tags = ["browser-test"]',
        '[slots.a]',
        `device = "${join(d, 'slot-a.img')}"`,
        'kind = "file"',
        '[slots.b]',
        `device = "${join(d, 'slot-b.img')}"`,
        'kind = "file"',
        '[bootloader]',
        'kind = "simulated"',
        `env = "${join(d, 'bootloader.json')}"`,
        '[[health_checks]]',
        `command = ["${health}"]`,
        'timeout_seconds = 10',
        '',
      ].join('\n'),
    );
    await exec(join(bin, 'aloft-agent'), ['-c', join(d, 'agent.toml'), 'enroll']);
  }
  await ctl(['device', 'accept', 'dev-1']);
  for (const id of devices) runDevice(join(work, id));
  log('devices: dev-1 accepted, dev-2 and dev-3 pending; agents running');

  const env = {
    ALOFT_CONSOLE_URL: url,
    ALOFT_TEST_RELEASE: 'os-2.0.0.img.zst',
    ALOFT_TOTP_USER: secure.user,
    ALOFT_TOTP_PASSWORD: secure.password,
    ALOFT_TOTP_SECRET: secure.secret,
  };
  for (const [role, a] of Object.entries(accounts)) {
    env[`ALOFT_${role.toUpperCase()}_USER`] = a.user;
    env[`ALOFT_${role.toUpperCase()}_PASSWORD`] = a.password;
  }
  if (process.env.ALOFT_STACK_ONLY === '1') {
    for (const [k, v] of Object.entries(env)) console.log(`export ${k}=${v}`);
    log('stack up; Ctrl-C stops it');
    return;
  }

  // 6. The browser suite against it.
  const suite = spawn(process.execPath, [join(here, 'browser', 'run.mjs')], { stdio: 'inherit', env: { ...process.env, ...env } });
  children.push(suite); // stopped with the rest should aloftd die under it
  const code = await new Promise((r) => suite.once('exit', (c) => r(c ?? 1)));
  log(`browser suite finished (exit ${code})`);
  await shutdown(code);
}

main().catch((e) => die(e.message));
