// A stand-in for aloftd's management API v1, in memory, for fast UI-only browser runs
// (`npm run test:browser:fake`); `npm run test:browser` uses the real aloftd
// (tests/real-stack.mjs). It follows docs/api/openapi.yaml: cookie sessions with CSRF
// enforcement, bearer tokens, the role table, devices, static device groups, releases and the
// deltas the server built, deployments that progress on their own, and a hash-chained audit log. It also serves web/dist with the CSP aloftd must send.
//
//   node tests/fake-server.mjs            # listens on 127.0.0.1:$PORT (default 8765)
//   import { startFakeServer } from './fake-server.mjs'   # from the browser test runner
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { base32Encode, verifyTotp } from './totp.mjs';

export const kCsp =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// Seeded accounts (fake server only). The TOTP secret is fixed so tests can compute codes.
export const kAccounts = {
  admin: { password: 'admin-password-1', role: 'admin' },
  operator: { password: 'operator-password-1', role: 'operator' },
  viewer: { password: 'viewer-password-1', role: 'viewer' },
  auditor: { password: 'auditor-password-1', role: 'auditor' },
  release: { password: 'release-password-1', role: 'release-manager' },
  secure: { password: 'secure-password-1', role: 'admin', totp: 'JBSWY3DPEHPK3PXPJBSWY3DP' },
};

const kPermissions = {
  admin: ['users.manage', 'tokens.manage-own', 'devices.read', 'devices.manage', 'releases.read', 'releases.manage',
    'deployments.read', 'deployments.manage', 'deployments.emergency', 'audit.read'],
  'release-manager': ['tokens.manage-own', 'devices.read', 'releases.read', 'deployments.read', 'releases.manage',
    'deployments.manage', 'deployments.emergency'],
  operator: ['tokens.manage-own', 'devices.read', 'releases.read', 'deployments.read', 'devices.manage',
    'deployments.manage', 'deployments.emergency'],
  viewer: ['tokens.manage-own', 'devices.read', 'releases.read', 'deployments.read'],
  auditor: ['tokens.manage-own', 'audit.read'],
};
const kStates = ['pending', 'downloading', 'installing', 'rebooting', 'succeeded', 'failed', 'rolled_back'];
const kFinal = new Set(['succeeded', 'failed', 'rolled_back']);
const kMime = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.json': 'application/json',
  '.woff2': 'font/woff2', '.txt': 'text/plain; charset=utf-8',
};

const sha256 = (s) => createHash('sha256').update(s).digest('hex');
const secret = (n = 24) => randomBytes(n).toString('hex');
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

class HttpError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Deterministic pseudo-random numbers so every run seeds the same fleet.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function equalStrings(a, b) {
  const x = Buffer.from(String(a));
  const y = Buffer.from(String(b));
  return x.length === y.length && timingSafeEqual(x, y);
}

class FakeAloft {
  constructor({ waitScale = 0.001, now = () => Date.now() } = {}) {
    this.now = now;
    this.waitScale = waitScale;
    this.users = new Map();
    this.sessions = new Map();
    this.tokens = new Map();
    this.failures = new Map();
    this.devices = new Map();
    this.releases = [];
    // Deltas "aloftd" built itself (GET /api/v1/deltas), newest first.
    this.serverDeltas = [];
    this.deployments = new Map();
    this.audit = [];
    // Static groups: name → { name, created_at, created_by, members: Set of device ids }.
    this.groups = new Map();
    this.nextDeployment = 1;
    this.seed();
  }

  // ---- seed data ----------------------------------------------------------------------------
  seed() {
    const t = this.now();
    for (const [username, a] of Object.entries(kAccounts)) {
      this.users.set(username, {
        username, role: a.role, password: a.password, totp: a.totp ?? null, pendingTotp: null,
        created: iso(t - 40 * 86400e3),
      });
    }
    const release = (name, version, hw, counter, length, notes) => ({
      name, version, hardware_ids: hw, security_counter: counter, length, sha256: sha256(name), notes,
    });
    this.releases = [
      release('rpi4-64/aloft-os-2.4.0.img.zst', '2.4.0', ['rpi4-64'], 7, 412_331_008, 'Kernel 6.6.40, OpenSSL 3.0.15, agent 0.9.'),
      release('rpi4-64/aloft-os-2.3.1.img.zst', '2.3.1', ['rpi4-64'], 6, 409_112_576, 'Security fixes for curl and zlib.'),
      release('rpi4-64/aloft-os-2.2.0.img.zst', '2.2.0', ['rpi4-64'], 5, 401_604_608, ''),
      release('imx8-gw/gateway-fw-1.10.0.img.zst', '1.10.0', ['imx8-gw'], 12, 233_017_344, 'Modem firmware 4.1; watchdog fix.'),
      release('imx8-gw/gateway-fw-1.9.2.img.zst', '1.9.2', ['imx8-gw'], 11, 231_735_296, ''),
      release('x86-edge/edge-os-3.0.1.img.zst', '3.0.1', ['x86-edge', 'x86-edge-v2'], 3, 812_646_400, 'First 3.x release.'),
    ];
    const byVersion = Object.fromEntries(this.releases.map((r) => [r.hardware_ids[0] + r.version, r]));
    // A built delta and a failed one (a base image no release holds) to the newest rpi release,
    // and the one the completed rollout of 2.3.1 used. A release's sha256 stands for its image's.
    const built = (to, from, ago, artifactLength) => ({
      release: to.name, from_sha256: from.sha256, state: 'ready', requested_at: iso(t - ago - 60e3), updated_at: iso(t - ago),
      source_release: from.name, artifact_sha256: sha256(`${from.name}->${to.name}`), artifact_length: artifactLength,
      from_length: from.length, to_sha256: to.sha256, to_length: to.length,
    });
    const rpi = (v) => byVersion[`rpi4-64${v}`];
    this.serverDeltas = [
      built(rpi('2.4.0'), rpi('2.3.1'), 2 * 3600e3, 14_680_064),
      { release: rpi('2.4.0').name, from_sha256: sha256('hand-installed image'), state: 'failed', requested_at: iso(t - 3 * 3600e3),
        updated_at: iso(t - 3 * 3600e3 + 2e3),
        error: `no release for the same hardware has image ${sha256('hand-installed image').slice(0, 16)}: aloftd builds deltas only from images it holds` },
      built(rpi('2.3.1'), rpi('2.2.0'), 6 * 86400e3, 9_437_184),
    ];
    const rnd = prng(7);
    const sites = ['berlin', 'munich', 'lyon', 'porto', 'oslo'];
    const add = (id, hw, version, status, seenAgoMs, extra = {}) => {
      const rel = byVersion[hw + version];
      this.devices.set(id, {
        id, hardware_id: hw, status, image_version: version, image_sha256: rel ? rel.sha256 : sha256(id),
        security_counter: rel ? rel.security_counter : 1, agent_version: '0.9.0',
        attributes: { site: sites[Math.floor(rnd() * sites.length)], ring: rnd() < 0.15 ? 'canary' : 'general' },
        last_seen: seenAgoMs === null ? null : iso(t - seenAgoMs), deployment: null, reports: [],
        tags: [], key: { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: secret(32) } }, ...extra,
      });
      const d = this.devices.get(id);
      d.tags = [d.attributes.site, d.attributes.ring];
    };
    for (let i = 1; i <= 96; i++) {
      const version = i % 5 === 0 ? '2.2.0' : '2.3.1';
      add(`rpi-${String(i).padStart(4, '0')}`, 'rpi4-64', version, 'accepted', Math.floor(rnd() * 40 * 60e3));
    }
    for (let i = 1; i <= 40; i++) {
      add(`gw-${String(i).padStart(3, '0')}`, 'imx8-gw', '1.9.2', 'accepted', Math.floor(rnd() * 3 * 3600e3));
    }
    for (let i = 1; i <= 14; i++) {
      add(`edge-${String(i).padStart(3, '0')}`, i % 2 ? 'x86-edge' : 'x86-edge-v2', '3.0.1', 'accepted', Math.floor(rnd() * 20 * 60e3));
    }
    // Devices that need attention: not seen for days.
    for (const id of ['rpi-0013', 'rpi-0057', 'gw-031']) this.devices.get(id).last_seen = iso(t - (3 + rnd() * 4) * 86400e3);
    add('rpi-lab-new-01', 'rpi4-64', '2.2.0', 'pending', 5 * 60e3, { agent_version: '0.9.0' });
    add('gw-field-88', 'imx8-gw', '1.9.2', 'pending', 12 * 60e3);
    add('edge-unknown-7f3a', 'x86-edge', '3.0.1', 'pending', 2 * 60e3);
    add('rpi-stolen-02', 'rpi4-64', '2.3.1', 'decommissioned', 30 * 86400e3);
    add('gw-clone-bad', 'imx8-gw', '1.9.2', 'rejected', 9 * 86400e3);

