// Server-built deltas in the console: the API call, the rows of one release (ready, queued,
// failed, fields left out), the saving against the full artifact, and the counts per release.
import { describe, expect, it } from 'vitest';
import { Api } from '../api/api';
import { ApiClient } from '../api/client';
import type { ServerDelta } from '../api/types';
import { deltaSavingPercent, formatSaving, formatServerDeltaCounts, serverDeltaCounts, serverDeltaRows } from './deltas';

const hex = (c: string) => c.repeat(64);
const kRelease = 'rpi4-64/aloft-os-2.4.0.img.zst';
const kFull = 412_331_008;

// As aloftd's ToJson writes them (server/deltas/server_delta.cpp), newest first.
const ready: ServerDelta = {
  release: kRelease,
  from_sha256: hex('a'),
  state: 'ready',
  requested_at: '2026-06-01T09:00:00Z',
  updated_at: '2026-06-01T09:05:03Z',
  source_release: 'rpi4-64/aloft-os-2.3.1.img.zst',
  artifact_sha256: hex('b'),
  artifact_length: 11_534_336,
  from_length: 536_870_912,
  to_sha256: hex('c'),
  to_length: 545_259_520,
};
const failed: ServerDelta = {
  release: kRelease,
  from_sha256: hex('d'),
  state: 'failed',
  requested_at: '2026-06-01T08:00:00Z',
  updated_at: '2026-06-01T08:00:02Z',
  error: 'no release for the same hardware has image dddddddddddddddd: aloftd builds deltas only from images it holds',
};
const queued: ServerDelta = {
  release: kRelease,
  from_sha256: hex('e'),
  state: 'queued',
  requested_at: '2026-06-01T07:00:00Z',
  updated_at: '2026-06-01T07:00:00Z',
};
const otherRelease: ServerDelta = { ...ready, release: 'imx8-gw/gateway-fw-1.10.0.img.zst', from_sha256: hex('f') };

describe('GET /api/v1/deltas', () => {
  it('asks the documented route and returns its rows, or none when the body has no list', async () => {
    const urls: string[] = [];
    const answers = [{ deltas: [ready, failed] }, {}];
    const fetchFn = (async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify(answers.shift()), { status: 200 });
    }) as unknown as typeof fetch;
    const api = new Api(new ApiClient({ fetch: fetchFn }));
    expect(await api.serverDeltas()).toEqual([ready, failed]);
    expect(await api.serverDeltas()).toEqual([]);
    expect(urls).toEqual(['/api/v1/deltas', '/api/v1/deltas']);
  });
});

describe('server-built delta rows', () => {
  const all = [ready, otherRelease, failed, queued];

  it('keeps only the release asked for, in the server order (newest first)', () => {
    const rows = serverDeltaRows(all, kRelease, kFull);
    expect(rows.map((r) => r.fromSha256)).toEqual([hex('a'), hex('d'), hex('e')]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(3);
  });

  it('shows a ready build: short base digest, source release, size and saving', () => {
    const [row] = serverDeltaRows([ready], kRelease, kFull);
    expect(row).toEqual({
      key: `${kRelease}\n${hex('a')}`,
      fromSha256: hex('a'),
      fromShort: 'aaaaaaaaaaaa…',
      sourceRelease: 'rpi4-64/aloft-os-2.3.1.img.zst',
      state: 'ready',
      error: null,
      size: '11.0 MiB',
      saving: '97.2 %',
      updated: '2026-06-01 09:05:03 UTC',
    });
  });

  it('shows a failed build with its reason and no size, saving or source', () => {
    const [row] = serverDeltaRows([failed], kRelease, kFull);
    expect(row).toMatchObject({ state: 'failed', error: failed.error, sourceRelease: null, size: '—', saving: '—' });
    const [silent] = serverDeltaRows([{ ...failed, error: '' }], kRelease, kFull);
    expect(silent!.error).toBe('no reason given');
  });

  it('shows a queued build as waiting: nothing measured yet', () => {
    const [row] = serverDeltaRows([queued], kRelease, kFull);
    expect(row).toMatchObject({ state: 'queued', error: null, sourceRelease: null, size: '—', saving: '—', updated: '2026-06-01 07:00:00 UTC' });
  });

  it('reads fields a server left out or mangled as "—", never as numbers', () => {
    const partial = { release: kRelease, from_sha256: hex('a'), state: 'ready' } as unknown as ServerDelta;
    expect(serverDeltaRows([partial], kRelease, kFull)[0]).toMatchObject({ size: '—', saving: '—', updated: '—', sourceRelease: null });
    const odd = { ...ready, state: '', artifact_length: -5 } as unknown as ServerDelta;
    expect(serverDeltaRows([odd], kRelease, kFull)[0]).toMatchObject({ state: 'unknown', size: '—', saving: '—' });
  });

  it('has no rows for an empty list or a release without builds', () => {
    expect(serverDeltaRows([], kRelease, kFull)).toEqual([]);
    expect(serverDeltaRows([otherRelease], kRelease, kFull)).toEqual([]);
  });
});

describe('saving against the full artifact', () => {
  it('is the share not downloaded, rounded down so a tiny patch never reads 100 %', () => {
    expect(deltaSavingPercent(100, 400)).toBe(75);
    expect(deltaSavingPercent(43, 100)).toBe(57);
    expect(deltaSavingPercent(2, 3)).toBe(33.3);
    expect(deltaSavingPercent(1, 1_000_000)).toBe(99.9);
    expect(deltaSavingPercent(400, 400)).toBe(0);
    expect(deltaSavingPercent(500, 400)).toBe(-25);
  });
  it('is unknown without both lengths', () => {
    expect(deltaSavingPercent(undefined, 400)).toBeNull();
    expect(deltaSavingPercent(100, 0)).toBeNull();
    expect(deltaSavingPercent(Number.NaN, 400)).toBeNull();
    expect(deltaSavingPercent(100, -1)).toBeNull();
  });
  it('prints one decimal, "none" when nothing is saved', () => {
    expect(formatSaving(75)).toBe('75.0 %');
    expect(formatSaving(97.2)).toBe('97.2 %');
    expect(formatSaving(0)).toBe('none');
    expect(formatSaving(-25)).toBe('none');
    expect(formatSaving(null)).toBe('—');
  });
});

describe('counts per release', () => {
  it('counts builds per release and state for the releases list', () => {
    const counts = serverDeltaCounts([ready, failed, queued, otherRelease, { ...failed, from_sha256: hex('9') }]);
    expect(counts.get(kRelease)).toEqual({ ready: 1, queued: 1, failed: 2 });
    expect(formatServerDeltaCounts(counts.get(kRelease))).toBe('1 ready, 1 queued, 2 failed');
    expect(formatServerDeltaCounts(counts.get(otherRelease.release))).toBe('1 ready');
  });
  it('says "—" for a release without builds and ignores states it does not know', () => {
    const counts = serverDeltaCounts([{ ...ready, state: 'building' } as unknown as ServerDelta]);
    expect(counts.size).toBe(0);
    expect(formatServerDeltaCounts(serverDeltaCounts([]).get(kRelease))).toBe('—');
    expect(formatServerDeltaCounts({ ready: 0, queued: 0, failed: 0 })).toBe('—');
  });
});
