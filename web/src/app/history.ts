// GET /api/v1/fleet/history → the series of the "versions over time" chart: one stacked area per
// image version, the smallest versions folded into "other", plus the chart's geometry and its
// text alternative. Pure, so the arithmetic is unit-tested without a browser.
import type { FleetHistory } from '../api/types';

export const kOther = 'other versions';

export interface Series {
  name: string;
  values: number[];
}

export interface HistorySeries {
  times: number[];
  series: Series[];
  // The largest number of devices in one sample (the top of the stack).
  max: number;
}

export const kUnknown = 'unknown';

// A device that has not reported its image version yet is counted under "unknown".
function named(versions: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [v, n] of Object.entries(versions)) {
    const k = v || kUnknown;
    out[k] = (out[k] ?? 0) + n;
  }
  return out;
}

// Versions are ranked by their count in the latest sample, then over the whole period, so the
// legend starts with what the fleet runs now. More than `maxSeries` versions: the rest are summed
// into one "other versions" series.
export function historySeries(history: FleetHistory, maxSeries = 6): HistorySeries {
  const samples = (history.samples ?? [])
    .map((s) => ({ t: Date.parse(s.at), versions: named(s.versions ?? {}) }))
    .filter((s) => !Number.isNaN(s.t))
    .sort((a, b) => a.t - b.t);
  const latest = samples.at(-1)?.versions ?? {};
  const totals = new Map<string, number>();
  for (const s of samples) for (const [v, n] of Object.entries(s.versions)) totals.set(v, (totals.get(v) ?? 0) + (n > 0 ? n : 0));
  const ranked = [...totals.keys()].sort(
    (a, b) => (latest[b] ?? 0) - (latest[a] ?? 0) || (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b),
  );
  const keep = ranked.length > maxSeries ? ranked.slice(0, Math.max(1, maxSeries - 1)) : ranked;
  const folded = ranked.slice(keep.length);
  const count = (versions: Record<string, number>, v: string) => Math.max(0, versions[v] ?? 0);
  const series: Series[] = keep.map((v) => ({ name: v, values: samples.map((s) => count(s.versions, v)) }));
  if (folded.length) {
    series.push({ name: kOther, values: samples.map((s) => folded.reduce((sum, v) => sum + count(s.versions, v), 0)) });
  }
  const max = Math.max(0, ...samples.map((_, i) => series.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)));
  return { times: samples.map((s) => s.t), series, max };
}

// A round axis maximum and its ticks: 0, step, 2·step … ≥ max, with step 1, 2 or 5 × 10^k.
export function niceTicks(max: number, count = 4): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const whole = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let v = 0; v < max + whole; v += whole) {
    ticks.push(v);
    if (v >= max) break;
  }
  return ticks;
}

export interface Area {
  name: string;
  d: string;
}

const r1 = (n: number) => Math.round(n * 10) / 10;

// One closed SVG path per series, stacked bottom-up in series order, over a width × height box
// with y growing downwards. Time is linear on x, so a gap in the samples shows as a gap in
// time; a single sample spans the whole width.
export function stackedAreas(h: HistorySeries, width: number, height: number, top = h.max): Area[] {
  const n = h.times.length;
  if (n === 0 || top <= 0) return [];
  const t0 = h.times[0] ?? 0;
  const span = (h.times[n - 1] ?? t0) - t0;
  const xs = n === 1 ? [0, width] : h.times.map((t) => (span > 0 ? ((t - t0) / span) * width : 0));
  const at = (values: number[]): number[] => (n === 1 ? [values[0] ?? 0, values[0] ?? 0] : values);
  const y = (v: number) => r1(height - (v / top) * height);
  let below = at(new Array<number>(n).fill(0));
  const areas: Area[] = [];
  for (const s of h.series) {
    const above = at(s.values).map((v, i) => v + (below[i] ?? 0));
    const upper = xs.map((x, i) => `${r1(x)},${y(above[i] ?? 0)}`);
    const lower = xs.map((x, i) => `${r1(x)},${y(below[i] ?? 0)}`).reverse();
    areas.push({ name: s.name, d: `M${upper.join('L')}L${lower.join('L')}Z` });
    below = above;
  }
  return areas;
}

// At most `maxRows` samples for the table alternative, evenly spread, always with the latest.
export function sampleIndexes(n: number, maxRows = 48): number[] {
  if (n <= maxRows) return Array.from({ length: n }, (_, i) => i);
  const step = Math.ceil(n / maxRows);
  const out: number[] = [];
  for (let i = (n - 1) % step; i < n; i += step) out.push(i);
  return out;
}

// One sentence for screen readers and the figure caption: what runs now, and what changed.
export function describeHistory(h: HistorySeries): string {
  const n = h.times.length;
  if (n === 0) return 'No samples yet.';
  const first = (s: Series) => s.values[0] ?? 0;
  const last = (s: Series) => s.values[n - 1] ?? 0;
  const lastTotal = h.series.reduce((sum, s) => sum + last(s), 0);
  const now = h.series
    .filter((s) => last(s) > 0)
    .map((s) => `${s.name} on ${last(s)} (${Math.round((last(s) / Math.max(1, lastTotal)) * 100)} %)`);
  const changes = h.series.filter((s) => first(s) !== last(s)).map((s) => `${s.name} ${first(s)} → ${last(s)}`);
  return (
    `${n} sample${n === 1 ? '' : 's'}. Latest: ${lastTotal} accepted device${lastTotal === 1 ? '' : 's'}` +
    (now.length ? `, ${now.join(', ')}.` : '.') +
    (n > 1 ? (changes.length ? ` Over the period: ${changes.join('; ')}.` : ' No change over the period.') : '')
  );
}
