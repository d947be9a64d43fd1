// Security status from GET /api/v1/repo/status and GET /api/v1/online-keys: every role's
// metadata with its expiry, the online keys' age, the offline root's facts, and the findings
// that need an operator. Pure, so the rules are unit-tested.
import type { MetadataFacts, OnlineKeys, PublicKeyEntry, RepoStatus, RoleKeys } from '../api/types';
import { parseTime } from '../util/format';

const kDay = 86400_000;
// Offline-signed (and long-lived) metadata is flagged this long before it expires, time for the
// key holders to meet.
export const kExpiryWarnMs = 7 * kDay;
// Online keys older than this are worth rotating.
export const kOnlineKeyMaxAgeMs = 365 * kDay;

export type ExpiryState = 'expired' | 'expiring' | 'ok' | 'missing';

// Who renews a role's metadata: the offline key holders, or aloftd itself, which re-signs
// snapshot, timestamp and the Director's targets with its online keys when they pass half their
// lifetime (1 day for timestamp, 7 for snapshot): those are "expiring" by design, so only an
// expired one is a finding.
export type Renewal = 'offline' | 'server' | 'server-auto';

export interface MetadataRow {
  repository: 'Image' | 'Director';
  role: string;
  renewal: Renewal;
  version: number | null;
  expires: string | null;
  state: ExpiryState;
}

export function expiryState(expires: string | null | undefined, renewal: Renewal, now: number): ExpiryState {
  const t = parseTime(expires);
  if (t === null) return 'missing';
  if (t <= now) return 'expired';
  if (renewal !== 'server-auto' && t - now <= kExpiryWarnMs) return 'expiring';
  return 'ok';
}

export function metadataRows(status: RepoStatus, now: number): MetadataRow[] {
  const row = (repository: MetadataRow['repository'], role: string, renewal: Renewal, m: MetadataFacts | null | undefined): MetadataRow => ({
    repository,
    role,
    renewal,
    version: m?.version ?? null,
    expires: m?.expires ?? null,
    state: expiryState(m?.expires, renewal, now),
  });
  const rows = [
    row('Image', 'root', 'offline', status.image?.root),
    row('Image', 'targets', 'offline', status.image?.targets),
    row('Image', 'snapshot', 'server-auto', status.image?.snapshot),
    row('Image', 'timestamp', 'server-auto', status.image?.timestamp),
    row('Director', 'root', 'server', status.director?.root),
  ];
  if (status.director && 'targets' in status.director) rows.push(row('Director', 'targets', 'server-auto', status.director.targets));
  return rows;
}

export interface RoleRow {
  role: string;
  threshold: number;
  keyids: string[];
}

// The offline Image root's key table, in TUF's role order.
export function rootRoles(status: RepoStatus): RoleRow[] {
  const roles: Record<string, RoleKeys> = status.image?.root?.roles ?? {};
  const order = ['root', 'targets', 'snapshot', 'timestamp'];
  return Object.entries(roles)
    .map(([role, r]) => ({ role, threshold: r.threshold, keyids: r.keyids ?? [] }))
    .sort((a, b) => (order.indexOf(a.role) + 1 || 99) - (order.indexOf(b.role) + 1 || 99) || a.role.localeCompare(b.role));
}

export interface Finding {
  key: string;
  severity: 'bad' | 'warn';
  text: string;
}

function daysText(ms: number): string {
  const d = Math.floor(Math.abs(ms) / kDay);
  if (d >= 1) return `${d} day${d === 1 ? '' : 's'}`;
  const h = Math.max(1, Math.floor(Math.abs(ms) / 3600_000));
  return `${h} hour${h === 1 ? '' : 's'}`;
}

const kRenewHow: Record<string, string> = {
  'Image root': 'sign a new root version with the offline root keys (aloftctl keys rotate) and upload it (aloftctl release upload)',
  'Image targets': 'sign a new targets version with the offline targets keys (aloftctl release sign) and upload it (aloftctl release upload)',
  'Director root': "renew the Director's root on the server",
};