    this.seedRepository(t);
    this.auditAppend('admin', 'session.create', 'admin', 'success', {});
    this.auditAppend('admin', 'user.create', 'operator', 'success', { role: 'operator' });

    // History: a completed rollout of 2.3.1 and a paused firmware canary with failures.
    const done = this.createDeploymentInternal('release', {
      release: 'rpi4-64/aloft-os-2.3.1.img.zst', selector: { hardware_id: 'rpi4-64', image_version: '2.2.0' },
      phases: [{ percent: 10, wait_seconds: 3600 }, { percent: 100, wait_seconds: 0 }],
      failure_threshold_percent: 10, min_devices_for_threshold: 1, phase_deadline_seconds: 3600,
    }, t - 6 * 86400e3, ['rpi-0001', 'rpi-0002', 'rpi-0003', 'rpi-0004', 'rpi-0006', 'rpi-0007', 'rpi-0008', 'rpi-0009', 'rpi-0010', 'rpi-0011']);
    done.state = 'completed';
    done.phases.forEach((p, i) => (p.started = iso(t - (6 - i) * 86400e3)));
    done.current_phase = done.phases.length - 1;
    for (const id of done.targets) this.setDeviceState(done, id, id === 'rpi-0010' ? 'rolled_back' : 'succeeded', t - 5 * 86400e3,
      id === 'rpi-0010' ? 'health check failed after reboot; rolled back to slot A' : 'update installed');
    this.auditAppend('release', 'deployment.create', done.id, 'success', { release: done.release });

