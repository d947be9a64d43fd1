// Pure logic behind the pages: routing, filters, fleet figures, rollout arithmetic, wizard body.
import { describe, expect, it } from 'vitest';
import type { AuditRecord, Deployment, FleetSummary } from '../api/types';
import { filterAudit } from './audit';
import { deviceFiltersToSearch, parseDeviceFilters } from './deviceFilters';
import { attentionFrom, deploymentsWithFailures, devicesRunning, fleetFigures } from './fleet';
import { flattenKeys } from './keys';
import { failedShare, finishedDevices, phaseStatus, phaseTarget, totalDevices, validatePhases } from './progress';
import { devicePath, matchRoute } from './routes';
import { buildDeployment, buildSelector, defaultRollout, parseList, validateRollout } from './wizard';

describe('routes', () => {
  it('matches pages and decodes parameters', () => {
    expect(matchRoute('/')).toEqual({ name: 'overview', params: {} });
    expect(matchRoute('/devices/')).toEqual({ name: 'devices', params: {} });
    expect(matchRoute(devicePath('a:b/c'))).toEqual({ name: 'device', params: { id: 'a:b/c' } });
    expect(matchRoute('/deployments/new').name).toBe('deployment-new');
    expect(matchRoute('/deployments/dep-1')).toEqual({ name: 'deployment', params: { id: 'dep-1' } });
    expect(matchRoute('/releases/rpi%2Fimg.zst').params.name).toBe('rpi/img.zst');
  });
  it('answers not-found for unknown or malformed paths', () => {
    expect(matchRoute('/nope').name).toBe('not-found');
    expect(matchRoute('/devices/%E0%A4%A').name).toBe('not-found');
  });
});

describe('device filters in the URL', () => {
  it('round-trips and rejects unknown values', () => {
    const f = parseDeviceFilters('?status=pending&hardware_id=rpi4&tag=berlin&image_version=2.3.1&limit=100&after=rpi-0042');
    expect(f).toEqual({ status: 'pending', hardware_id: 'rpi4', tag: 'berlin', image_version: '2.3.1', limit: 100, after: 'rpi-0042' });
    expect(parseDeviceFilters(deviceFiltersToSearch(f))).toEqual(f);
    expect(parseDeviceFilters('?status=owned&limit=100000')).toMatchObject({ status: '', limit: 50 });
    expect(deviceFiltersToSearch(parseDeviceFilters(''))).toBe('');
  });
});

describe('fleet summary', () => {
  const summary: FleetSummary = {
    total: 9,
    groups: [
      { status: 'accepted', hardwareId: 'hw-a', imageVersion: '2.0', devices: 3 },
      { status: 'accepted', hardwareId: 'hw-b', imageVersion: '2.0', devices: 1 },
      { status: 'accepted', hardwareId: 'hw-a', imageVersion: '1.0', devices: 2 },
      { status: 'accepted', hardwareId: 'hw-a', imageVersion: '', devices: 1 },
      { status: 'pending', hardwareId: 'hw-b', imageVersion: '1.0', devices: 2 },
      { status: 'rejected', hardwareId: 'hw-c', imageVersion: '1.0', devices: 0 },
    ],
    notSeen: { since: '2026-05-31T12:00:00Z', devices: 1 },
  };
  it('counts by state, by version of accepted devices and by hardware', () => {
    const f = fleetFigures(summary);
    expect(f.total).toBe(9);
    expect(f.accepted).toBe(7);
    expect(f.pending).toBe(2);
    expect(f.byStatus).toEqual([['accepted', 7], ['pending', 2]]);
    expect(f.byVersion).toEqual([['2.0', 4], ['1.0', 2], ['unknown', 1]]);
    expect(f.byHardware).toEqual([['hw-a', 6], ['hw-b', 3]]);
    expect(f.notSeen).toBe(1);
    expect(f.notSeenSince).toBe('2026-05-31T12:00:00Z');
  });
  it('counts the accepted devices running a release on its hardware ids', () => {
    const release = { name: 'os-2.0', version: '2.0', hardware_ids: ['hw-a'], security_counter: 1, length: 1, sha256: 'x' };
    expect(devicesRunning(summary.groups, release)).toBe(3);
    expect(devicesRunning(summary.groups, { ...release, hardware_ids: ['hw-a', 'hw-b'] })).toBe(4);
    expect(devicesRunning(summary.groups, { ...release, version: '3.0' })).toBe(0);
  });
});

