// Charts drawn with SVG attributes only: no inline style, so they render under style-src 'self'.
import { kDeviceDeploymentStates, type DeploymentCounts } from '../api/types';
import { countOf, totalDevices } from '../app/progress';
import { describeHistory, kOther, niceTicks, sampleIndexes, stackedAreas, type HistorySeries } from '../app/history';
import { formatCount, formatTime, humanize, percent } from '../util/format';

export function BarList(props: { rows: Array<[string, number]>; label: string; max?: number; tone?: string }) {
  const total = props.rows.reduce((s, [, n]) => s + n, 0);
  const top = Math.max(1, ...props.rows.map(([, n]) => n));
  const rows = props.max ? props.rows.slice(0, props.max) : props.rows;
  const rest = props.rows.length - rows.length;
  return (
    <table class="barlist">
      <caption class="visually-hidden">{props.label}</caption>
      <thead class="visually-hidden">
        <tr>
          <th scope="col">Value</th>
          <th scope="col">Share</th>
          <th scope="col">Devices</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([name, n]) => (
          <tr key={name}>
            <th scope="row" class="barlist-name" title={name}>
              {name}
            </th>
            <td class="barlist-bar">
              <svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
                <rect class="bar-track" x="0" y="0" width="100" height="10" rx="2" />
                <rect class={`bar-fill ${props.tone ?? ''}`} x="0" y="0" width={(n / top) * 100} height="10" rx="2" />
              </svg>
              <span class="visually-hidden">{percent(n, total)} %</span>
            </td>
            <td class="barlist-count">{formatCount(n)}</td>
          </tr>
        ))}
        {rest > 0 ? (
          <tr>
            <td colSpan={3} class="muted small">
              and {rest} more
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

// One bar split by device state, with a legend that doubles as the accessible text.
export function StateBar(props: { counts: Partial<DeploymentCounts> }) {
  const total = totalDevices(props.counts);
  let x = 0;
  return (
    <div class="statebar">
      <svg viewBox="0 0 1000 20" preserveAspectRatio="none" aria-hidden="true" focusable="false">
        <rect class="bar-track" x="0" y="0" width="1000" height="20" rx="4" />
        {total > 0
          ? kDeviceDeploymentStates.map((s) => {
              const w = (countOf(props.counts, s) / total) * 1000;
              const r = <rect key={s} class={`seg seg-${s}`} x={x} y="0" width={w} height="20" />;
              x += w;
              return w > 0 ? r : null;
            })
          : null}
      </svg>
      <ul class="legend">
        {kDeviceDeploymentStates.map((s) => (
          <li key={s}>
            <span class={`swatch seg-${s}`} aria-hidden="true" />
            {humanize(s)} <strong>{formatCount(countOf(props.counts, s))}</strong>
          </li>
        ))}
      </ul>
    </div>
  );
}

// A thin progress meter built on <progress>, which carries its own accessible semantics.
export function Meter(props: { value: number; max: number; label: string }) {
  return (
    <progress class="meter" value={props.value} max={Math.max(1, props.max)} aria-label={props.label}>
      {percent(props.value, props.max)} %
    </progress>
  );
}

// Versions across the fleet over time: stacked areas, one per image version, with a legend, a
// one-sentence caption and the numbers as a table (collapsed) for screen readers and copying.
const kW = 720;
const kH = 220;
const kLeft = 44;
const kBottom = 22;
const kTop = 8;
const kRight = 10;

function shortTime(t: number, spanMs: number): string {
  const iso = new Date(t).toISOString();
  // Within two days the hour matters (the second under an hour); over longer periods the date.
  if (spanMs < 3600_000) return iso.slice(11, 19);
  return spanMs <= 2 * 86400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(5, 10);
}

export function seriesClass(h: HistorySeries, name: string): string {
  if (name === kOther) return 'area-other';
  return `area-${h.series.findIndex((s) => s.name === name) % 6}`;
}

export function HistoryChart(props: { history: HistorySeries; label: string; id: string }) {
  const h = props.history;
  const plotW = kW - kLeft - kRight;
  const plotH = kH - kTop - kBottom;
  const ticks = niceTicks(h.max);
  const top = ticks[ticks.length - 1] ?? 1;
  const areas = stackedAreas(h, plotW, plotH, top);
  const n = h.times.length;
  const first = h.times[0] ?? 0;
  const last = h.times[n - 1] ?? first;
  const span = last - first;
  const xLabels =
    n === 0
      ? []
      : n === 1
        ? [{ x: plotW / 2, t: first, anchor: 'middle' }]
        : [
            { x: 0, t: first, anchor: 'start' },
            { x: plotW / 2, t: (first + last) / 2, anchor: 'middle' },
            { x: plotW, t: last, anchor: 'end' },
          ];
  const description = describeHistory(h);
  const rows = sampleIndexes(n);
  return (
    <figure class="history-chart">
      {/* Scrolls sideways on narrow screens rather than shrinking the axis labels to nothing;
          focusable so that keyboard users can scroll it too. */}
      <div class="chart-scroll" tabIndex={0} role="group" aria-label={`${props.label} (chart)`}>
        <svg viewBox={`0 0 ${kW} ${kH}`} role="img" aria-labelledby={`${props.id}-title ${props.id}-desc`} focusable="false">
          <title id={`${props.id}-title`}>{props.label}</title>
          <desc id={`${props.id}-desc`}>{description}</desc>
          <g transform={`translate(${kLeft} ${kTop})`}>
            {ticks.map((v) => {
              const y = plotH - (v / top) * plotH;
              return (
                <g key={v} class="axis">
                  <line class="gridline" x1="0" x2={plotW} y1={y} y2={y} />
                  <text x="-6" y={y} dy="0.32em" text-anchor="end">
                    {formatCount(v)}
                  </text>
                </g>
              );
            })}
            {areas.map((a) => (
              <path key={a.name} class={`area ${seriesClass(h, a.name)}`} d={a.d} />
            ))}
            {xLabels.map((l) => (
              <text key={l.anchor} class="axis" x={l.x} y={plotH + 16} text-anchor={l.anchor}>
                {shortTime(l.t, span)}
              </text>
            ))}
          </g>
        </svg>
      </div>
      <ul class="legend">
        {h.series.map((s) => (
          <li key={s.name}>
            <span class={`swatch ${seriesClass(h, s.name)}`} aria-hidden="true" />
            {s.name} <strong>{formatCount(s.values[n - 1] ?? 0)}</strong>
          </li>
        ))}
      </ul>
      <figcaption class="muted small">{description} Times in UTC.</figcaption>
      <details class="chart-data">
        <summary>Show the numbers as a table</summary>
        <div class="table-wrap">
          <table class="table">
            <caption class="visually-hidden">{props.label}: devices per version at each sample</caption>
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
                {h.series.map((s) => (
                  <th key={s.name} scope="col">
                    {s.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((i) => (
                <tr key={i}>
                  <th scope="row" class="nowrap">{formatTime(new Date(h.times[i] ?? 0).toISOString())}</th>
                  {h.series.map((s) => (
                    <td key={s.name}>{formatCount(s.values[i] ?? 0)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {rows.length < n ? (
          <p class="muted small">
            One row every {Math.ceil(n / rows.length)} samples ({formatCount(n)} in all), up to the latest.
          </p>
        ) : null}
      </details>
    </figure>
  );
}