    const paused = this.createDeploymentInternal('operator', {
      release: 'imx8-gw/gateway-fw-1.10.0.img.zst', selector: { hardware_id: 'imx8-gw', tags: ['canary'] },
      phases: [{ percent: 50, wait_seconds: 1800 }, { percent: 100, wait_seconds: 0 }],
      failure_threshold_percent: 10, min_devices_for_threshold: 2, phase_deadline_seconds: 3600,
    }, t - 5 * 3600e3);
    const firstPhase = paused.targets.slice(0, Math.max(1, Math.ceil(paused.targets.length / 2)));
    paused.phases[0].started = iso(t - 5 * 3600e3);
    firstPhase.forEach((id, i) => this.setDeviceState(paused, id, i === 0 ? 'failed' : 'succeeded', t - 4 * 3600e3,
      i === 0 ? 'install failed: modem firmware did not verify' : 'update installed'));
    paused.state = 'paused';
    paused.paused_reason = 'failure threshold exceeded';
    this.auditAppend('system', 'deployment.pause', paused.id, 'success', { reason: paused.paused_reason });
  }


  // ---- repositories and online keys (GET /api/v1/repo/status, /api/v1/online-keys) -----------
  // A 2-of-3 offline root, 1-of-1 targets; the Image targets metadata expires in 5 days, so the
  // security page has something to warn about.
  seedRepository(t) {
    const key = (name) => ({ keyid: sha256(`key-${name}`), key: { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: sha256(`pub-${name}`) } } });
    this.onlineKeys = Object.fromEntries(
      ['image-snapshot', 'image-timestamp', 'director-root', 'director-targets', 'director-snapshot', 'director-timestamp']
        .map((name, i) => [name, { ...key(name), createdAt: i === 5 ? null : iso(t - (200 + i) * 86400e3) }]),
    );
    this.stagedKeys = null;
    this.rootRoles = {
      root: { threshold: 2, keyids: ['root-a', 'root-b', 'root-c'].map((n) => sha256(`key-${n}`)) },
      targets: { threshold: 1, keyids: [sha256('key-targets-1')] },
      snapshot: { threshold: 1, keyids: [this.onlineKeys['image-snapshot'].keyid] },
      timestamp: { threshold: 1, keyids: [this.onlineKeys['image-timestamp'].keyid] },
    };
    this.repoSeededAt = t;
  }
  repoStatus() {
    const t = this.now();
    const t0 = this.repoSeededAt;
    return {
      now: iso(t),
      image: {
        root: { version: 2, expires: iso(t0 + 300 * 86400e3), roles: this.rootRoles },
        targets: { version: 14, expires: iso(t0 + 5 * 86400e3) },
        snapshot: { version: 230, expires: iso(t0 + 6 * 86400e3) },
        timestamp: { version: 4100, expires: iso(t0 + 20 * 3600e3) },
      },
      director: { root: { version: 1, expires: iso(t0 + 3000 * 86400e3) } },
      onlineKeys: Object.entries(this.onlineKeys).map(([name, k]) => ({ name, keyid: k.keyid, createdAt: k.createdAt })),
    };
  }
  onlineKeysJson() {
    const pub = (k) => ({ keyid: k.keyid, key: k.key });
    const out = { snapshot: pub(this.onlineKeys['image-snapshot']), timestamp: pub(this.onlineKeys['image-timestamp']) };
    if (this.stagedKeys) out.next = { snapshot: pub(this.stagedKeys.snapshot), timestamp: pub(this.stagedKeys.timestamp) };
    return out;
  }
  stageRotation() {
    const n = secret(8);
    const key = (role) => ({ keyid: sha256(`next-${role}-${n}`), key: { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: sha256(`pub-${n}-${role}`) } } });
    this.stagedKeys = { snapshot: key('snapshot'), timestamp: key('timestamp') };
  }

  // ---- fleet summary and history (GET /api/v1/fleet/summary, /api/v1/fleet/history) ----------
  fleetSummary() {
    const since = this.now() - 24 * 3600e3;
    const groups = new Map();
    let notSeen = 0;
    for (const d of this.devices.values()) {
      const k = `${d.status}\u0000${d.hardware_id}\u0000${d.image_version}`;
      const g = groups.get(k) ?? { status: d.status, hardwareId: d.hardware_id, imageVersion: d.image_version, devices: 0 };
      g.devices++;
      groups.set(k, g);
      if (d.status === 'accepted' && (!d.last_seen || Date.parse(d.last_seen) < since)) notSeen++;
    }
    return { total: this.devices.size, groups: [...groups.values()], notSeen: { since: iso(since), devices: notSeen } };
  }
  // Hourly samples: today's accepted devices per version, with the fleet's story before: the
  // 2.3.1 rollout of 5 days ago, an earlier 2.3.1 wave 30 days ago, and no x86 devices before
  // day 60.
  fleetHistory(hours) {
    const interval = 3600e3;
    const t = this.now();
    const current = {};
    for (const d of this.devices.values()) if (d.status === 'accepted') current[d.image_version] = (current[d.image_version] ?? 0) + 1;
    const move = (v, from, to, n) => {
      const k = Math.min(n, v[from] ?? 0);
      v[from] -= k;
      v[to] = (v[to] ?? 0) + k;
    };
    const samples = [];
    const last = Math.floor(t / interval) * interval;
    for (let at = last - (hours - 1) * interval; at <= last; at += interval) {
      const ago = t - at;
      const v = { ...current };
      if (ago > 5 * 86400e3) move(v, '2.3.1', '2.2.0', 9);
      if (ago > 30 * 86400e3) move(v, '2.3.1', '2.2.0', 40);
      if (ago > 60 * 86400e3) v['3.0.1'] = 0;
      samples.push({ at: iso(at), versions: Object.fromEntries(Object.entries(v).filter(([, n]) => n > 0)) });
    }
    return { intervalSeconds: interval / 1000, samples };
  }

  // ---- audit ----------------------------------------------------------------------------------
  auditAppend(actor, action, target, outcome, details) {
    const prev = this.audit.at(-1);
    const rec = { seq: (prev?.seq ?? 0) + 1, at: iso(this.now()), actor, action, target, outcome, details, prev_hash: prev?.hash ?? '0'.repeat(64) };
    rec.hash = this.auditHash(rec);
    this.audit.push(rec);
  }
  auditHash(r) {
    return sha256(r.prev_hash + JSON.stringify([r.seq, r.at, r.actor, r.action, r.target, r.outcome, r.details]));
  }
  verifyAudit() {
    let prev = '0'.repeat(64);
    for (const r of this.audit) {
      if (r.prev_hash !== prev || this.auditHash(r) !== r.hash) {
        return { ok: false, records: this.audit.length, head_hash: this.audit.at(-1)?.hash ?? '', first_bad_seq: r.seq, problem: 'hash mismatch' };
      }
      prev = r.hash;
    }
    return { ok: true, records: this.audit.length, head_hash: prev };
  }

  // ---- deployments ----------------------------------------------------------------------------
  selectDevices(release, s) {
    const hw = s.hardware_id ? [s.hardware_id] : release.hardware_ids;
    return [...this.devices.values()].filter((d) =>
      d.status === 'accepted' && hw.includes(d.hardware_id) &&
      (!s.devices?.length || s.devices.includes(d.id)) &&
      (!s.tags?.length || s.tags.every((t) => d.tags.includes(t))) &&
      (!s.image_version || d.image_version === s.image_version) &&
      (!s.group || Boolean(this.groups.get(s.group)?.members.has(d.id))) &&
      Object.entries(s.attributes ?? {}).every(([k, v]) => d.attributes[k] === v),
    ).map((d) => d.id).sort();
  }

  createDeploymentInternal(actor, body, createdMs, forcedTargets) {
    const release = this.releases.find((r) => r.name === body.release);
    if (!release) throw new HttpError(404, 'not_found', `no release named '${body.release}'`);
    const group = body.selector?.group;
    if (group !== undefined && (typeof group !== 'string' || !this.groups.has(group))) {
      throw new HttpError(404, 'not_found', `no group '${group}' (create it first: POST /api/v1/groups)`);
    }
    const targets = forcedTargets ?? this.selectDevices(release, body.selector ?? {});
    // As aloftd, a group's membership is read at check-in: an empty group is a valid target.
    if (targets.length === 0 && !group) throw new HttpError(400, 'no_matching_devices', 'No accepted device matches this target.');
    const id = `dep-${String(this.nextDeployment++).padStart(4, '0')}`;
    const dep = {
      id, release: release.name, state: 'active', paused_reason: null, created: iso(createdMs), created_by: actor,
      current_phase: 0, phases: body.phases.map((p) => ({ percent: p.percent, wait_seconds: p.wait_seconds, started: null })),
      failure_threshold_percent: body.failure_threshold_percent, min_devices: body.min_devices_for_threshold ?? 1,
      targets, device: new Map(targets.map((t) => [t, { device_id: t, state: 'pending', phase: 0, updated: iso(createdMs), message: '' }])),
      phaseDoneAt: null, selector: body.selector, maintenance_window: body.maintenance_window ?? null,
    };
    targets.forEach((t, i) => (dep.device.get(t).phase = this.phaseOf(dep, i)));
    dep.phases[0].started = iso(createdMs);
    this.deployments.set(id, dep);
    return dep;
  }

  phaseTarget(dep, i) {
    const n = dep.targets.length;
    return Math.min(n, Math.max(1, Math.ceil((dep.phases[i].percent * n) / 100)));
  }
  phaseOf(dep, index) {
    for (let i = 0; i < dep.phases.length; i++) if (index < this.phaseTarget(dep, i)) return i;
    return dep.phases.length - 1;
  }

  setDeviceState(dep, id, state, atMs, message = '') {
    const entry = dep.device.get(id);
    entry.state = state;
    entry.updated = iso(atMs);
    entry.message = message;
    const device = this.devices.get(id);
    if (!device) return;
    device.deployment = { id: dep.id, state };
    device.last_seen = iso(atMs);
    const wire = state === 'rolled_back' ? 'rolled-back' : state;
    if (state !== 'pending') {
      const release = this.releases.find((r) => r.name === dep.release);
      device.reports.unshift({
        id: secret(8), deploymentId: dep.id, state: wire, bytesDone: state === 'downloading' ? Math.floor(release.length / 3) : release.length,
        bytesTotal: release.length, message, at: iso(atMs),
        logTail: state === 'succeeded' ? `aloft-agent: slot B verified\naloft-agent: booted ${release.version}\naloft-agent: health check passed` :
          kFinal.has(state) ? `aloft-agent: ${message}\naloft-agent: marking slot B bad` : '',
      });
      device.reports.length = Math.min(device.reports.length, 20);
      if (state === 'succeeded') {
        device.image_version = release.version;
        device.image_sha256 = release.sha256;
        device.security_counter = release.security_counter;
      }
    }
  }

  // Moves every active deployment forward one tick: devices step through the update states,
  // phases open when the previous one finished and its wait elapsed, and the failure threshold
  // pauses the rollout.
  tick() {
    const t = this.now();
    for (const dep of this.deployments.values()) {
      if (dep.state !== 'active') continue;
      // A group's devices join at check-in on aloftd; here targets are fixed at creation, so a
      // deployment to a group that was empty then waits, as aloftd's would for its deadline.
      if (dep.targets.length === 0) continue;
      const open = this.phaseTarget(dep, dep.current_phase);
      const rnd = prng(Math.floor(t / 100) + dep.targets.length);
      // Devices start a few at a time, as real ones check in at different moments.
      let starts = Math.max(2, Math.ceil(dep.targets.length * 0.06));
      for (const id of dep.targets.slice(0, open)) {
        const e = dep.device.get(id);
        if (kFinal.has(e.state) || rnd() < 0.35) continue;
        if (e.state === 'pending' && starts-- <= 0) continue;
        const device = this.devices.get(id);
        const fails = device?.hardware_id === 'imx8-gw' && Number(id.replace(/\D/g, '')) % 7 === 3;
        const next = { pending: 'downloading', downloading: 'installing', installing: 'rebooting',
          rebooting: fails ? 'failed' : 'succeeded' }[e.state];
        this.setDeviceState(dep, id, next, t, next === 'failed' ? 'health check failed after reboot' : next === 'succeeded' ? 'update installed' : '');
      }
      const finished = [...dep.device.values()].filter((e) => kFinal.has(e.state));
      const failed = finished.filter((e) => e.state !== 'succeeded').length;
      if (finished.length >= dep.min_devices && (failed / Math.max(1, finished.length)) * 100 > dep.failure_threshold_percent) {
        dep.state = 'paused';
        dep.paused_reason = `failure threshold exceeded (${failed} of ${finished.length} failed)`;
        this.auditAppend('system', 'deployment.pause', dep.id, 'success', { reason: dep.paused_reason });
        continue;
      }
      const phaseDone = dep.targets.slice(0, open).every((id) => kFinal.has(dep.device.get(id).state));
      if (!phaseDone) continue;
      dep.phaseDoneAt ??= t;
      const wait = dep.phases[dep.current_phase].wait_seconds * 1000 * this.waitScale;
      if (t - dep.phaseDoneAt < wait) continue;
      if (dep.current_phase === dep.phases.length - 1) {
        dep.state = 'completed';
        this.auditAppend('system', 'deployment.complete', dep.id, 'success', {});
      } else {
        dep.current_phase++;
        dep.phases[dep.current_phase].started = iso(t);
        dep.phaseDoneAt = null;
      }
    }
  }

  deploymentJson(dep) {
    const counts = Object.fromEntries(kStates.map((s) => [s, 0]));
    for (const e of dep.device.values()) counts[e.state]++;
    return {
      id: dep.id, release: dep.release, state: dep.state, paused_reason: dep.paused_reason, created: dep.created,
      created_by: dep.created_by, current_phase: dep.current_phase, phases: dep.phases,
      failure_threshold_percent: dep.failure_threshold_percent, counts, selector: dep.selector ?? {},
      devices: [...dep.device.values()].filter((e) => e.state !== 'pending' || e.phase <= dep.current_phase).slice(0, 100),
    };
  }

  // ---- static groups (/api/v1/groups), with aloftd's rules and messages -----------------------
  groupJson(g) {
    return { name: g.name, members: g.members.size, created_at: g.created_at, created_by: g.created_by };
  }
  groupOrThrow(name) {
    const g = this.groups.get(name);
    if (!g) throw new HttpError(404, 'not_found', `no group '${name}'`);
    return g;
  }
  changeMembers(actor, name, body, add) {
    const g = this.groupOrThrow(name);
    const ids = body?.devices;
    if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
      throw new HttpError(400, 'invalid_argument', 'the body must be {"devices": ["device id", ...]}');
    }
    if (ids.length === 0) throw new HttpError(400, 'invalid_argument', 'devices must list at least one device id');
    if (ids.length > 1000) throw new HttpError(400, 'invalid_argument', 'devices lists more than 1000 ids; change the group in several requests');
    const unknown = ids.filter((id) => !this.devices.has(id));
    if (unknown.length) {
      const shown = unknown.slice(0, 20).join(', ') + (unknown.length > 20 ? ` and ${unknown.length - 20} more` : '');
      this.auditAppend(actor, add ? 'group.members_add' : 'group.members_remove', name, 'failure', {});
      throw new HttpError(400, 'invalid_argument', `unknown device ids (nothing was changed): ${shown}`);
    }
    let changed = 0;
    for (const id of new Set(ids)) {
      const had = g.members.has(id);
      if (add && !had) g.members.add(id);
      if (!add && had) g.members.delete(id);
      if (add !== had) changed++;
    }
    this.auditAppend(actor, add ? 'group.members_add' : 'group.members_remove', name, 'success', { changed });
    return { ...this.groupJson(g), [add ? 'added' : 'removed']: changed };
  }

  deviceJson(d, withReports = false) {
    const { reports, tags, key, ...rest } = d;
    return withReports ? { ...rest, reports } : rest;
  }
}

