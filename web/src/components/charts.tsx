// Charts drawn with SVG attributes only: no inline style, so they render under style-src 'self'.
import { kDeviceDeploymentStates, type DeploymentCounts } from '../api/types';
import { countOf, totalDevices } from '../app/progress';
import { formatCount, humanize, percent } from '../util/format';

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