describe('devices that need attention', () => {
  const dep = (id: string, created: string, devices: Array<[string, string]>, failed = 1): Deployment => ({
    id, release: `rel-${id}`, state: 'active', created, created_by: 'op', current_phase: 0, phases: [], failure_threshold_percent: 10,
    counts: { pending: 0, downloading: 0, installing: 0, rebooting: 0, succeeded: 0, failed, rolled_back: 0 },
    devices: devices.map(([device_id, state]) => ({ device_id, state, phase: 0, updated: created, message: `${state} in ${id}` })),
  });
  it('picks the newest deployments with failures, at most a few', () => {
    const list = [dep('a', '2026-05-01T00:00:00Z', []), dep('b', '2026-05-03T00:00:00Z', [], 0), dep('c', '2026-05-02T00:00:00Z', [])];
    expect(deploymentsWithFailures(list).map((d) => d.id)).toEqual(['c', 'a']);
    expect(deploymentsWithFailures(list, 1).map((d) => d.id)).toEqual(['c']);
  });
  it('lists failed and rolled-back devices once, from their newest deployment', () => {
    const older = dep('old', '2026-05-01T00:00:00Z', [['x', 'failed'], ['y', 'rolled_back'], ['z', 'failed']]);
    const newer = dep('new', '2026-05-02T00:00:00Z', [['x', 'succeeded'], ['z', 'rolled-back'], ['w', 'installing']]);
    expect(attentionFrom([older, newer]).map((a) => [a.deviceId, a.reason, a.deployment.id])).toEqual([
      ['y', 'rolled back', 'old'],
      ['z', 'rolled back', 'new'],
    ]);
    expect(attentionFrom([dep('d', '2026-05-01T00:00:00Z', [['b', 'rolled_back'], ['a', 'failed']])]).map((a) => a.deviceId)).toEqual(['a', 'b']);
  });
});

describe('rollout arithmetic', () => {
  const counts = { pending: 5, downloading: 1, installing: 1, rebooting: 1, succeeded: 8, failed: 1, rolled_back: 1 };
  it('totals and shares', () => {
    expect(totalDevices(counts)).toBe(18);
    expect(finishedDevices(counts)).toBe(10);
    expect(failedShare(counts)).toBe(20);
    expect(failedShare({})).toBe(0);
    expect(totalDevices({ pending: -3, succeeded: Number.NaN })).toBe(0);
  });
  it('gives every phase at least one device and never more than all', () => {
    expect(phaseTarget(1, 96)).toBe(1);
    expect(phaseTarget(10, 96)).toBe(10);
    expect(phaseTarget(100, 96)).toBe(96);
    expect(phaseTarget(50, 0)).toBe(0);
  });
  it('names each phase from the deployment state', () => {
    const at = (state: 'active' | 'paused' | 'completed' | 'cancelled') => [0, 1, 2].map((i) => phaseStatus({ state, current_phase: 1 }, i));
    expect(at('active')).toEqual(['done', 'running', 'waiting']);
    expect(at('paused')).toEqual(['done', 'paused', 'waiting']);
    expect(at('cancelled')).toEqual(['done', 'stopped', 'not run']);
    expect(at('completed')).toEqual(['done', 'done', 'done']);
  });
  it('validates phases', () => {
    expect(validatePhases([{ percent: 1, wait_seconds: 600 }, { percent: 100, wait_seconds: 0 }])).toBeNull();
    expect(validatePhases([])).toMatch(/at least one/);
    expect(validatePhases([{ percent: 50, wait_seconds: 0 }, { percent: 20, wait_seconds: 0 }])).toMatch(/more devices/);
    expect(validatePhases([{ percent: 50, wait_seconds: 0 }])).toMatch(/100 %/);
    expect(validatePhases([{ percent: 100, wait_seconds: 1.5 }])).toMatch(/whole number/);
  });
});

