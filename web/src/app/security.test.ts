// Security status rules: expiry per role, root facts, online keys and a staged rotation.
import { describe, expect, it } from 'vitest';
import type { RepoStatus } from '../api/types';
import { expiryState, metadataRows, rootRoles, securityFindings, stagedKeys, timeLeft } from './security';

const now = Date.parse('2026-06-01T12:00:00Z');
const inDays = (d: number) => new Date(now + d * 86400_000).toISOString();
const keyid = (c: string) => c.repeat(64);

function status(over: Partial<RepoStatus['image']> = {}, director: Partial<RepoStatus['director']> = {}): RepoStatus {
  return {
    now: new Date(now).toISOString(),
    image: {
      root: {
        version: 2,
        expires: inDays(300),
        roles: {
          timestamp: { threshold: 1, keyids: [keyid('d')] },
          root: { threshold: 2, keyids: [keyid('a'), keyid('b'), keyid('e')] },
          targets: { threshold: 1, keyids: [keyid('f')] },
          snapshot: { threshold: 1, keyids: [keyid('c')] },
        },
      },
      targets: { version: 3, expires: inDays(60) },
      snapshot: { version: 9, expires: inDays(5) },
      timestamp: { version: 40, expires: inDays(0.5) },
      ...over,
    },
    director: { root: { version: 1, expires: inDays(3650) }, targets: null, ...director },
    onlineKeys: [
      { name: 'image-snapshot', keyid: keyid('c'), createdAt: inDays(-30) },
      { name: 'image-timestamp', keyid: keyid('d'), createdAt: inDays(-30) },
      { name: 'director-root', keyid: keyid('1'), createdAt: inDays(-30) },
    ],
  };
}

describe('expiry', () => {
  it('flags offline metadata 7 days ahead and auto-renewed metadata only once expired', () => {
    expect(expiryState(inDays(8), 'offline', now)).toBe('ok');
    expect(expiryState(inDays(6.9), 'offline', now)).toBe('expiring');
    expect(expiryState(inDays(-0.01), 'offline', now)).toBe('expired');
    expect(expiryState(inDays(0.5), 'server-auto', now)).toBe('ok');
    expect(expiryState(inDays(-1), 'server-auto', now)).toBe('expired');
    expect(expiryState(inDays(3), 'server', now)).toBe('expiring');
    expect(expiryState(null, 'offline', now)).toBe('missing');
    expect(expiryState('garbage', 'offline', now)).toBe('missing');
  });
  it('lists every role of both repositories', () => {
    const rows = metadataRows(status(), now);
    expect(rows.map((r) => [`${r.repository} ${r.role}`, r.version, r.state])).toEqual([
      ['Image root', 2, 'ok'],
      ['Image targets', 3, 'ok'],
      ['Image snapshot', 9, 'ok'],
      ['Image timestamp', 40, 'ok'],
      ['Director root', 1, 'ok'],
      ['Director targets', null, 'missing'],
    ]);
    // aloftd reports only the Director's shared root: its targets are per device.
    const rootOnly = status();
    rootOnly.director = { root: rootOnly.director.root };
    expect(metadataRows(rootOnly, now).map((r) => `${r.repository} ${r.role}`).at(-1)).toBe('Director root');
  });
  it('says how long is left', () => {
    expect(timeLeft(inDays(3.5), now)).toBe('in 3 days');
    expect(timeLeft(inDays(1 / 24), now)).toBe('in 1 hour');
    expect(timeLeft(inDays(-2), now)).toBe('expired 2 days ago');
    expect(timeLeft(null, now)).toBe('—');
  });
});

describe('root facts', () => {
  it('lists roles in TUF order with thresholds and key ids', () => {
    expect(rootRoles(status()).map((r) => [r.role, r.threshold, r.keyids.length])).toEqual([
      ['root', 2, 3],
      ['targets', 1, 1],
      ['snapshot', 1, 1],
      ['timestamp', 1, 1],
    ]);
  });
});

describe('findings', () => {
  it('finds nothing in a healthy repository', () => {
    expect(securityFindings(status(), { snapshot: { keyid: keyid('c') }, timestamp: { keyid: keyid('d') } }, now)).toEqual([]);
  });
  it('warns before offline metadata expires and reports expired metadata first', () => {
    const f = securityFindings(status({ targets: { version: 3, expires: inDays(2) }, timestamp: { version: 40, expires: inDays(-1) } }), null, now);
    expect(f.map((x) => [x.key, x.severity])).toEqual([
      ['expired-Image timestamp', 'bad'],
      ['expiring-Image targets', 'warn'],
    ]);
    expect(f[1]?.text).toMatch(/expires in 2 days.*aloftctl release sign/);
  });
  it('flags a root threshold of 1, a missing root and an online key the root does not name', () => {
    const s = status();
    s.image.root!.roles!.root = { threshold: 1, keyids: [keyid('a')] };
    s.image.root!.roles!.snapshot = { threshold: 1, keyids: [keyid('9')] };
    expect(securityFindings(s, null, now).map((x) => x.key)).toEqual(['unnamed-snapshot', 'root-threshold']);
    expect(securityFindings(status({ root: null }), null, now).map((x) => x.key)).toEqual(['missing-image-root']);
  });
  it('suggests rotating online keys older than a year', () => {
    const s = status();
    s.onlineKeys[2]!.createdAt = inDays(-400);
    s.onlineKeys[1]!.createdAt = null;
    expect(securityFindings(s, null, now).map((x) => [x.key, x.text])).toEqual([
      ['old-director-root', 'The online key director-root is 400 days old: consider rotating it.'],
    ]);
  });
  it('shows a staged online-key rotation', () => {
    const keys = { snapshot: { keyid: keyid('c') }, timestamp: { keyid: keyid('d') }, next: { snapshot: { keyid: keyid('7') }, timestamp: { keyid: keyid('8') } } };
    expect(stagedKeys(keys).map(([r, k]) => [r, k.keyid])).toEqual([
      ['snapshot', keyid('7')],
      ['timestamp', keyid('8')],
    ]);
    const f = securityFindings(status(), keys, now);
    expect(f.map((x) => x.key)).toEqual(['staged-rotation']);
    expect(f[0]?.text).toContain('777777777777…');
    expect(stagedKeys({ snapshot: { keyid: 'x' }, next: null })).toEqual([]);
    expect(stagedKeys(null)).toEqual([]);
  });
});
