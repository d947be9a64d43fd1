// Fleet overview figures computed from a list of devices.
import type { Device } from '../api/types';
import { parseTime } from '../util/format';

export const kStaleAfterMs = 24 * 3600 * 1000;

export interface Attention {
  device: Device;
  reason: 'failed' | 'rolled back' | 'not seen';
}

export interface FleetSummary {
  total: number;
  byStatus: Array<[string, number]>;
  byVersion: Array<[string, number]>;
  byHardware: Array<[string, number]>;
  attention: Attention[];
}

function tally(values: string[]): Array<[string, number]> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export function needsAttention(device: Device, now: number): Attention['reason'] | null {
  const state = device.deployment?.state;
  if (state === 'failed') return 'failed';
  if (state === 'rolled_back' || state === 'rolled-back') return 'rolled back';
  if (device.status === 'accepted') {
    const seen = parseTime(device.last_seen);
    if (seen === null || now - seen > kStaleAfterMs) return 'not seen';
  }
  return null;
}

export function summarize(devices: Device[], now: number = Date.now()): FleetSummary {
  const accepted = devices.filter((d) => d.status === 'accepted');
  const attention: Attention[] = [];
  for (const d of devices) {
    const reason = needsAttention(d, now);
    if (reason) attention.push({ device: d, reason });
  }
  const order = { failed: 0, 'rolled back': 1, 'not seen': 2 } as const;
  attention.sort((a, b) => order[a.reason] - order[b.reason] || a.device.id.localeCompare(b.device.id));
  return {
    total: devices.length,
    byStatus: tally(devices.map((d) => d.status)),
    byVersion: tally(accepted.map((d) => d.image_version || 'unknown')),
    byHardware: tally(devices.map((d) => d.hardware_id || 'unknown')),
    attention,
  };
}
