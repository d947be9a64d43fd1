// The versions-over-time chart: history → series, axis, stacked geometry and text alternative.
import { describe, expect, it } from 'vitest';
import type { FleetHistory } from '../api/types';
import { describeHistory, historySeries, kOther, niceTicks, sampleIndexes, stackedAreas } from './history';

const h = (samples: Array<[string, Record<string, number>]>): FleetHistory => ({
  intervalSeconds: 3600,
  samples: samples.map(([at, versions]) => ({ at, versions })),
});

describe('history series', () => {
  it('orders samples by time and versions by what the fleet runs now', () => {
    const s = historySeries(
      h([
        ['2026-06-01T02:00:00Z', { v1: 1, v2: 2 }],
        ['2026-06-01T00:00:00Z', { v1: 3 }],
        ['2026-06-01T01:00:00Z', { v1: 2, v2: 1 }],
      ]),
    );
    expect(s.times).toEqual([Date.parse('2026-06-01T00:00:00Z'), Date.parse('2026-06-01T01:00:00Z'), Date.parse('2026-06-01T02:00:00Z')]);
    expect(s.series).toEqual([
      { name: 'v2', values: [0, 1, 2] },
      { name: 'v1', values: [3, 2, 1] },
    ]);
    expect(s.max).toBe(3);
  });
  it('folds the smallest versions into one series and ignores bad samples', () => {
    const s = historySeries(
      h([
        ['not a time', { bogus: 99 }],
        ['2026-06-01T00:00:00Z', { a: 5, b: 4, c: 1, d: 2, e: -3 }],
      ]),
      3,
    );
    expect(s.series).toEqual([
      { name: 'a', values: [5] },
      { name: 'b', values: [4] },
      { name: kOther, values: [3] },
    ]);
    expect(s.max).toBe(12);
  });
  it('names the devices without a reported version', () => {
    const s = historySeries(h([['2026-06-01T00:00:00Z', { '': 2, '1.0': 1 }]]));
    expect(s.series).toEqual([
      { name: 'unknown', values: [2] },
      { name: '1.0', values: [1] },
    ]);
  });
  it('is empty for a fresh server', () => {
    expect(historySeries({ intervalSeconds: 3600, samples: [] })).toEqual({ times: [], series: [], max: 0 });
    expect(stackedAreas(historySeries({ intervalSeconds: 3600, samples: [] }), 100, 50)).toEqual([]);
    expect(describeHistory(historySeries({ intervalSeconds: 3600, samples: [] }))).toBe('No samples yet.');
  });
});

describe('chart geometry', () => {
  it('rounds the axis to 1, 2 or 5 × 10^k steps', () => {
    expect(niceTicks(0)).toEqual([0, 1]);
    expect(niceTicks(3)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(7)).toEqual([0, 2, 4, 6, 8]);
    expect(niceTicks(96)).toEqual([0, 50, 100]);
    expect(niceTicks(100_000)).toEqual([0, 50_000, 100_000]);
  });
  it('stacks areas bottom-up with time on x', () => {
    const s = historySeries(
      h([
        ['2026-06-01T00:00:00Z', { v1: 2, v2: 0 }],
        ['2026-06-01T01:00:00Z', { v1: 1, v2: 1 }],
        ['2026-06-01T03:00:00Z', { v1: 0, v2: 2 }],
      ]),
    );
    const [v2, v1] = stackedAreas(s, 300, 100);
    // v2 sits on the baseline; x at 0, 100 (1 h of 3) and 300.
    expect(v2).toEqual({ name: 'v2', d: 'M0,100L100,50L300,0L300,100L100,100L0,100Z' });
    // v1 sits on top of v2; the stack is 2 high throughout, i.e. the full height.
    expect(v1).toEqual({ name: 'v1', d: 'M0,0L100,0L300,0L300,0L100,50L0,100Z' });
  });
  it('spreads a single sample over the whole width', () => {
    const [only] = stackedAreas(historySeries(h([['2026-06-01T00:00:00Z', { v1: 4 }]])), 200, 80, 8);
    expect(only?.d).toBe('M0,40L200,40L200,80L0,80Z');
  });
  it('keeps at most maxRows table rows, always with the latest', () => {
    expect(sampleIndexes(3, 5)).toEqual([0, 1, 2]);
    const rows = sampleIndexes(169, 48);
    expect(rows.length).toBeLessThanOrEqual(48);
    expect(rows.at(-1)).toBe(168);
    expect(sampleIndexes(10, 4)).toEqual([0, 3, 6, 9]);
  });
});

describe('text alternative', () => {
  it('says what runs now and what changed', () => {
    const s = historySeries(
      h([
        ['2026-06-01T00:00:00Z', { v1: 3 }],
        ['2026-06-01T01:00:00Z', { v1: 1, v2: 2 }],
      ]),
    );
    expect(describeHistory(s)).toBe('2 samples. Latest: 3 accepted devices, v2 on 2 (67 %), v1 on 1 (33 %). Over the period: v2 0 → 2; v1 3 → 1.');
    expect(describeHistory(historySeries(h([['2026-06-01T00:00:00Z', { v1: 1 }]])))).toBe('1 sample. Latest: 1 accepted device, v1 on 1 (100 %).');
  });
});