// ---- HTTP ---------------------------------------------------------------------------------------

function parseCookies(header = '') {
  const out = {};
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function securityHeaders(res) {
  res.setHeader('Content-Security-Policy', kCsp);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  if (!res.hasHeader('Cache-Control')) res.setHeader('Cache-Control', 'no-store');
}

function send(res, status, body, headers = {}) {
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  securityHeaders(res);
  if (body === undefined) {
    res.writeHead(status);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(text);
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > 1 << 20) throw new HttpError(413, 'body_too_large', 'request body over 1 MiB');
    chunks.push(c);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'bad_json', 'request body is not valid JSON');
  }
}

function need(principal, permission) {
  if (!kPermissions[principal.role]?.includes(permission)) {
    throw new HttpError(403, 'forbidden', `your role (${principal.role}) lacks ${permission}`);
  }
}

function within(candidate, holder) {
  return kPermissions[candidate].every((p) => kPermissions[holder].includes(p));
}

function str(v, name, max = 128) {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw new HttpError(400, 'invalid_argument', `${name} must be a string of 1 to ${max} characters`);
  return v;
}

export async function startFakeServer({ port = 0, host = '127.0.0.1', distDir, waitScale = 0.001, tickMs = 350, quiet = true } = {}) {
  const fake = new FakeAloft({ waitScale });
  const dist = resolve(distDir ?? fileURLToPath(new URL('../dist', import.meta.url)));
  const ticker = setInterval(() => fake.tick(), tickMs);
  ticker.unref();

  function authenticate(req) {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) {
      const hash = sha256(auth.slice(7));
      const token = [...fake.tokens.values()].find((t) => t.hash === hash && Date.parse(t.expires) > fake.now());
      if (!token) throw new HttpError(401, 'unauthenticated', 'invalid or expired token');
      token.last_used = iso(fake.now());
      return { username: token.owner, role: token.role, via: 'token' };
    }
    const sid = parseCookies(req.headers.cookie).aloft_session;
    const session = sid && fake.sessions.get(sid);
    if (!session || session.expires < fake.now()) {
      if (session) fake.sessions.delete(sid);
      throw new HttpError(401, 'unauthenticated', 'sign in first');
    }
    const user = fake.users.get(session.username);
    if (!user) throw new HttpError(401, 'unauthenticated', 'sign in first');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const sent = req.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !equalStrings(sent, session.csrf)) {
        fake.auditAppend(user.username, `${req.method} ${req.url.split('?')[0]}`, '', 'denied', { reason: 'csrf' });
        throw new HttpError(403, 'csrf_failed', 'missing or wrong X-CSRF-Token header');
      }
    }
    return { username: user.username, role: user.role, via: 'session', sid, session };
  }

  function sessionJson(session, user) {
    // As aloftd: the flag at the top (the contract) and on the user.
    const must = Boolean(user.mustChange);
    return { user: { username: user.username, role: user.role, must_change_password: must }, csrf_token: session.csrf, expires: iso(session.expires), must_change_password: must };
  }

  async function api(req, res, url) {
    const path = url.pathname;
    const m = (re) => re.exec(path);
    const method = req.method;
    const q = url.searchParams;

    if (path === '/api/v1/session' && method === 'POST') {
      const body = await readBody(req);
      const username = String(body.username ?? '');
      const f = fake.failures.get(username);
      if (f && f.count >= 5 && fake.now() - f.at < 60e3) throw new HttpError(429, 'rate_limited', 'Too many failed sign-ins; wait a minute.');
      const user = fake.users.get(username);
      const ok = user && equalStrings(String(body.password ?? ''), user.password);
      if (ok && user.totp && !body.totp) throw new HttpError(401, 'totp_required', 'enter the code from your authenticator');
      if (!ok || (user.totp && !verifyTotp(user.totp, String(body.totp)))) {
        fake.failures.set(username, { count: (f?.count ?? 0) + 1, at: fake.now() });
        fake.auditAppend(username || '-', 'session.create', username, 'failure', {});
        throw new HttpError(401, 'invalid_credentials', 'wrong username, password or code');
      }
      fake.failures.delete(username);
      const sid = secret();
      const session = { username, csrf: secret(16), expires: fake.now() + 8 * 3600e3 };
      fake.sessions.set(sid, session);
      fake.auditAppend(username, 'session.create', username, 'success', {});
      return send(res, 200, sessionJson(session, user), {
        'Set-Cookie': `aloft_session=${sid}; HttpOnly; SameSite=Strict; Path=/`,
      });
    }

    const p = authenticate(req);
    // A one-time password opens a session that can only replace it (as aloftd).
    if (fake.users.get(p.username)?.mustChange && path !== '/api/v1/session' && path !== '/api/v1/users/self/password') {
      throw new HttpError(403, 'password_change_required', 'change the one-time password first (PUT /api/v1/users/self/password)');
    }

    if (path === '/api/v1/session') {
      if (p.via !== 'session') throw new HttpError(400, 'invalid_argument', 'no session with a bearer token');
      if (method === 'GET') return send(res, 200, sessionJson(p.session, fake.users.get(p.username)));
      if (method === 'DELETE') {
        fake.sessions.delete(p.sid);
        fake.auditAppend(p.username, 'session.delete', p.username, 'success', {});
        return send(res, 204, undefined, { 'Set-Cookie': 'aloft_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0' });
      }
    }

    // Devices
    if (path === '/api/v1/devices' && method === 'GET') {
      need(p, 'devices.read');
      const limit = Math.min(Math.max(Number(q.get('limit')) || 50, 1), 1000);
      const after = q.get('after') ?? '';
      const status = q.get('status');
      const hw = q.get('hardware_id');
      const tag = q.get('tag');
      const version = q.get('image_version');
      const all = [...fake.devices.values()]
        .filter((d) => (!status || d.status === status) && (!hw || d.hardware_id === hw) && (!tag || d.tags.includes(tag)) &&
          (version === null || d.image_version === version))
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .filter((d) => !after || d.id > after);
      const page = all.slice(0, limit);
      return send(res, 200, { devices: page.map((d) => fake.deviceJson(d)), next_after: all.length > limit ? page.at(-1).id : null });
    }
    let mm;
    if ((mm = m(/^\/api\/v1\/devices\/([^/]+)$/)) && method === 'GET') {
      need(p, 'devices.read');
      const d = fake.devices.get(decodeURIComponent(mm[1]));
      if (!d) throw new HttpError(404, 'not_found', 'no such device');
      return send(res, 200, fake.deviceJson(d, true));
    }
    if ((mm = m(/^\/api\/v1\/devices\/([^/]+)\/(accept|reject|revoke)$/)) && method === 'POST') {
      need(p, 'devices.manage');
      const id = decodeURIComponent(mm[1]);
      const d = fake.devices.get(id);
      if (!d) throw new HttpError(404, 'not_found', 'no such device');
      const to = { accept: 'accepted', reject: 'rejected', revoke: 'decommissioned' }[mm[2]];
      if (d.status === 'decommissioned') throw new HttpError(409, 'invalid_state', 'a decommissioned device cannot change state');
      d.status = to;
      fake.auditAppend(p.username, `device.${mm[2]}`, id, 'success', {});
      return send(res, 200, fake.deviceJson(d));
    }

    // Static groups
    if (path === '/api/v1/groups' && method === 'GET') {
      need(p, 'devices.read');
      const limit = Math.min(Math.max(Number(q.get('limit')) || 100, 1), 1000);
      const after = q.get('after') ?? '';
      const list = [...fake.groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).filter((g) => !after || g.name > after).slice(0, limit);
      return send(res, 200, { groups: list.map((g) => fake.groupJson(g)), next_after: list.length === limit ? list.at(-1).name : null });
    }
    if (path === '/api/v1/groups' && method === 'POST') {
      need(p, 'devices.manage');
      const b = await readBody(req);
      const name = b.name;
      if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
        throw new HttpError(400, 'invalid_argument', "group name must be 1-64 characters of a-z, 0-9, '.', '_' and '-', starting with a letter or digit");
      }
      if (name.includes('..')) throw new HttpError(400, 'invalid_argument', "group name must not contain '..'");
      if (fake.groups.has(name)) throw new HttpError(409, 'already_exists', `group '${name}' already exists`);
      const g = { name, created_at: iso(fake.now()), created_by: p.username, members: new Set() };
      fake.groups.set(name, g);
      fake.auditAppend(p.username, 'group.create', name, 'success', {});
      return send(res, 201, fake.groupJson(g));
    }
    if ((mm = m(/^\/api\/v1\/groups\/([^/]+)$/)) && method === 'GET') {
      need(p, 'devices.read');
      const g = fake.groupOrThrow(decodeURIComponent(mm[1]));
      const limit = Math.min(Math.max(Number(q.get('limit')) || 100, 1), 1000);
      const after = q.get('after') ?? '';
      const devices = [...g.members].sort().filter((id) => !after || id > after).slice(0, limit);
      return send(res, 200, { ...fake.groupJson(g), devices, next_after: devices.length === limit ? devices.at(-1) : null });
    }
    if ((mm = m(/^\/api\/v1\/groups\/([^/]+)$/)) && method === 'DELETE') {
      need(p, 'devices.manage');
      const g = fake.groupOrThrow(decodeURIComponent(mm[1]));
      const users = [...fake.deployments.values()].filter((d) => (d.state === 'active' || d.state === 'paused') && d.selector?.group === g.name).map((d) => d.id);
      if (users.length) {
        fake.auditAppend(p.username, 'group.delete', g.name, 'failure', {});
        throw new HttpError(409, 'group_in_use', `group '${g.name}' is targeted by deployment(s) ${users.join(', ')}; cancel them or wait until they complete`);
      }
      fake.groups.delete(g.name);
      fake.auditAppend(p.username, 'group.delete', g.name, 'success', {});
      return send(res, 200, { deleted: g.name });
    }
    if ((mm = m(/^\/api\/v1\/groups\/([^/]+)\/members(\/remove)?$/)) && method === 'POST') {
      need(p, 'devices.manage');
      const b = await readBody(req);
      return send(res, 200, fake.changeMembers(p.username, decodeURIComponent(mm[1]), b, !mm[2]));
    }

    // Releases and keys
    if (path === '/api/v1/releases' && method === 'GET') {
      need(p, 'releases.read');
      return send(res, 200, { releases: fake.releases });
    }
    if ((mm = m(/^\/api\/v1\/releases\/(.+)$/)) && method === 'GET') {
      need(p, 'releases.read');
      const r = fake.releases.find((x) => x.name === decodeURIComponent(mm[1]));
      if (!r) throw new HttpError(404, 'not_found', 'no such release');
      return send(res, 200, r);
    }
    if (path === '/api/v1/deltas' && method === 'GET') {
      need(p, 'releases.read');
      return send(res, 200, { deltas: fake.serverDeltas.slice(0, 500) });
    }
    if (path === '/api/v1/online-keys' && method === 'GET') {
      need(p, 'releases.read');
      return send(res, 200, fake.onlineKeysJson());
    }
    if (path === '/api/v1/online-keys/rotate' && method === 'POST') {
      need(p, 'releases.manage');
      if (Number(req.headers['content-length'] ?? 0) > 0) throw new HttpError(413, 'body_too_large', 'this route takes no body');
      const was = Boolean(fake.stagedKeys);
      if (!was) {
        fake.stageRotation();
        fake.auditAppend(p.username, 'online_keys.rotate', 'image', 'success', {});
      }
      return send(res, was ? 200 : 201, { next: fake.onlineKeysJson().next });
    }
    if (path === '/api/v1/repo/status' && method === 'GET') {
      need(p, 'releases.read');
      return send(res, 200, fake.repoStatus());
    }

    // Fleet
    if (path === '/api/v1/fleet/summary' && method === 'GET') {
      need(p, 'devices.read');
      return send(res, 200, fake.fleetSummary());
    }
    if (path === '/api/v1/fleet/history' && method === 'GET') {
      need(p, 'devices.read');
      const raw = q.get('hours');
      const hours = raw === null ? 168 : Number(raw);
      if (!(Number.isInteger(hours) && hours >= 1 && hours <= 2160)) throw new HttpError(400, 'invalid_argument', 'hours must be 1..2160');
      return send(res, 200, fake.fleetHistory(hours));
    }

    // Deployments
    if (path === '/api/v1/deployments' && method === 'GET') {
      need(p, 'deployments.read');
      const state = q.get('state');
      const list = [...fake.deployments.values()].filter((d) => !state || d.state === state).reverse();
      return send(res, 200, { deployments: list.map((d) => fake.deploymentJson(d)) });
    }
    if (path === '/api/v1/deployments' && method === 'POST') {
      need(p, 'deployments.manage');
      const b = await readBody(req);
      str(b.release, 'release', 512);
      if (!Array.isArray(b.phases) || b.phases.length === 0) throw new HttpError(400, 'invalid_argument', 'phases must be a non-empty list');
      let prev = 0;
      for (const ph of b.phases) {
        if (!(ph.percent > prev && ph.percent <= 100) || !(Number.isInteger(ph.wait_seconds) && ph.wait_seconds >= 0)) {
          throw new HttpError(400, 'invalid_argument', 'phase percents must grow up to 100 and waits be whole seconds');
        }
        prev = ph.percent;
      }
      if (prev !== 100) throw new HttpError(400, 'invalid_argument', 'the last phase must reach 100 %');
      if (!(b.failure_threshold_percent >= 0 && b.failure_threshold_percent <= 100)) throw new HttpError(400, 'invalid_argument', 'failure_threshold_percent must be 0..100');
      const dep = fake.createDeploymentInternal(p.username, b, fake.now());
      fake.auditAppend(p.username, 'deployment.create', dep.id, 'success', { release: dep.release, devices: dep.targets.length });
      return send(res, 201, fake.deploymentJson(dep));
    }
    if (path === '/api/v1/deployments/pause-all' && method === 'POST') {
      need(p, 'deployments.emergency');
      const b = await readBody(req);
      const reason = str(b.reason, 'reason', 500);
      let n = 0;
      for (const d of fake.deployments.values()) {
        if (d.state === 'active') {
          d.state = 'paused';
          d.paused_reason = reason;
          n++;
        }
      }
      fake.auditAppend(p.username, 'deployment.pause_all', '*', 'success', { reason, paused: n });
      return send(res, 200, { paused: n });
    }
    if ((mm = m(/^\/api\/v1\/deployments\/([^/]+)$/)) && method === 'GET') {
      need(p, 'deployments.read');
      const d = fake.deployments.get(decodeURIComponent(mm[1]));
      if (!d) throw new HttpError(404, 'not_found', 'no such deployment');
      return send(res, 200, fake.deploymentJson(d));
    }
    if ((mm = m(/^\/api\/v1\/deployments\/([^/]+)\/(pause|resume|cancel)$/)) && method === 'POST') {
      need(p, 'deployments.manage');
      const d = fake.deployments.get(decodeURIComponent(mm[1]));
      if (!d) throw new HttpError(404, 'not_found', 'no such deployment');
      const b = await readBody(req);
      const allowed = { pause: ['active'], resume: ['paused'], cancel: ['active', 'paused'] }[mm[2]];
      if (!allowed.includes(d.state)) throw new HttpError(409, 'invalid_state', `cannot ${mm[2]} a deployment that is ${d.state}`);
      d.state = { pause: 'paused', resume: 'active', cancel: 'cancelled' }[mm[2]];
      d.paused_reason = mm[2] === 'pause' ? (typeof b.reason === 'string' && b.reason ? b.reason : null) : null;
      fake.auditAppend(p.username, `deployment.${mm[2]}`, d.id, 'success', b.reason ? { reason: b.reason } : {});
      return send(res, 200, fake.deploymentJson(d));
    }

    // Audit
    if (path === '/api/v1/audit' && method === 'GET') {
      need(p, 'audit.read');
      const after = Number(q.get('after')) || 0;
      const limit = Math.min(Math.max(Number(q.get('limit')) || 100, 1), 1000);
      const rest = fake.audit.filter((r) => r.seq > after);
      const page = rest.slice(0, limit);
      return send(res, 200, { records: page, next_after: rest.length > limit ? page.at(-1).seq : null });
    }
    if (path === '/api/v1/audit/verify' && method === 'GET') {
      need(p, 'audit.read');
      return send(res, 200, fake.verifyAudit());
    }
    if (path === '/api/v1/audit/export' && method === 'GET') {
      need(p, 'audit.read');
      securityHeaders(res);
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Content-Disposition': 'attachment; filename="aloft-audit.ndjson"' });
      return res.end(fake.audit.map((r) => JSON.stringify(r)).join('\n') + '\n');
    }

    // Users
    if (path === '/api/v1/users' && method === 'GET') {
      need(p, 'users.manage');
      return send(res, 200, { users: [...fake.users.values()].map((u) => ({ username: u.username, role: u.role, totp: Boolean(u.totp), created: u.created })) });
    }
    if (path === '/api/v1/users' && method === 'POST') {
      need(p, 'users.manage');
      const b = await readBody(req);
      const username = str(b.username, 'username', 64);
      if (!/^[a-z0-9._-]+$/.test(username)) throw new HttpError(400, 'invalid_argument', 'username: lower-case letters, digits, dot, dash, underscore');
      if (!kPermissions[b.role]) throw new HttpError(400, 'invalid_argument', 'unknown role');
      if (fake.users.has(username)) throw new HttpError(409, 'already_exists', 'a user with that name exists');
      const password = secret(9);
      fake.users.set(username, { username, role: b.role, password, mustChange: true, totp: null, pendingTotp: null, created: iso(fake.now()) });
      fake.auditAppend(p.username, 'user.create', username, 'success', { role: b.role });
      return send(res, 201, { username, role: b.role, one_time_password: password });
    }
    if ((mm = m(/^\/api\/v1\/users\/([^/]+)\/role$/)) && method === 'PUT') {
      need(p, 'users.manage');
      const u = fake.users.get(decodeURIComponent(mm[1]));
      if (!u) throw new HttpError(404, 'not_found', 'no such user');
      const b = await readBody(req);
      if (!kPermissions[b.role]) throw new HttpError(400, 'invalid_argument', 'unknown role');
      u.role = b.role;
      fake.auditAppend(p.username, 'user.set_role', u.username, 'success', { role: b.role });
      return send(res, 200, { username: u.username, role: u.role, totp: Boolean(u.totp), created: u.created });
    }
    if (path === '/api/v1/users/self/password' && method === 'PUT') {
      const b = await readBody(req);
      const u = fake.users.get(p.username);
      // aloftd's answers: 403 for a wrong current password (the session itself is fine), 400
      // password_policy for a weak new one.
      if (!equalStrings(String(b.current ?? ''), u.password)) throw new HttpError(403, 'invalid_credentials', 'the current password is wrong');
      if (typeof b.new !== 'string' || b.new.length < 12) throw new HttpError(400, 'password_policy', 'the new password needs at least 12 characters');
      u.password = b.new;
      u.mustChange = false;
      fake.auditAppend(p.username, 'user.password', p.username, 'success', {});
      return send(res, 204);
    }
    if (path === '/api/v1/users/self/totp' && method === 'POST') {
      const u = fake.users.get(p.username);
      u.pendingTotp = base32Encode(randomBytes(20));
      return send(res, 200, { secret_base32: u.pendingTotp, otpauth_uri: `otpauth://totp/Aloft:${u.username}?secret=${u.pendingTotp}&issuer=Aloft` });
    }
    if (path === '/api/v1/users/self/totp/confirm' && method === 'POST') {
      const u = fake.users.get(p.username);
      const b = await readBody(req);
      if (!u.pendingTotp || !verifyTotp(u.pendingTotp, String(b.code ?? ''))) throw new HttpError(400, 'invalid_code', 'that code does not match; try the next one');
      u.totp = u.pendingTotp;
      u.pendingTotp = null;
      fake.auditAppend(p.username, 'user.totp_enable', p.username, 'success', {});
      return send(res, 204);
    }

    // Tokens
    if (path === '/api/v1/tokens' && method === 'GET') {
      need(p, 'tokens.manage-own');
      const list = [...fake.tokens.values()].filter((t) => p.role === 'admin' || t.owner === p.username);
      return send(res, 200, { tokens: list.map(({ hash, owner, ...t }) => t) });
    }
    if (path === '/api/v1/tokens' && method === 'POST') {
      need(p, 'tokens.manage-own');
      const b = await readBody(req);
      const name = str(b.name, 'name', 64);
      const role = b.role ?? p.role;
      if (!kPermissions[role] || !within(role, p.role)) throw new HttpError(403, 'forbidden', 'a token cannot hold more than your role');
      const days = Number(b.expires_in_days);
      if (!(Number.isInteger(days) && days >= 1 && days <= 365)) throw new HttpError(400, 'invalid_argument', 'expires_in_days must be 1..365');
      const token = `alo_${secret(20)}`;
      const rec = { id: secret(6), name, role, expires: iso(fake.now() + days * 86400e3), last_used: null, hash: sha256(token), owner: p.username };
      fake.tokens.set(rec.id, rec);
      fake.auditAppend(p.username, 'token.create', rec.id, 'success', { name, role });
      const { hash, owner, ...pub } = rec;
      return send(res, 201, { ...pub, token });
    }
    if ((mm = m(/^\/api\/v1\/tokens\/([^/]+)$/)) && method === 'DELETE') {
      need(p, 'tokens.manage-own');
      const t = fake.tokens.get(decodeURIComponent(mm[1]));
      if (!t || (t.owner !== p.username && p.role !== 'admin')) throw new HttpError(404, 'not_found', 'no such token');
      fake.tokens.delete(t.id);
      fake.auditAppend(p.username, 'token.delete', t.id, 'success', {});
      return send(res, 204);
    }
    throw new HttpError(404, 'not_found', `no route for ${method} ${path}`);
  }

  async function serveStatic(req, res, url) {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', 'static files are read-only');
    let rel;
    try {
      rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    } catch {
      throw new HttpError(400, 'bad_path', 'malformed path');
    }
    let file = resolve(dist, rel);
    if (file !== dist && !file.startsWith(dist + sep)) throw new HttpError(404, 'not_found', 'not found');
    let st = await stat(file).catch(() => null);
    const isAsset = rel.startsWith('assets/');
    if (!st || st.isDirectory()) {
      // SPA fallback: any other path is a console route, answered with index.html.
      // As aloftd: only assets and files at the top of dist/ can be missing; deeper paths (a
      // release named rpi4/os.img.zst) are console routes.
      if (isAsset || (extname(rel) && !rel.includes(sep) && !rel.includes('/'))) throw new HttpError(404, 'not_found', 'not found');
      file = join(dist, 'index.html');
      st = await stat(file).catch(() => null);
      if (!st) throw new HttpError(503, 'unavailable', 'console not built: run npm run build');
    }
    const body = await readFile(file);
    res.setHeader('Cache-Control', isAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
    securityHeaders(res);
    res.writeHead(200, { 'Content-Type': kMime[extname(file)] ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    try {
      if (url.pathname.startsWith('/api/')) await api(req, res, url);
      else await serveStatic(req, res, url);
    } catch (e) {
      const err = e instanceof HttpError ? e : new HttpError(500, 'internal', 'internal error');
      if (!(e instanceof HttpError)) console.error(e);
      if (!res.headersSent) send(res, err.status, { error: { code: err.code, message: err.message } });
    } finally {
      if (!quiet) console.log(`${req.method} ${url.pathname} → ${res.statusCode}`);
    }
  });
  await new Promise((ok) => server.listen(port, host, ok));
  const address = server.address();
  return {
    url: `http://${host}:${address.port}`,
    fake,
    close: () => new Promise((ok) => {
      clearInterval(ticker);
      server.closeAllConnections?.();
      server.close(() => ok());
    }),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT ?? 8765);
  const s = await startFakeServer({ port, quiet: process.env.QUIET === '1' });
  console.log(`fake aloftd on ${s.url} (accounts: ${Object.entries(kAccounts).map(([u, a]) => `${u}/${a.password}`).join(', ')})`);
}