describe('deployment wizard', () => {
  it('builds the contract body from the form', () => {
    const { selector, error } = buildSelector({
      group: '',
      hardware_id: ' rpi4-64 ', tags: 'berlin, canary berlin', image_version: '', devices: 'a\nb,,a', attributes: 'site=berlin\n\nring = canary',
    });
    expect(error).toBeNull();
    expect(selector).toEqual({ devices: ['a', 'b'], tags: ['berlin', 'canary'], hardware_id: 'rpi4-64', attributes: { site: 'berlin', ring: 'canary' } });
    const rollout = { ...defaultRollout(), window_enabled: true };
    expect(validateRollout(rollout)).toBeNull();
    expect(buildDeployment('rel', selector, rollout)).toEqual({
      release: 'rel',
      selector,
      phases: [{ percent: 1, wait_seconds: 600 }, { percent: 10, wait_seconds: 3600 }, { percent: 100, wait_seconds: 0 }],
      failure_threshold_percent: 10,
      min_devices_for_threshold: 1,
      phase_deadline_seconds: 3600,
      maintenance_window: { start: '01:00', end: '05:00' },
    });
  });
  it('refuses an empty target, bad attributes and bad windows', () => {
    expect(buildSelector({ group: '', hardware_id: '', tags: ' ', image_version: '', devices: '', attributes: '' }).error).toMatch(/at least one target/);
    expect(buildSelector({ group: '', hardware_id: 'x', tags: '', image_version: '', devices: '', attributes: 'novalue' }).error).toMatch(/key=value/);
    expect(validateRollout({ ...defaultRollout(), window_enabled: true, window_start: '25:00' })).toMatch(/HH:MM/);
    expect(validateRollout({ ...defaultRollout(), min_devices_for_threshold: 0 })).toMatch(/1 or more/);
    expect(parseList(' , ')).toEqual([]);
  });
});

describe('audit filters', () => {
  const rec = (seq: number, actor: string, action: string, at: string): AuditRecord => ({
    seq, actor, action, at, target: '', outcome: 'success', details: {}, prev_hash: '', hash: '',
  });
  const records = [
    rec(1, 'ana', 'device.accept', '2026-06-01T10:00:00Z'),
    rec(2, 'bob', 'deployment.create', '2026-06-01T11:00:00Z'),
    rec(3, 'Ana', 'deployment.pause', '2026-06-01T12:00:00Z'),
  ];
  it('filters by actor, action and UTC time range', () => {
    const seqs = (f: Partial<Parameters<typeof filterAudit>[1]>) =>
      filterAudit(records, { actor: '', action: '', from: '', to: '', ...f }).map((r) => r.seq);
    expect(seqs({ actor: 'ana' })).toEqual([1, 3]);
    expect(seqs({ action: 'deployment' })).toEqual([2, 3]);
    expect(seqs({ from: '2026-06-01T10:30', to: '2026-06-01T11:30' })).toEqual([2]);
    expect(seqs({ actor: 'ana', action: 'pause' })).toEqual([3]);
  });
});

describe('online keys', () => {
  it('flattens the documented and nested shapes', () => {
    const key = (id: string) => ({ keyid: id, key: { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: 'p' } } });
    expect(flattenKeys({ snapshot: key('s'), timestamp: key('t'), director: { root: key('r'), targets: [key('t1'), key('t2')] } })).toEqual([
      { role: 'snapshot', keyid: 's', keytype: 'ed25519', scheme: 'ed25519' },
      { role: 'timestamp', keyid: 't', keytype: 'ed25519', scheme: 'ed25519' },
      { role: 'director root', keyid: 'r', keytype: 'ed25519', scheme: 'ed25519' },
      { role: 'director targets 1', keyid: 't1', keytype: 'ed25519', scheme: 'ed25519' },
      { role: 'director targets 2', keyid: 't2', keytype: 'ed25519', scheme: 'ed25519' },
    ]);
    expect(flattenKeys(null)).toEqual([]);
    expect(flattenKeys({ director: 'opaque' })).toEqual([]);
  });
});
