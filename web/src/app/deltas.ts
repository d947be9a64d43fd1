// Deltas aloftd built itself (GET /api/v1/deltas) as the console shows them: the rows for one
// release with their size and saving, and a count per release for the list. The same facts as
// `aloftctl release deltas`. Pure, tested; a field the server leaves out reads as "—".
import type { ServerDelta } from '../api/types';
import { formatBytes, formatTime, shortHash } from '../util/format';

// The server answers its newest 500 builds: a release's older ones may be missing past that.
export const kServerDeltaListLimit = 500;

export interface ServerDeltaRow {
  // The pair the server builds once: target release and base image digest.
  key: string;
  fromSha256: string;
  fromShort: string;
  // The release whose signed image is the base, when the build found one.
  sourceRelease: string | null;
  state: string;
  // Why the build failed (failed rows only); the server tries again an hour later.
  error: string | null;
  size: string;
  saving: string;
  updated: string;
}

const isLength = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

// Share of the full artifact a device does not download, rounded down to 0.1 % so a tiny patch
// never reads as "100 %". Multiplying before dividing keeps whole-number lengths exact (below
// 9 TB), so rounding down never loses 0.1 % to a float error. null when either length is unknown.
export function deltaSavingPercent(deltaLength: unknown, fullLength: unknown): number | null {
  if (!isLength(deltaLength) || !isLength(fullLength) || fullLength === 0) return null;
  return Math.floor(((fullLength - deltaLength) * 1000) / fullLength) / 10;
}

export function formatSaving(saving: number | null): string {
  if (saving === null) return '—';
  return saving > 0 ? `${saving.toFixed(1)} %` : 'none';
}

// The rows whose target is `release`, newest first as the server sent them; the saving is
// against `fullLength`, the release's full artifact.
export function serverDeltaRows(deltas: readonly ServerDelta[], release: string, fullLength: number): ServerDeltaRow[] {
  return deltas
    .filter((d) => d.release === release)
    .map((d) => {
      const ready = d.state === 'ready';
      return {
        key: `${d.release}\n${d.from_sha256}`,
        fromSha256: d.from_sha256 ?? '',
        fromShort: shortHash(d.from_sha256),
        sourceRelease: typeof d.source_release === 'string' && d.source_release ? d.source_release : null,
        state: typeof d.state === 'string' && d.state ? d.state : 'unknown',
        error: d.state === 'failed' ? d.error || 'no reason given' : null,
        size: ready ? formatBytes(d.artifact_length) : '—',
        saving: ready ? formatSaving(deltaSavingPercent(d.artifact_length, fullLength)) : '—',
        updated: formatTime(d.updated_at),
      };
    });
}

export interface ServerDeltaCounts {
  ready: number;
  queued: number;
  failed: number;
}

// Builds per release and state, for the releases list: one request covers every release.
export function serverDeltaCounts(deltas: readonly ServerDelta[]): Map<string, ServerDeltaCounts> {
  const counts = new Map<string, ServerDeltaCounts>();
  for (const d of deltas) {
    if (d.state !== 'ready' && d.state !== 'queued' && d.state !== 'failed') continue;
    const c = counts.get(d.release) ?? { ready: 0, queued: 0, failed: 0 };
    c[d.state]++;
    counts.set(d.release, c);
  }
  return counts;
}

// "2 ready, 1 failed"; "—" when the server built nothing for the release.
export function formatServerDeltaCounts(c: ServerDeltaCounts | undefined): string {
  if (!c) return '—';
  const parts = (['ready', 'queued', 'failed'] as const).filter((s) => c[s] > 0).map((s) => `${c[s]} ${s}`);
  return parts.length ? parts.join(', ') : '—';
}