export function stagedKeys(keys: OnlineKeys | null | undefined): Array<[string, PublicKeyEntry]> {
  const next = keys?.next;
  if (!next || typeof next !== 'object') return [];
  return (['snapshot', 'timestamp'] as const)
    .filter((r) => next[r] && typeof next[r]?.keyid === 'string')
    .map((r) => [r, next[r] as PublicKeyEntry]);
}

export function securityFindings(status: RepoStatus | null | undefined, keys: OnlineKeys | null | undefined, now: number): Finding[] {
  const out: Finding[] = [];
  if (status) {
    for (const r of metadataRows(status, now)) {
      const name = `${r.repository} ${r.role}`;
      const t = parseTime(r.expires);
      if (r.state === 'missing') {
        if (name === 'Image root') {
          out.push({ key: 'missing-image-root', severity: 'bad', text: 'No Image root is uploaded: run the offline key ceremony and aloftctl repo upload-root.' });
        }
        continue;
      }
      if (r.state === 'expired' && t !== null) {
        const how = r.renewal === 'server-auto'
          ? 'aloftd re-signs it when a device next asks; if it stays expired, check the server log'
          : kRenewHow[name] ?? 'renew it';
        out.push({ key: `expired-${name}`, severity: 'bad', text: `${name} metadata (v${r.version}) expired ${daysText(now - t)} ago: devices refuse it. To fix: ${how}.` });
      } else if (r.state === 'expiring' && t !== null) {
        out.push({ key: `expiring-${name}`, severity: 'warn', text: `${name} metadata (v${r.version}) expires in ${daysText(t - now)}. Before then: ${kRenewHow[name] ?? 'renew it'}.` });
      }
    }
    const root = status.image?.root?.roles?.root;
    if (root && root.threshold < 2) {
      out.push({
        key: 'root-threshold',
        severity: 'warn',
        text: `The Image root needs only ${root.threshold} signature (of ${root.keyids?.length ?? 0} key${root.keyids?.length === 1 ? '' : 's'}): one stolen root key could take over the repository. Rotate to a threshold of 2 or more.`,
      });
    }
    // The offline root must name the server's current online keys, or devices reject what
    // the server signs.
    const roles = status.image?.root?.roles ?? {};
    for (const role of ['snapshot', 'timestamp'] as const) {
      const online = status.onlineKeys?.find((k) => k.name === `image-${role}`);
      const named = roles[role]?.keyids;
      if (online && named && !named.includes(online.keyid)) {
        out.push({
          key: `unnamed-${role}`,
          severity: 'bad',
          text: `The Image root does not name the server's ${role} key (${online.keyid.slice(0, 12)}…): devices reject the ${role} metadata it signs. Sign a root naming it (aloftctl keys rotate --role online).`,
        });
      }
    }
    for (const k of status.onlineKeys ?? []) {
      const created = parseTime(k.createdAt);
      if (created !== null && now - created > kOnlineKeyMaxAgeMs) {
        out.push({ key: `old-${k.name}`, severity: 'warn', text: `The online key ${k.name} is ${daysText(now - created)} old: consider rotating it.` });
      }
    }
  }
  const staged = stagedKeys(keys);
  if (staged.length) {
    out.push({
      key: 'staged-rotation',
      severity: 'warn',
      text: `An online-key rotation is staged (new ${staged.map(([r, k]) => `${r} key ${k.keyid.slice(0, 12)}…`).join(', ')}). Complete it with the offline root keys: sign an Image root that names the new pair (aloftctl keys rotate --role online --online-keys) and upload it; aloftd then switches to the new keys.`,
    });
  }
  const order = { bad: 0, warn: 1 } as const;
  return out.sort((a, b) => order[a.severity] - order[b.severity]);
}

// Whole days (or hours under a day) from now to `expires`, for the "time left" column.
export function timeLeft(expires: string | null, now: number): string {
  const t = parseTime(expires);
  if (t === null) return '—';
  return t <= now ? `expired ${daysText(now - t)} ago` : `in ${daysText(t - now)}`;
}
