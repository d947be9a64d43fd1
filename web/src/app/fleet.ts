// Fleet overview figures. The counts come from GET /api/v1/fleet/summary (one row per enrollment
// status × hardware id × image version), so the overview costs one request whatever the fleet
// size; devices needing attention come from the deployments that report failures.
import type { Deployment, DeploymentDevice, FleetGroup, FleetSummary, Release } from '../api/types';

export interface FleetFigures {
  total: number;
  accepted: number;
  pending: number;
  byStatus: Array<[string, number]>;
  // Accepted devices only: what the fleet runs.
  byVersion: Array<[string, number]>;
  byHardware: Array<[string, number]>;
  notSeen: number;
  notSeenSince: string;
}

function tally(rows: Array<[string, number]>): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const [k, n] of rows) if (n > 0) m.set(k, (m.get(k) ?? 0) + n);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const orUnknown = (v: string | undefined | null) => (v ? v : 'unknown');

export function fleetFigures(summary: FleetSummary): FleetFigures {
  const groups = summary.groups ?? [];
  const accepted = groups.filter((g) => g.status === 'accepted');
  const byStatus = tally(groups.map((g) => [g.status, g.devices]));
  const count = (s: string) => byStatus.find(([k]) => k === s)?.[1] ?? 0;
  return {
    total: summary.total,
    accepted: count('accepted'),
    pending: count('pending'),
    byStatus,
    byVersion: tally(accepted.map((g) => [orUnknown(g.imageVersion), g.devices])),
    byHardware: tally(groups.map((g) => [orUnknown(g.hardwareId), g.devices])),
    notSeen: summary.notSeen?.devices ?? 0,
    notSeenSince: summary.notSeen?.since ?? '',
  };
}

// Accepted devices that report the release's version on one of its hardware ids.
export function devicesRunning(groups: FleetGroup[], release: Release): number {
  return groups
    .filter((g) => g.status === 'accepted' && g.imageVersion === release.version && release.hardware_ids.includes(g.hardwareId))
    .reduce((s, g) => s + g.devices, 0);
}

export type AttentionReason = 'failed' | 'rolled back';

export interface Attention {
  deviceId: string;
  reason: AttentionReason;
  deployment: Deployment;
  message: string;
  updated: string;
}

export function failures(d: Pick<Deployment, 'counts'>): number {
  return (d.counts?.failed ?? 0) + (d.counts?.rolled_back ?? 0);
}

// The deployments worth opening for their failed devices: newest first, those with failures,
// at most `max` of them, so the overview makes a bounded number of requests.
export function deploymentsWithFailures(deployments: Deployment[], max = 5): Deployment[] {
  return [...deployments]
    .filter((d) => failures(d) > 0)
    .sort((a, b) => b.created.localeCompare(a.created))
    .slice(0, max);
}

function reasonOf(state: string): AttentionReason | null {
  if (state === 'failed') return 'failed';
  if (state === 'rolled_back' || state === 'rolled-back') return 'rolled back';
  return null;
}

// Failed and rolled-back devices of the given deployments (each with its `devices`), one row
// per device: its most recent deployment wins.
export function attentionFrom(deployments: Deployment[]): Attention[] {
  const seen = new Map<string, Attention>();
  const visited = new Set<string>();
  const newestFirst = [...deployments].sort((a, b) => b.created.localeCompare(a.created));
  for (const d of newestFirst) {
    for (const dev of d.devices ?? ([] as DeploymentDevice[])) {
      if (visited.has(dev.device_id)) continue;
      visited.add(dev.device_id);
      const reason = reasonOf(dev.state);
      if (reason) seen.set(dev.device_id, { deviceId: dev.device_id, reason, deployment: d, message: dev.message ?? '', updated: dev.updated });
    }
  }
  const order = { failed: 0, 'rolled back': 1 } as const;
  return [...seen.values()].sort((a, b) => order[a.reason] - order[b.reason] || a.deviceId.localeCompare(b.deviceId));
}
